"""Checkpoints (training state, exact resume) and saved models (inference): ONE format for all.

Two kinds of file, both written atomically (:func:`sciml.io.atomic_save`) and both read with
``torch.load(..., weights_only=True)`` and a schema check (:func:`sciml.io.safe_torch_load`), so
a file someone sent never runs code and a wrong file gets an error naming the file and field:

* a **training checkpoint** (:func:`save_checkpoint` / :func:`load_checkpoint`): the trained
  module's ``state_dict`` (normalisers ride in it), optimiser, scheduler, RNG states of
  python/numpy/torch(/CUDA) stored as tensors and plain numbers, epoch, history, config and the
  task's own state -- everything to continue a run bit-for-bit;
* a **saved model** (:func:`save_model`, format ``sciml-model-v2`` of :mod:`sciml.io`): the
  spec of the model (``{"name", "kwargs"}``, set by :func:`sciml.operators.registry.build`),
  its normalisers when it is a :class:`NormalizedOperator`, float weights and an ``extra``
  dict. Every family reads model files through the one loader,
  :func:`sciml.io.load_model_file`, with a builder of its own (operators:
  :func:`sciml.operators.load_operator`).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sciml.io import (
    MODEL_FORMAT,
    FileFormatError,
    atomic_save,
    check_fields,
    model_file_payload,
    safe_torch_load,
)
from sciml.train.normalizers import GaussianNormalizer, NormalizedOperator

__all__ = [
    "MODEL_FORMAT",
    "get_rng_state",
    "set_rng_state",
    "save_checkpoint",
    "load_checkpoint",
    "save_model",
]

CHECKPOINT_FORMAT = "sciml-checkpoint-v2"


def get_rng_state() -> dict[str, Any]:
    """RNG states of python, numpy, torch CPU and every CUDA device (tensors and plain data)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002 (global state)
    state = {
        "python": random.getstate(),
        "numpy": {
            "kind": str(kind),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`get_rng_state` returned."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    n = state["numpy"]
    np.random.set_state(  # noqa: NPY002
        (
            n["kind"],
            n["keys"].numpy().astype(np.uint32),
            n["pos"],
            n["has_gauss"],
            n["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write a training checkpoint ``state`` (state_dicts, tensors and plain values only)."""
    return atomic_save({"format": CHECKPOINT_FORMAT, **state}, path)


_CHECKPOINT_SCHEMA = {
    "format": str,
    "epoch": int,
    "model": dict,
    "optimizer": dict,
    "rng": dict,
    "config": dict,
    "history": list,
}


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Read a training checkpoint written by :func:`save_checkpoint` (no code runs)."""
    state = safe_torch_load(path, what="checkpoint", map_location=map_location)
    check_fields(state, _CHECKPOINT_SCHEMA, path=path, what="checkpoint")
    if state["format"] != CHECKPOINT_FORMAT:
        raise FileFormatError(
            f"checkpoint {str(path)!r} has format {state['format']!r}, expected "
            f"{CHECKPOINT_FORMAT!r}"
        )
    return state


def _norm_spec(n: GaussianNormalizer | None) -> dict | None:
    return (
        None if n is None else {"channels": n.channels, "per_channel": n.per_channel, "eps": n.eps}
    )


def model_spec(module: nn.Module) -> dict | None:
    """The registry spec ``{"name", "kwargs"}`` of ``module`` (through ``torch.compile``)."""
    inner = getattr(module, "_orig_mod", module)
    return getattr(inner, "spec", None)


def save_model(path: str | Path, model: nn.Module, extra: dict | None = None) -> Path:
    """Save ``model`` (a registry-built model, or a :class:`NormalizedOperator` around one).

    The model must carry ``model.spec`` (set by :func:`sciml.operators.registry.build`).
    ``extra`` (JSON-like) is stored alongside, e.g. the rollout settings.
    """
    inner = model.model if isinstance(model, NormalizedOperator) else model
    spec = model_spec(inner)
    if spec is None:
        raise ValueError(
            "model has no .spec; build it with sciml.operators.registry.build(name, **kwargs)"
        )
    norms = None
    if isinstance(model, NormalizedOperator):
        norms = {"x": _norm_spec(model.x_norm), "y": _norm_spec(model.y_norm)}
    return atomic_save(
        model_file_payload(spec, model.state_dict(), normalizers=norms, extra=extra), path
    )
