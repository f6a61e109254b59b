"""The model zoo: trained weights that ship with the package, each with a model card.

Every model is a ``NAME.pt`` file in the package's one model format (``sciml-model-v2``, read
with ``torch.load(weights_only=True)`` through :func:`sciml.io.load_model_file`) beside its card
``NAME.json``: what it is, the exact command that made it, the recipe and its version, the
seed, the optimiser steps, the wall time and machine, the metrics with the date they were
measured, and how to measure them again (``eval``: re-evaluated by ``sciml models eval NAME``
on a fresh sample of the card's recipe).

A name can stand wherever a model file or run folder goes, as ``zoo:NAME`` on the command
line (``sciml invert darcy zoo:dgno-two-phase --obs obs.json --out inv``) and in Python:

>>> names()[:2]
['dcdm-3d', 'lmg-2d']
>>> card("dcdm-3d")["family"]
'dcdm'
>>> resolve("zoo:lmg-3d").name
'lmg-3d.pt'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from sciml.io import FileFormatError, read_json
from sciml.zoo.families import load_family

__all__ = ["ZOO", "PREFIX", "card", "is_zoo_name", "load", "names", "path", "resolve"]

#: the folder of the shipped models
ZOO = Path(__file__).resolve().parent
#: how a zoo model is named where a path goes
PREFIX = "zoo:"
#: per-model and whole-zoo size limits (bytes)
MAX_MODEL_BYTES = 25 * 2**20
MAX_ZOO_BYTES = 120 * 2**20

_CARD_FIELDS = {
    "name": str,
    "family": str,
    "description": str,
    "command": str,
    "training": dict,
    "metrics": dict,
    "measured": str,
    "eval": (dict, list),
}


def names() -> list[str]:
    """The shipped models, sorted."""
    return sorted(p.stem for p in ZOO.glob("*.json") if (ZOO / f"{p.stem}.pt").is_file())


def _unknown(name: str) -> KeyError:
    return KeyError(f"no model {name!r} in the zoo; available: {', '.join(names())}")


def card(name: str) -> dict[str, Any]:
    """The model card of ``name`` (a dict: see the module docstring), schema-checked."""
    name = name[len(PREFIX) :] if name.startswith(PREFIX) else name
    path = ZOO / f"{name}.json"
    if name not in names():
        raise _unknown(name)
    data = read_json(path, what="model card")
    if not isinstance(data, dict):
        raise FileFormatError(f"model card {str(path)!r}: expected a JSON object")
    for key, kind in _CARD_FIELDS.items():
        if not isinstance(data.get(key), kind):
            raise FileFormatError(f"model card {str(path)!r}: field {key!r} is missing or wrong")
    return data


def path(name: str) -> Path:
    """The model file of ``name``."""
    name = name[len(PREFIX) :] if name.startswith(PREFIX) else name
    if name not in names():
        raise _unknown(name)
    return ZOO / f"{name}.pt"


def is_zoo_name(text: str | Path) -> bool:
    """``text`` is a ``zoo:NAME`` reference."""
    return isinstance(text, str) and text.startswith(PREFIX)


def resolve(text: str | Path) -> Path:
    """``zoo:NAME`` -> the model file; anything else -> ``Path(text)`` unchanged."""
    if is_zoo_name(text):
        return path(str(text))
    return Path(text)


def load(name: str, map_location: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict]:
    """The zoo model ``name`` in eval mode and its card, through its family's loader (all of
    them read with the one safe loader, :func:`sciml.io.load_model_file`).

    Families: ``operator`` (every registered neural operator, DGNO and the seismic models
    included), ``dcdm``, ``lmg`` (the learned multigrid cycle), ``traversal``, ``vae``.
    """
    c = card(name)
    return load_family(c["family"], path(name), map_location), c


def write_card(data: dict[str, Any]) -> Path:
    """Write ``data`` as the card of ``data["name"]`` (used when a model enters the zoo)."""
    target = ZOO / f"{data['name']}.json"
    target.write_text(json.dumps(data, indent=2) + "\n")
    return target
