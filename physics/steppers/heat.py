"""Heat equation ``u_t - kappa Laplacian(u) = f`` on a grid, batched.

* All axes periodic: the exact Fourier propagator
  ``u_hat(t) = e^{-kappa |k|^2 t} u_hat(0) + (1 - e^{-kappa |k|^2 t}) / (kappa |k|^2) f_hat``
  (no time-step error; any device).
* Cell-centred grid with walls: Crank-Nicolson in time with the finite-volume operator of
  :func:`~sciml.physics.elliptic.assemble_elliptic` (Dirichlet ``u = 0`` or Neumann walls,
  solid cells), one sparse LU factorisation reused for every step and every sample;
  second order in space and time.

:func:`solve_heat_grid` takes a :class:`~sciml.physics.pdes.heat.Heat` object (diffusivity, steady
forcing, initial condition and boundary kind from the object) or, as before, an initial field
and keyword arguments. ``solve_heat`` is its older name (kept). The FEM engine's heat driver is
:func:`sciml.physics.fem.solve_heat_fem` (a mesh, backward Euler, time-dependent data).

>>> import math, torch
>>> from sciml.physics import Heat
>>> pde = Heat(kappa=0.1, dim=1, boundary="periodic",
...            initial=lambda p: torch.sin(2 * math.pi * p[:, 0]))
>>> g = pde.grid(32, periodic=True)
>>> u, _ = solve_heat_grid(pde, g, t_end=1.0)
>>> exact = math.exp(-0.1 * 4 * math.pi**2) * torch.sin(2 * math.pi * g.coords(dtype=torch.float64))
>>> bool((u[0] - exact).abs().max() < 1e-14)       # the exact Fourier propagator
True
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from sciml.grid import Grid
from sciml.physics._pointwise import steady_on_grid
from sciml.physics.elliptic import assemble_elliptic
from sciml.physics.pdes.heat import Heat
from sciml.physics.spectral import wavenumbers

__all__ = ["solve_heat_grid", "solve_heat"]


def _times(t_end: float, record_steps: int) -> list[float]:
    return [t_end * (j + 1) / record_steps for j in range(record_steps)]


def solve_heat_grid(
    heat_or_u0: Heat | torch.Tensor,
    grid: Grid,
    *,
    u0: torch.Tensor | None = None,
    kappa: float | None = None,
    t_end: float,
    dt: float | None = None,
    forcing: float | torch.Tensor | None = None,
    walls: dict[str, str] | None = None,
    solid: torch.Tensor | None = None,
    record_steps: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Heat equation on a grid from ``t = 0`` to ``t_end`` (exact spectral or Crank-Nicolson).

    Args:
        heat_or_u0: a :class:`~sciml.physics.pdes.heat.Heat` object, or (the older form) the initial
            field ``u0: [B, 1, *grid.shape]``. From a ``Heat``: ``kappa``; ``forcing`` sampled
            at the grid points (it must not depend on time; None = 0); the initial field
            ``u0`` (keyword) or else ``initial`` (or ``exact`` at ``t = 0``) sampled at the grid
            points; ``boundary`` ``"periodic"`` (fully periodic grid) or ``"dirichlet"``
            (``u = 0`` on the walls of a cell grid; ``walls`` may set some of them Neumann).
            The grid must lie on the PDE's domain.
        u0: initial fields ``[B, 1, *shape]`` for a ``Heat`` object (a batch of initial
            conditions for one equation).
        kappa: diffusivity (> 0); only with a tensor ``u0``.
        dt: time step for Crank-Nicolson (cell grids with walls; required there); ignored on
            fully periodic grids (exact propagator).
        forcing: with a tensor ``u0``: None, a float or a steady field ``[*shape]`` /
            ``[B, 1, *shape]``; with a ``Heat`` object it must be left None.
        walls, solid: as in :func:`~sciml.physics.elliptic.assemble_elliptic`.
        record_steps: number of snapshots evenly spaced in ``(0, t_end]``.

    Returns:
        ``(u, trajectory)``: ``[B, 1, *shape]`` and ``[B, record_steps, *shape]`` (``B = 1``
        for a ``Heat`` object without ``u0``; float64 there).
    """
    if isinstance(heat_or_u0, Heat):
        heat = heat_or_u0
        heat.check_grid(grid)
        if kappa is not None or forcing is not None:
            raise ValueError("kappa and forcing come from the Heat object; leave them None")
        if heat.boundary == "periodic" and not all(grid.periodic):
            raise ValueError("the Heat object is periodic; the grid must be periodic on every axis")
        if heat.boundary not in ("periodic", "dirichlet"):
            raise ValueError(
                f"solve_heat_grid supports boundary 'periodic' or 'dirichlet', got "
                f"{heat.boundary!r}"
            )
        if heat.boundary == "dirichlet" and any(grid.periodic):
            raise ValueError("the Heat object has Dirichlet walls; the grid must not be periodic")
        kappa = heat.kappa
        if heat.forcing is not None:
            forcing = steady_on_grid(heat.forcing, grid, t_end, "forcing")
        if u0 is None:
            u0 = heat.initial_field(grid)
    else:
        if u0 is not None:
            raise ValueError("u0 is given twice (positionally and as u0=)")
        u0 = heat_or_u0
        if kappa is None:
            raise ValueError("kappa is required with a tensor u0 (or pass a Heat object)")
    if not isinstance(grid, Grid):
        raise TypeError(f"grid must be a sciml.grid.Grid, got {type(grid)}")
    if not isinstance(u0, torch.Tensor):
        raise TypeError(f"u0 must be a torch.Tensor [B, 1, *shape], got {type(u0)}")
    grid.check_field(u0, "u0", channels=1)
    if not (kappa > 0 and t_end > 0) or record_steps < 1:
        raise ValueError(
            f"need kappa > 0, t_end > 0, record_steps >= 1; got {kappa}, {t_end}, {record_steps}"
        )
    device, dtype = u0.device, u0.dtype
    f = None if forcing is None else torch.as_tensor(forcing, device=device, dtype=dtype)
    if f is not None and f.ndim and tuple(f.shape[-grid.ndim :]) != grid.shape:
        raise ValueError(f"forcing must be a float or [B, 1, *{list(grid.shape)}]")
    if all(grid.periodic):
        return _spectral(u0, grid, kappa, t_end, f, record_steps)
    if any(grid.periodic) or grid.centering != "cell":
        raise ValueError(
            "solve_heat needs either a fully periodic grid or a non-periodic cell-centred grid"
        )
    if dt is None or not dt > 0:
        raise ValueError(f"dt must be > 0 for Crank-Nicolson on a grid with walls, got {dt}")
    return _crank_nicolson(u0, grid, kappa, t_end, dt, f, walls, solid, record_steps)


def _spectral(u0, grid, kappa, t_end, f, record_steps):
    dims = tuple(range(2, u0.ndim))
    ks = [
        wavenumbers(grid, ax, real=ax == grid.ndim - 1, device=u0.device, dtype=u0.dtype)
        for ax in range(grid.ndim)
    ]
    k2 = sum(k**2 for k in torch.meshgrid(*ks, indexing="ij"))
    u_h = torch.fft.rfftn(u0, dim=dims)
    f_h = None
    if f is not None:
        f_full = f.expand_as(u0) if f.ndim else torch.full_like(u0, float(f))
        f_h = torch.fft.rfftn(f_full, dim=dims)
    snaps = []
    for t in _times(t_end, record_steps):
        decay = torch.exp(-kappa * k2 * t)
        out = decay * u_h
        if f_h is not None:
            gain = torch.where(
                k2 > 0, -torch.expm1(-kappa * k2 * t) / (kappa * k2).clamp_min(1e-300), t
            )
            out = out + gain * f_h
        snaps.append(torch.fft.irfftn(out, s=grid.shape, dim=dims)[:, 0])
    traj = torch.stack(snaps, 1)
    return traj[:, -1:], traj


def _crank_nicolson(u0, grid, kappa, t_end, dt, f, walls, solid, record_steps):
    system = assemble_elliptic(grid, walls=walls, solid=solid)
    vol = grid.cell_volume
    steps = max(1, math.ceil(t_end / dt - 1e-9))
    h = t_end / steps  # equal steps that end exactly at t_end
    eye = sp.identity(system.n, format="csc") * vol
    lhs = spla.splu((eye + 0.5 * h * kappa * system.matrix).tocsc())
    rhs_op = (eye - 0.5 * h * kappa * system.matrix).tocsr()
    u = system.to_vector(u0[:, 0].detach().cpu().double()).numpy().T  # [n, B]
    src = 0.0
    if f is not None:
        ff = f.detach().cpu().double()
        ff = (
            ff.expand(u0.shape[0], 1, *grid.shape)[:, 0]
            if ff.ndim
            else ff.expand(u0.shape[0], *grid.shape)
        )
        src = h * vol * system.to_vector(ff).numpy().T
    record_at = {round(steps * (j + 1) / record_steps) for j in range(record_steps)}
    snaps = []
    for step in range(1, steps + 1):
        u = lhs.solve(rhs_op @ u + src)
        if step in record_at:
            snaps.append(system.to_field(torch.as_tensor(np.ascontiguousarray(u.T))))
    traj = torch.stack(snaps, 1).to(device=u0.device, dtype=u0.dtype)
    return traj[:, -1:], traj


#: the older name of :func:`solve_heat_grid` (same function)
solve_heat = solve_heat_grid
