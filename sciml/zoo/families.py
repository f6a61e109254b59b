"""Which loader reads a zoo model: the family named on its card, mapped to that family's
builder around the one safe loader (:func:`sciml.io.load_model_file`)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from sciml.operators.model_file import load_operator
from sciml.solvers.dcdm import load_dcdm
from sciml.solvers.multigrid import load_lmg
from sciml.traversal.model import load_traversal_model, load_vae

__all__ = ["FAMILIES", "load_family"]

#: card family -> loader (path, map_location) -> module
FAMILIES = {
    "operator": lambda p, dev: load_operator(p, dev)[0],
    "dcdm": lambda p, dev: load_dcdm(p, map_location=dev),
    "lmg": lambda p, dev: load_lmg(p).to(dev),
    "traversal": lambda p, dev: load_traversal_model(p, dev)[0],
    "vae": lambda p, dev: load_vae(p, dev)[0],
}


def load_family(family: str, path: Path, map_location: str | torch.device = "cpu") -> nn.Module:
    """The model in ``path`` read by the loader of ``family`` (one of :data:`FAMILIES`)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r}; known: {sorted(FAMILIES)}")
    return FAMILIES[family](path, map_location)
