"""The collocation grid of the GP solver: axis letters, PDE/grid checks and boundary masks.

GP-HM puts its unknowns on a vertex-centred tensor-product :class:`~sciml.grid.Grid` whose
axes are the PDE's spatial axes ``x, y, z`` (first ``pde.dim`` of them) followed by time
``t`` for a time-dependent PDE (a space-time grid). Boundary, initial and inflow data live
on named faces of that box: ``"x-"`` is the lower ``x`` face, ``"t-"`` the initial time.

>>> from sciml.grid import Grid
>>> boundary_mask(Grid((4, 3)), ["x-", "y+"], "xy").int().tolist()
[[1, 1, 1], [0, 0, 1], [0, 0, 1], [0, 0, 1]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from sciml.grid import Grid

__all__ = ["axis_letters", "boundary_mask", "check_pde", "default_faces"]


def axis_letters(pde: Any) -> str:
    """Derivative letters of the grid axes: ``"x"``, ``"xy"``, ``"xyz"``, plus ``"t"`` last."""
    return "xyz"[: int(pde.dim)] + ("t" if getattr(pde, "time_dependent", False) else "")


def default_faces(letters: str) -> tuple[str, ...]:
    """Every face of every spatial axis, and the initial-time face ``"t-"`` if time is an axis."""
    faces = [c + s for c in letters if c != "t" for s in "-+"]
    if "t" in letters:
        faces.append("t-")
    return tuple(faces)


def check_pde(pde: Any, grid: Grid) -> str:
    """Check that ``pde`` is a ``sciml.physics`` PDE the solver handles on ``grid``.

    Returns the axis letters. Raises ``TypeError`` (not a PDE / not a Grid) or ``ValueError``
    (wrong number of axes, cell-centred grid, derivatives above second order per axis).
    """
    for attr in ("dim", "residual_from", "required_derivatives"):
        if not hasattr(pde, attr):
            raise TypeError(
                f"pde must be a sciml.physics PDE (with dim, required_derivatives, "
                f"residual_from); {type(pde).__name__} has no {attr!r}"
            )
    letters = axis_letters(pde)
    if not isinstance(grid, Grid):
        raise TypeError(f"grid must be a sciml.grid.Grid, got {type(grid).__name__}")
    if grid.ndim != len(letters):
        raise ValueError(
            f"grid must have {len(letters)} axes ({', '.join(letters)}) for this "
            f"{type(pde).__name__}, got {grid.ndim}"
        )
    if grid.centering != "vertex":
        raise ValueError("grid must be vertex-centred (boundary points on the grid)")
    for key in pde.required_derivatives:
        if not key or any(c not in letters for c in key):
            raise ValueError(f"derivative key {key!r} uses letters outside {letters!r}")
        if any(key.count(c) > 2 for c in set(key)):
            raise ValueError(f"derivative key {key!r}: at most second order per axis")
    return letters


def boundary_mask(grid: Grid, faces: Sequence[str], letters: str) -> torch.Tensor:
    """Boolean ``[*grid.shape]`` marking the grid points on the given box faces.

    ``faces``: names like ``"x-"`` (lower x face), ``"x+"``, ``"y-"``, ``"t-"`` (initial time);
    ``letters``: the axis letters (see :func:`axis_letters`).
    """
    mask = torch.zeros(grid.shape, dtype=torch.bool)
    for face in faces:
        if len(face) != 2 or face[0] not in letters or face[1] not in "+-":
            raise ValueError(
                f"faces entries must look like 'x-' or 't-' with a letter from {letters!r}, "
                f"got {face!r}"
            )
        index = [slice(None)] * grid.ndim
        index[letters.index(face[0])] = 0 if face[1] == "-" else -1
        mask[tuple(index)] = True
    return mask
