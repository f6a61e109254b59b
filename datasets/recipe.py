"""Named, versioned data-set recipes and their registry.

A recipe turns the PDE engine into samples: for a batch of per-sample seeds it returns
inputs ``[b, C_in, *S]`` and outputs ``[b, C_out, *S]`` on its Grid. Sample ``i`` depends
only on its seed (:func:`sample_seeds`), so a data set is the same whatever the number of
workers or MPI ranks that made it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from sciml.grid import Grid

__all__ = ["Recipe", "SampleBatch", "sample_seeds", "child_seeds"]


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
    #: numeric parameters that may be negative (every other number must be >= 0)
    signed_params: ClassVar[tuple[str, ...]] = ()
    #: the smallest valid settings (tiny grid, few steps): the recipe contract test
    #: (:mod:`sciml.testing.recipes`) generates two samples with them
    small_params: ClassVar[dict[str, Any]] = {}
    #: working memory of one sample per point of its output grid, in bytes (a FEniCSx solve on
    #: a mesh twice as fine with its matrices and fields: ~2 KB per point; recipes whose
    #: solvers need more per point override it)
    bytes_per_point: ClassVar[int] = 2048
    #: nodal fields of the per-sample meshes (``SampleBatch.meshes``) that are a mesh
    #: operator's inputs (none: the geometry alone) and outputs; a recipe with mesh outputs
    #: is a *mesh recipe* (:mod:`sciml.datasets.mesh_files`) and its files say so
    mesh_input_names: ClassVar[tuple[str, ...]] = ()
    mesh_output_names: ClassVar[tuple[str, ...]] = ()
    mesh_cell_type: ClassVar[str] = "triangle"

    def params(self, overrides: dict[str, Any] | None = None) -> Any:
        """The recipe's parameters with ``overrides`` (values may be strings from the CLI).

        Every value is checked before anything touches the disk: its type (strings are parsed
        as the type of the default), finite numbers, no negative numbers except
        :attr:`signed_params`, then the recipe's own :meth:`validate`. A bad value raises
        ``ValueError`` naming the parameter.
        """
        if overrides is not None and not isinstance(overrides, dict):
            raise TypeError(f"params must be a dict, got {type(overrides).__name__}")
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
            kwargs[key] = _check_type(key, value, default)
        p = self.Params(**kwargs)
        self._check_numbers(p)
        self.validate(p)
        return p

    def _check_numbers(self, p: Any) -> None:
        for f in dataclasses.fields(p):
            v = getattr(p, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            if not math.isfinite(v):
                raise ValueError(f"params: {f.name} must be a finite number, got {v!r}")
            if v < 0 and f.name not in self.signed_params:
                raise ValueError(f"params: {f.name} must be >= 0, got {v!r}")

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

    def memory_estimate(self, p: Any, n: int, *, workers: int = 1) -> float:
        """Bytes a generation of ``n`` samples needs at once: each worker's batch (its solver
        working memory and the samples' arrays) and the per-sample bookkeeping (seeds, done
        flags, index arrays: 32 bytes each)."""
        shape_in, shape_out = self.shapes(p)
        points = math.prod(self.grid(p).shape)
        sample = 8 * (math.prod(shape_in) + math.prod(shape_out))
        batch = self.batch_size * (self.bytes_per_point * points + sample)
        return max(1, workers) * batch + 32 * n

    def worker(self, p: Any) -> Callable[[np.ndarray], SampleBatch]:
        """Build (once per process) the function that computes a batch of seeds."""
        raise NotImplementedError


def _check_type(key: str, value: Any, default: Any) -> Any:
    """``value`` as the type of the parameter's ``default`` (ints are floats too)."""
    if isinstance(default, bool):
        ok = isinstance(value, (bool, np.bool_))
        value = bool(value) if ok else value
    elif isinstance(default, int):
        ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
        value = int(value) if ok else value
    elif isinstance(default, float):
        ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, (bool, np.bool_)
        )
        value = float(value) if ok else value
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise ValueError(
            f"params: {key} must be a {type(default).__name__}, got {type(value).__name__} "
            f"{value!r}"
        )
    return value


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


def child_seeds(seeds: np.ndarray, k: int) -> np.ndarray:
    """Seeds (int64 >= 0) of the ``k``-th independent stream of each sample seed in ``seeds``.

    Use it where one sample needs several random fields: splitmix64 of ``(seed, k)`` in
    unsigned arithmetic, so it never overflows (``seeds * 3 + k`` in int64 does for the large
    seeds :func:`sample_seeds` gives).

    >>> bool(child_seeds(sample_seeds(0, 2), 1).min() >= 0)
    True
    """
    s = np.asarray(seeds)
    if s.size and s.min() < 0:
        raise ValueError(f"seeds must be non-negative, got {s.min()}")
    with np.errstate(over="ignore"):
        z = s.astype(np.uint64) * np.uint64(_GOLD) + np.uint64(int(k) + 1)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(1)).astype(np.int64)
