"""DCDM model files: the package's one model format (``sciml-model-v2``), read without running code.

A model file holds the network's spec (``{"name": "dcdm-net", "kwargs": ...}``), float32 weights
and a *model card* in ``extra``: the training command, the data recipe, optimiser steps, wall
time, threads and device, and the best validation score. :func:`load_dcdm` reads it through the one loader
(:func:`sciml.io.load_model_file`: ``torch.load(weights_only=True)`` and a schema check), so a file someone sent never runs code, and a wrong file gets an error that
names the file and the field.

The shipped model is the model zoo's ``dcdm-3d`` (:data:`DEFAULT_MODEL`, ``sciml models info
dcdm-3d``); its card gives the command that reproduces it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sciml
from sciml.io import atomic_save, load_model_file, model_file_payload
from sciml.solvers.dcdm.network import DCDMNet

__all__ = ["DEFAULT_MODEL", "MODEL_NAME", "load_dcdm", "save_model"]

DEFAULT_MODEL = Path(sciml.__file__).resolve().parent / "zoo" / "dcdm-3d.pt"
MODEL_NAME = "dcdm-net"


def save_model(model: DCDMNet, path: str | Path, card: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (float32 weights) and its ``card`` (JSON-like) atomically to ``path``."""
    inner = getattr(model, "_orig_mod", model)
    if not isinstance(inner, DCDMNet):
        raise TypeError(f"model must be a DCDMNet, got {type(inner).__name__}")
    state = {k: v.detach().float().cpu() for k, v in inner.state_dict().items()}
    payload = model_file_payload(inner.spec, state, extra=card or {})
    return atomic_save(payload, path)


def load_dcdm(path: str | Path | None = None, *, map_location="cpu") -> DCDMNet:
    """Load a DCDM model file (default: the shipped 3-D model), in eval mode, through the one
    loader :func:`sciml.io.load_model_file`.

    The returned network carries the file's model card as ``model.card`` (a dict).

    Raises:
        FileNotFoundError: no such file.
        FileFormatError: not a ``dcdm-net`` model file, or weights that do not fit its spec.
    """
    path = Path(path) if path is not None else DEFAULT_MODEL
    if not path.is_file():
        raise FileNotFoundError(
            f"DCDM model file {str(path)!r} not found; train one with `sciml train-dcdm`"
        )
    net, card = load_model_file(
        path,
        lambda payload: DCDMNet(**payload["spec"]["kwargs"]),
        names=(MODEL_NAME,),
        map_location=map_location,
    )
    net.card = dict(card)
    net.source = str(path)
    return net
