"""Checkpoints (training state, exact resume) and saved models (inference).

Two kinds of file, both written atomically (temporary file + ``os.replace``, so a killed run
never leaves a half-written file):

* a **training checkpoint** (:func:`save_checkpoint`): model, optimiser, scheduler (normalisers
  ride in the model's ``state_dict``), RNG states of python/numpy/torch(/CUDA), epoch, history
  and config -- everything to continue a run bit-for-bit;
* a **saved model** (:func:`save_model` / :func:`load_model`): the registry spec of the model,
  its normalisers and weights; :func:`load_model` rebuilds it in a fresh process.

Files are written with ``torch.save``; load only files you trust (they are unpickled).
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sciml.train.normalizers import GaussianNormalizer, NormalizedOperator

__all__ = [
    "get_rng_state",
    "set_rng_state",
    "save_checkpoint",
    "load_checkpoint",
    "save_model",
    "load_model",
]

MODEL_FORMAT = "sciml-model-v1"


def get_rng_state() -> dict[str, Any]:
    """RNG states of python, numpy, torch CPU and every CUDA device."""
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),  # noqa: NPY002 (global state is what we save)
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`get_rng_state` returned."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])  # noqa: NPY002
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _atomic_save(obj: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write a training checkpoint ``state`` (a dict of state_dicts and plain values)."""
    return _atomic_save(state, path)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Read a training checkpoint written by :func:`save_checkpoint`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    return torch.load(path, map_location=map_location, weights_only=False)


def _norm_spec(n: GaussianNormalizer | None) -> dict | None:
    return (
        None if n is None else {"channels": n.channels, "per_channel": n.per_channel, "eps": n.eps}
    )


def save_model(path: str | Path, model: nn.Module, extra: dict | None = None) -> Path:
    """Save ``model`` (a registry-built model or a :class:`NormalizedOperator` around one).

    The model must carry ``model.spec`` (set by :func:`sciml.operators.registry.build`).
    ``extra`` (JSON-like) is stored alongside, e.g. the rollout settings.
    """
    op = model if isinstance(model, NormalizedOperator) else NormalizedOperator(model)
    inner = getattr(op.model, "_orig_mod", op.model)
    spec = getattr(inner, "spec", None)
    if spec is None:
        raise ValueError(
            "model has no .spec; build it with sciml.operators.registry.build(name, **kwargs)"
        )
    payload = {
        "format": MODEL_FORMAT,
        "spec": spec,
        "x_norm": _norm_spec(op.x_norm),
        "y_norm": _norm_spec(op.y_norm),
        "state_dict": {
            k: v.detach().cpu() if isinstance(v, torch.Tensor) else v
            for k, v in op.state_dict().items()
        },
        "extra": extra or {},
    }
    return _atomic_save(payload, path)


def load_model(
    path: str | Path, map_location: str | torch.device = "cpu"
) -> tuple[NormalizedOperator, dict]:
    """Rebuild a model saved by :func:`save_model`; returns ``(operator in eval mode, extra)``."""
    from sciml.operators.registry import build

    payload = load_checkpoint(path, map_location)
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise ValueError(f"{str(path)!r} is not a sciml saved model ({MODEL_FORMAT})")
    model = build(payload["spec"]["name"], **payload["spec"]["kwargs"])
    norms = [GaussianNormalizer(**s) if s else None for s in (payload["x_norm"], payload["y_norm"])]
    op = NormalizedOperator(model, *norms)
    op.load_state_dict(payload["state_dict"])
    return op.to(map_location).eval(), payload["extra"]
