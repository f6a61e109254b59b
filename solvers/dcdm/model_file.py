"""DCDM model files: the package's one model format (``sciml-model-v2``), read without running code.

A model file holds the network's spec (``{"name": "dcdm-net", "kwargs": ...}``), float32 weights
and a *model card* in ``extra``: the training command, the data recipe, optimiser steps, wall
time, threads and device, and the best validation score. :func:`load_model` reads it with
``torch.load(weights_only=True)`` and a schema check (:func:`sciml.train.checkpoint.
read_model_file`), so a file someone sent never runs code, and a wrong file gets an error that
names the file and the field.

The shipped model is ``solvers/dcdm/models/dcdm3d.pt`` (:data:`DEFAULT_MODEL`); its README
gives the command that reproduces it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sciml.io import FileFormatError, atomic_save
from sciml.solvers.dcdm.network import DCDMNet
from sciml.train.checkpoint import model_file_payload, read_model_file

__all__ = ["DEFAULT_MODEL", "MODEL_NAME", "load_model", "save_model"]

DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "dcdm3d.pt"
MODEL_NAME = "dcdm-net"


def save_model(model: DCDMNet, path: str | Path, card: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (float32 weights) and its ``card`` (JSON-like) atomically to ``path``."""
    inner = getattr(model, "_orig_mod", model)
    if not isinstance(inner, DCDMNet):
        raise TypeError(f"model must be a DCDMNet, got {type(inner).__name__}")
    state = {k: v.detach().float().cpu() for k, v in inner.state_dict().items()}
    payload = model_file_payload(inner.spec, state, extra=card or {})
    return atomic_save(payload, path)


def load_model(path: str | Path | None = None, *, map_location="cpu") -> DCDMNet:
    """Load a DCDM model file (default: the shipped 3-D model), in eval mode.

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
    payload = read_model_file(path, names=(MODEL_NAME,), map_location="cpu")
    try:
        net = DCDMNet(**payload["spec"]["kwargs"])
    except (TypeError, ValueError) as exc:
        raise FileFormatError(
            f"model file {str(path)!r}: field 'spec' does not build a DCDMNet ({exc})"
        ) from None
    try:
        net.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise FileFormatError(
            f"model file {str(path)!r}: field 'state_dict' does not fit its spec ({first[:160]})"
        ) from None
    net.card = dict(payload["extra"])
    net.source = str(path)
    return net.to(map_location).eval()
