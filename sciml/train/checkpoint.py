"""Checkpoints (training state, exact resume) and saved models (inference): ONE format for all.

Two kinds of file, both written atomically (:func:`sciml.io.atomic_save`) and both read with
``torch.load(..., weights_only=True)`` and a schema check (:func:`sciml.io.safe_torch_load`), so
a file someone sent never runs code and a wrong file gets an error naming the file and field:

* a **training checkpoint** (:func:`save_checkpoint` / :func:`load_checkpoint`): the trained
  module's ``state_dict`` (normalisers ride in it), optimiser, scheduler, RNG states of
  python/numpy/torch(/CUDA) stored as tensors and plain numbers, epoch, history, config and the
  task's own state -- everything to continue a run bit-for-bit;
* a **saved model** (:func:`save_model` / :func:`load_model`, format ``sciml-model-v2``): the
  registry spec of the model (``{"name", "kwargs"}``, set by
  :func:`sciml.operators.registry.build`), its normalisers when it is a
  :class:`NormalizedOperator`, float weights and an ``extra`` dict; :func:`load_model` rebuilds
  it in a fresh process. Other families (e.g. the learned-CG network in ``sciml.solvers``) write
  the same format with :func:`sciml.io.atomic_save` and read it with :func:`read_model_file`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sciml.io import FileFormatError, atomic_save, check_fields, safe_torch_load
from sciml.train.normalizers import GaussianNormalizer, NormalizedOperator

__all__ = [
    "MODEL_FORMAT",
    "get_rng_state",
    "set_rng_state",
    "save_checkpoint",
    "load_checkpoint",
    "model_file_payload",
    "read_model_file",
    "save_model",
    "load_model",
]

MODEL_FORMAT = "sciml-model-v2"
_OLD_MODEL_FORMAT = "sciml-model-v1"
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


def model_file_payload(
    spec: dict,
    state_dict: dict[str, Any],
    *,
    normalizers: dict | None = None,
    extra: dict | None = None,
) -> dict:
    """The ``sciml-model-v2`` dict: ``spec``, CPU float weights, normalisers, ``extra``."""
    if not (isinstance(spec, dict) and isinstance(spec.get("name"), str)):
        raise ValueError(f"spec must be a dict with a 'name', got {spec!r}")
    return {
        "format": MODEL_FORMAT,
        "spec": {"name": spec["name"], "kwargs": dict(spec.get("kwargs", {}))},
        "normalizers": normalizers,
        "state_dict": {
            k: v.detach().cpu() if isinstance(v, torch.Tensor) else v for k, v in state_dict.items()
        },
        "extra": dict(extra or {}),
    }


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


def read_model_file(
    path: str | Path,
    *,
    names: tuple[str, ...] | None = None,
    map_location: str | torch.device = "cpu",
) -> dict:
    """Read and check a saved model file; ``names``: the model names the caller can build."""
    payload = safe_torch_load(path, what="model file", map_location=map_location)
    if isinstance(payload, dict) and payload.get("format") == _OLD_MODEL_FORMAT:
        payload = {  # v1: normalisers stored as two top-level keys, always wrapped
            **payload,
            "normalizers": {"x": payload.get("x_norm"), "y": payload.get("y_norm")},
        }
    else:
        check_fields(payload, {"format": str}, path=path, what="model file")
        if payload["format"] != MODEL_FORMAT:
            raise FileFormatError(
                f"model file {str(path)!r} has format {payload['format']!r}, expected "
                f"{MODEL_FORMAT!r}"
            )
    check_fields(
        payload,
        {"spec": dict, "state_dict": dict, "extra": dict, "normalizers": (dict, type(None))},
        path=path,
        what="model file",
    )
    spec = payload["spec"]
    if not isinstance(spec.get("name"), str) or not isinstance(spec.get("kwargs", {}), dict):
        raise FileFormatError(
            f"model file {str(path)!r}: field 'spec' must hold a 'name' string and 'kwargs' dict"
        )
    if names is not None and spec["name"] not in names:
        raise FileFormatError(
            f"model file {str(path)!r} holds a {spec['name']!r} model; expected one of "
            f"{sorted(names)}"
        )
    bad = [k for k, v in payload["state_dict"].items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise FileFormatError(f"model file {str(path)!r}: state_dict entry {bad[0]!r} is no tensor")
    return payload


def load_model(
    path: str | Path,
    map_location: str | torch.device = "cpu",
    *,
    build: Callable[..., nn.Module] | None = None,
) -> tuple[nn.Module, dict]:
    """Rebuild a model saved by :func:`save_model`; returns ``(model in eval mode, extra)``.

    The model is a :class:`NormalizedOperator` when it was saved as one (operators trained by the
    Trainer), else the bare registry model. ``build(name, **kwargs)`` defaults to
    :func:`sciml.operators.registry.build`.
    """
    if build is None:
        from sciml.operators.registry import MODELS
        from sciml.operators.registry import build as build_fn

        build, names = build_fn, tuple(MODELS)
    else:
        names = None
    payload = read_model_file(path, names=names)
    spec = payload["spec"]
    try:
        model = build(spec["name"], **spec.get("kwargs", {}))
    except (TypeError, ValueError) as exc:
        raise FileFormatError(
            f"model file {str(path)!r}: cannot build {spec['name']!r} from its spec ({exc})"
        ) from None
    if payload["normalizers"] is not None:
        norms = payload["normalizers"]
        norms = [GaussianNormalizer(**s) if s else None for s in (norms.get("x"), norms.get("y"))]
        model = NormalizedOperator(model, *norms)
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise FileFormatError(
            f"model file {str(path)!r}: weights do not fit a {spec['name']!r} model built from "
            f"its spec ({first[:160]})"
        ) from None
    return model.to(map_location).eval(), payload["extra"]
