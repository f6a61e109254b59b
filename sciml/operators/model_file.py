"""Operator model files: :func:`load_operator` rebuilds a model saved by
:func:`sciml.train.checkpoint.save_model` (or the Trainer) through the one loader,
:func:`sciml.io.load_model_file`, with the operator registry as its builder.

>>> import tempfile, pathlib
>>> from sciml.operators.registry import build
>>> from sciml.train.checkpoint import save_model
>>> p = pathlib.Path(tempfile.mkdtemp()) / "m.pt"
>>> _ = save_model(p, build("unet", in_channels=1, out_channels=1, width=4, levels=1))
>>> load_operator(p)[0].spec["name"]
'unet'
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from sciml.io import load_model_file
from sciml.operators.registry import MODELS, build
from sciml.train.normalizers import GaussianNormalizer, NormalizedOperator

__all__ = ["load_operator"]


def _build(payload: dict) -> nn.Module:
    spec = payload["spec"]
    model = build(spec["name"], **spec.get("kwargs", {}))
    if payload["normalizers"] is not None:
        norms = payload["normalizers"]
        norms = [GaussianNormalizer(**s) if s else None for s in (norms.get("x"), norms.get("y"))]
        model = NormalizedOperator(model, *norms)
    return model


def load_operator(
    path: str | Path, map_location: str | torch.device = "cpu"
) -> tuple[nn.Module, dict]:
    """Rebuild a saved operator; returns ``(model in eval mode, extra)``.

    The model is a :class:`~sciml.train.normalizers.NormalizedOperator` when it was saved as one
    (operators trained by the Trainer), else the bare registry model.
    """
    return load_model_file(path, _build, names=tuple(MODELS), map_location=map_location)
