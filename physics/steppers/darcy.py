"""Darcy flow ``-div(a grad u) = f`` on a grid with ``u = 0`` on Dirichlet walls (sparse direct).

Cell-centred grids use :func:`~sciml.physics.elliptic.assemble_elliptic` directly (walls,
solid cells). Vertex grids follow the FNO data layout: the boundary nodes carry ``u = 0`` and
the interior nodes are the unknowns of the same finite-volume operator with the wall one
spacing away. Each sample is factorised with SuperLU (scipy); second-order accurate for smooth
coefficients (``tests/physics/test_physics_solvers.py``), conservative for piecewise-constant
ones (the FNO recipe :func:`~sciml.physics.fields.random_fields.darcy_coefficient`).

>>> import torch
>>> from sciml.grid import Grid
>>> g = Grid((32, 32), centering="cell")
>>> u = solve_darcy(torch.ones(1, 1, 32, 32, dtype=torch.float64), g)   # -Laplacian u = 1
>>> round(u.max().item(), 3)                          # 0.0737 for the continuum problem
0.074

The PDE object gives the same solve (coefficient and forcing sampled at the grid points):

>>> from sciml.physics import Darcy
>>> pde = Darcy(coefficient=1.0, forcing=lambda p: torch.ones(len(p), dtype=p.dtype))
>>> bool((solve_darcy(pde, g) - u).abs().max() < 1e-14)
True
"""

from __future__ import annotations

import numpy as np
import scipy.sparse.linalg as spla
import torch
from tqdm.auto import tqdm

from sciml.grid import Grid
from sciml.physics._pointwise import on_grid
from sciml.physics.elliptic import assemble_elliptic
from sciml.physics.pdes.darcy import Darcy
from sciml.physics.pdes.poisson import Poisson

__all__ = ["solve_darcy"]


def solve_darcy(
    pde_or_coefficient: Darcy | Poisson | torch.Tensor,
    grid: Grid,
    *,
    forcing: float | torch.Tensor | None = None,
    walls: dict[str, str] | None = None,
    solid: torch.Tensor | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Solve ``-div(a grad u) = f`` with ``u = 0`` on the Dirichlet walls, for each sample.

    Args:
        pde_or_coefficient: either a :class:`~sciml.physics.pdes.darcy.Darcy` (or
            :class:`~sciml.physics.pdes.poisson.Poisson`, ``a = 1``) object, whose ``coefficient``
            and ``forcing`` (None = 0) are sampled at the grid points (its ``boundary`` must be
            ``"dirichlet"`` and ``grid`` must lie on its domain; ``u = 0`` on the walls, a
            non-zero ``exact`` on the boundary is not imposed: use
            :func:`sciml.physics.fem.solve_elliptic` for that); or the coefficient ``a > 0``
            itself, ``[B, 1, *grid.shape]`` (or ``[*grid.shape]``).
        grid: cell-centred (any walls, ``solid`` allowed) or vertex-centred (all walls
            Dirichlet on the boundary nodes) non-periodic grid.
        forcing: with a coefficient tensor: a float or ``[B, 1, *shape]`` / ``[*shape]`` field
            (default 1, the FNO benchmark); with a PDE object it must be left None.
        walls, solid: as in :func:`~sciml.physics.elliptic.assemble_elliptic` (cell grids).
        progress: tqdm progress bar over samples.

    Returns:
        ``u: [B, 1, *grid.shape]`` (``[*shape]`` for an unbatched coefficient, ``[1, 1, *shape]``
        for a PDE object), float64 on the coefficient's device (the CPU for a PDE object); zero
        on boundary nodes (vertex grids) and in solid cells.
    """
    if isinstance(pde_or_coefficient, (Darcy, Poisson)):
        pde = pde_or_coefficient
        pde.check_grid(grid)
        if pde.boundary != "dirichlet":
            raise ValueError(
                f"solve_darcy imposes u = 0 on Dirichlet walls; the PDE's boundary is "
                f"{pde.boundary!r}"
            )
        if forcing is not None:
            raise ValueError("forcing comes from the PDE object; leave forcing=None")
        a = getattr(pde, "coefficient", 1.0)
        coefficient = on_grid(a, grid)[None, None]
        forcing = 0.0 if pde.forcing is None else on_grid(pde.forcing, grid)[None, None]
    else:
        coefficient = pde_or_coefficient
        forcing = 1.0 if forcing is None else forcing
    if not isinstance(grid, Grid):
        raise TypeError(f"grid must be a sciml.grid.Grid, got {type(grid)}")
    if any(grid.periodic):
        raise ValueError("solve_darcy needs a non-periodic grid (Dirichlet walls)")
    if not isinstance(coefficient, torch.Tensor):
        raise TypeError(
            f"coefficient must be a torch.Tensor [B, 1, *shape], got {type(coefficient)}"
        )
    unbatched = tuple(coefficient.shape) == grid.shape
    a = coefficient[None, None] if unbatched else coefficient
    grid.check_field(a, "coefficient", channels=1)
    device = a.device
    a = a.detach().to("cpu", torch.float64)[:, 0]
    f = torch.as_tensor(forcing, dtype=torch.float64).cpu()
    if f.ndim:
        f = f.reshape(-1, *grid.shape) if f.numel() % grid.size == 0 else None
        if f is None or f.shape[0] not in (1, a.shape[0]):
            raise ValueError(f"forcing must be a float or [B, 1, *{list(grid.shape)}]")
    if grid.centering == "vertex":
        if walls is not None or solid is not None:
            raise ValueError(
                "walls and solid need a cell-centred grid; vertex grids are all-Dirichlet"
            )
        inner = tuple(slice(1, -1) for _ in grid.shape)
        h = grid.spacing
        sub = Grid(
            tuple(n - 2 for n in grid.shape),
            bounds=tuple((lo + hh / 2, hi - hh / 2) for (lo, hi), hh in zip(grid.bounds, h)),
            centering="cell",
        )
        offset = 1.0
    else:
        inner, sub, offset = tuple(slice(None) for _ in grid.shape), grid, 0.5
    out = torch.zeros(a.shape[0], *grid.shape, dtype=torch.float64)
    iterator = range(a.shape[0])
    if progress:
        pass

        iterator = tqdm(iterator, desc="darcy", unit="sample")
    for b in iterator:  # one sparse factorisation per sample (the coefficient differs)
        system = assemble_elliptic(
            sub,
            coefficient=a[b][inner],
            solid=None if solid is None else solid[..., *inner],
            walls=walls,
            dirichlet_offset=offset,
        )
        fb = f if f.ndim == 0 else f[min(b, f.shape[0] - 1)][inner]
        rhs = system.rhs(fb.expand(sub.shape) if f.ndim == 0 else fb).numpy()
        u = spla.spsolve(system.matrix.tocsc(), rhs)
        out[b][inner] = system.to_field(torch.as_tensor(np.asarray(u)))
    out = out.to(device)[:, None]
    return out[0, 0] if unbatched else out
