"""Strong-form residual ``-div(a grad u) - f`` of grid fields by finite differences.

The physics loss of grid operators trained without labels (PINO-style FNO, physics-informed
DeepONet on a grid): the conservative second-order stencil of
:func:`sciml.physics.fd.div_a_grad` (arithmetic face means, fine for piecewise-constant
``a``), evaluated at the interior nodes of a vertex grid (the boundary nodes carry the
Dirichlet condition).

>>> import torch
>>> from sciml.grid import Grid
>>> from sciml.physics.pdes.poisson import Poisson
>>> g = Grid((17, 17))
>>> x, y = g.coords(dtype=torch.float64)
>>> u = (x * (1 - x) * y * (1 - y))[None, None]
>>> pde = Poisson(forcing=lambda p: 2 * p[:, 0] * (1 - p[:, 0]) + 2 * p[:, 1] * (1 - p[:, 1]))
>>> bool(fd_residual(pde, u, g).abs().max() < 1e-12)    # exact for quadratics
True
"""

from __future__ import annotations

import torch

from sciml.grid import Grid
from sciml.physics._pointwise import evaluate
from sciml.physics.fd import div_a_grad
from sciml.physics.pdes.pde import PDE

__all__ = ["fd_residual"]


def fd_residual(
    pde: PDE,
    u: torch.Tensor,
    grid: Grid,
    *,
    coefficient: torch.Tensor | None = None,
    interior: bool = True,
) -> torch.Tensor:
    """``-div(a grad u) - f`` of ``u: [B, 1, *grid.shape]``.

    Args:
        pde: a :class:`~sciml.physics.pdes.darcy.Darcy` (``a = pde.coefficient``) or
            :class:`~sciml.physics.pdes.poisson.Poisson` (``a = 1``); ``f = pde.forcing``.
        coefficient: ``[B, 1, *grid.shape]`` values of ``a`` (one field per sample, e.g. a
            data set's inputs); overrides ``pde.coefficient``.
        interior: drop the boundary nodes (vertex grids with Dirichlet walls).

    Returns:
        ``[B, 1, *S]`` with ``S = grid.shape`` (minus 2 per axis when ``interior``).
    """
    grid.check_field(u, "u", channels=1)
    pts = grid.points(u.device, u.dtype)
    if coefficient is None:
        a = getattr(pde, "coefficient", 1.0)
        a = evaluate(a, pts).reshape(1, 1, *grid.shape)
    else:
        grid.check_field(coefficient, "coefficient", channels=1)
        a = coefficient.to(u.dtype)
    f = pde.forcing
    f = 0.0 if f is None else evaluate(f, pts).reshape(1, 1, *grid.shape)
    r = -div_a_grad(u, a, grid) - f
    if interior:
        r = r[(slice(None), slice(None)) + (slice(1, -1),) * grid.ndim]
    return r
