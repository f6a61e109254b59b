"""Named, versioned data-set recipes and their registry.

A recipe turns the PDE engine into samples: for a batch of per-sample seeds it returns
inputs ``[b, C_in, *S]`` and outputs ``[b, C_out, *S]`` on its Grid. Sample ``i`` depends
only on its seed (:func:`sample_seeds`), so a data set is the same whatever the number of
workers or MPI ranks that made it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from sciml.grid import Grid

__all__ = ["Recipe", "SampleBatch", "sample_seeds"]


@dataclass
class SampleBatch:
    """What a recipe worker returns for a batch of ``b`` seeds."""

    inputs: np.ndarray  # [b, C_in, *S] float32
    outputs: np.ndarray  # [b, C_out, *S] float32
    extras: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)  # each [b, ...]
    #: per-sample meshes (recipes whose mesh changes per sample): dicts with ``points``,
    #: ``cells`` and nodal value arrays, stored under ``/meshes/<index>/``
    meshes: list[dict[str, np.ndarray]] | None = None
    #: one mesh shared by every sample (``points``, ``cells``), stored once under ``/mesh``
    shared_mesh: dict[str, np.ndarray] | None = None


class Recipe:
    """Base class: subclasses set ``name``, ``version``, ``Params`` and implement the hooks."""

    name: ClassVar[str]
    version: ClassVar[int] = 1
    description: ClassVar[str] = ""
    Params: ClassVar[type]
    #: samples computed together (batched solvers); fixed per recipe so that the samples
    #: do not depend on how work is split
    batch_size: ClassVar[int] = 1
    input_names: ClassVar[tuple[str, ...]] = ("input",)
    output_names: ClassVar[tuple[str, ...]] = ("output",)

    def params(self, overrides: dict[str, Any] | None = None) -> Any:
        """The recipe's parameters with ``overrides`` (values may be strings from the CLI)."""
        fields = {f.name: f for f in dataclasses.fields(self.Params)}
        kwargs = {}
        for key, value in (overrides or {}).items():
            if key not in fields:
                raise ValueError(
                    f"params: unknown parameter {key!r} for recipe {self.name!r}; "
                    f"known: {sorted(fields)}"
                )
            default = fields[key].default
            if isinstance(value, str) and not isinstance(default, str):
                value = _parse(key, value, default)
            kwargs[key] = value
        p = self.Params(**kwargs)
        self.validate(p)
        return p

    def validate(self, p: Any) -> None:
        """Raise ValueError for bad parameter values (override)."""

    def grid(self, p: Any) -> Grid:
        raise NotImplementedError

    def channels(self, p: Any) -> tuple[int, int]:
        return len(self.input_names), len(self.output_names)

    def shapes(self, p: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Per-sample shapes of inputs and outputs; default ``[C, *grid.shape]`` each."""
        c_in, c_out = self.channels(p)
        shape = self.grid(p).shape
        return (c_in, *shape), (c_out, *shape)

    def worker(self, p: Any) -> Callable[[np.ndarray], SampleBatch]:
        """Build (once per process) the function that computes a batch of seeds."""
        raise NotImplementedError


def _parse(key: str, text: str, default: Any) -> Any:
    """A CLI string as the type of the parameter's default."""
    if isinstance(default, bool):
        if text.lower() not in ("1", "0", "true", "false", "yes", "no"):
            raise ValueError(f"params: {key} must be true or false, got {text!r}")
        return text.lower() in ("1", "true", "yes")
    try:
        return type(default)(text)
    except ValueError:
        raise ValueError(
            f"params: {key} must be a {type(default).__name__}, got {text!r}"
        ) from None


_M1, _M2, _GOLD = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0x9E3779B97F4A7C15


def sample_seeds(base_seed: int, indices: np.ndarray | int) -> np.ndarray:
    """Per-sample seeds (int64 >= 0): splitmix64 of ``(base_seed, index)``, vectorised."""
    idx = np.arange(indices) if np.isscalar(indices) else np.asarray(indices)
    with np.errstate(over="ignore"):
        z = np.uint64(base_seed) * np.uint64(_GOLD) + idx.astype(np.uint64) + np.uint64(1)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(1)).astype(np.int64)
