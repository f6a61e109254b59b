"""Learned-cycle model files: the package's one model format (``sciml-model-v2``), read safely.

A file holds the :class:`~sciml.solvers.multigrid.learned.LearnedCycle` spec (``{"name":
"lmg-cycle", "kwargs": {"ndim", "levels", "sweeps", "alpha_max"}}``), its weights and a model
card in ``extra`` (command, recipe, optimiser steps, wall time, threads, device, best
validation score). :func:`load_lmg` reads it with ``torch.load(weights_only=True)`` through the one loader,
:func:`sciml.io.load_model_file`: a file
someone sent never runs code, and a wrong one gets a :class:`~sciml.io.FileFormatError` naming
the file and the field, including a model for the other dimension (``ndim=``).

The shipped models are the model zoo's ``lmg-3d`` and ``lmg-2d`` (:func:`default_model`,
``sciml models info lmg-3d``); their cards hold the command that reproduces them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sciml
from sciml.io import FileFormatError, atomic_save, load_model_file, model_file_payload
from sciml.solvers.multigrid.learned import MODEL_NAME, LearnedCycle

__all__ = ["default_model", "load_lmg", "save_model"]

MODELS_DIR = Path(sciml.__file__).resolve().parent / "zoo"


def default_model(ndim: int) -> Path:
    """The shipped model file for ``ndim`` (2 or 3)."""
    if ndim not in (2, 3):
        raise ValueError(f"ndim must be 2 or 3, got {ndim}")
    return MODELS_DIR / f"lmg-{ndim}d.pt"


def save_model(model: LearnedCycle, path: str | Path, card: dict[str, Any] | None = None) -> Path:
    """Write ``model`` and its ``card`` (JSON-like) atomically to ``path``."""
    inner = getattr(model, "_orig_mod", model)
    if not isinstance(inner, LearnedCycle):
        raise TypeError(f"model must be a LearnedCycle, got {type(inner).__name__}")
    state = {k: v.detach().cpu() for k, v in inner.state_dict().items()}
    return atomic_save(model_file_payload(inner.spec, state, extra=card or {}), path)


def load_lmg(path: str | Path | None = None, *, ndim: int | None = None) -> LearnedCycle:
    """Load a learned-cycle file (default: the shipped model for ``ndim``), in eval mode,
    through the one loader (:func:`sciml.io.load_model_file`).

    The module carries the file's card as ``model.card`` and its path as ``model.source``.

    Raises:
        FileNotFoundError: no such file.
        FileFormatError: not an ``lmg-cycle`` model file, weights that do not fit its spec,
            or a model for another grid dimension than ``ndim``.
    """
    if path is None:
        if ndim is None:
            raise ValueError("give a model path or the grid dimension ndim")
        path = default_model(ndim)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"learned-cycle model file {str(path)!r} not found; train one with `sciml train-lmg`"
        )

    def build(payload: dict) -> LearnedCycle:
        net = LearnedCycle(**payload["spec"]["kwargs"])
        if ndim is not None and net.ndim != ndim:
            raise FileFormatError(
                f"model file {str(path)!r} is a {net.ndim}-D learned cycle (spec "
                f"ndim={net.ndim}); the system is {ndim}-D"
            )
        return net

    net, card = load_model_file(path, build, names=(MODEL_NAME,))
    net.card = dict(card)
    net.source = str(path)
    return net
