"""Viscous Burgers on periodic grids: integrating-factor RK4, pseudo-spectral, batched.

``u_t + (u . grad) u = nu Laplacian(u)`` for a scalar ``u: [B, 1, n]`` in 1-D or a velocity
``u: [B, 2, nx, ny]`` in 2-D. The viscous term is integrated exactly (integrating factor
``e^{-nu |k|^2 t}``), the advection with classical RK4 and the 2/3 dealiasing rule: fourth
order in time, spectral in space (``tests/physics/test_physics_solvers.py`` checks it against
Cole-Hopf solutions). :func:`burgers_initial` draws the FNO initial condition
``u0 ~ N(0, 625 (-Laplacian + 25)^(-2))`` (Li et al. 2021 use ``nu = 0.1``, ``t = 1``).
"""

from __future__ import annotations

import math

import torch

from sciml.grid import Grid
from sciml.physics.fields.random_fields import gaussian_random_field
from sciml.physics.pdes.burgers import Burgers
from sciml.physics.spectral import wavenumbers

__all__ = ["solve_burgers", "burgers_initial", "IFRK4_ORDER"]

IFRK4_ORDER = 4


def burgers_initial(grid: Grid, seeds, *, device=None, dtype=torch.float32) -> torch.Tensor:
    """FNO Burgers initial condition: GRF ``sigma=25, tau=5, alpha=2`` -> ``[B, 1, *shape]``."""
    return gaussian_random_field(
        grid, seeds, alpha=2.0, tau=5.0, sigma=25.0, device=device, dtype=dtype
    )


def solve_burgers(
    pde_or_u0: Burgers | torch.Tensor,
    grid: Grid,
    *,
    u0: torch.Tensor | None = None,
    nu: float | None = None,
    t_end: float,
    dt: float = 1e-3,
    record_steps: int = 1,
    dealias: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Integrate Burgers from ``u0`` (``[B, 1, n]`` in 1-D, ``[B, 2, nx, ny]`` in 2-D).

    Args:
        pde_or_u0: a :class:`~sciml.physics.pdes.burgers.Burgers` object (``nu`` from it, periodic
            boundary, no forcing; the initial field is ``u0=`` or else its ``initial`` (or
            ``exact`` at ``t = 0``) sampled at the grid points, float64), or (the older form)
            the initial field ``u0`` itself, with ``nu=``.
        grid: periodic 1-D or 2-D grid (on the PDE's domain).
        u0: initial fields for a ``Burgers`` object.
        nu: viscosity; only with a tensor ``u0``.
        t_end, dt, record_steps, dealias: time span, step, snapshots, 2/3 rule.

    Returns ``(u, trajectory)``: the final field (same shape as ``u0``) and snapshots
    ``[B, record_steps, C, *shape]`` evenly spaced in ``(0, t_end]``.
    """
    if isinstance(pde_or_u0, Burgers):
        pde = pde_or_u0
        if nu is not None:
            raise ValueError("nu comes from the Burgers object; leave nu=None")
        if pde.boundary != "periodic" or pde.forcing is not None:
            raise ValueError(
                "solve_burgers integrates the unforced periodic problem; the Burgers object has "
                f"boundary={pde.boundary!r} and forcing={'set' if pde.forcing else None}"
            )
        nu = pde.nu
        u0 = pde.initial_field(grid) if u0 is None else u0
    else:
        if u0 is not None:
            raise ValueError("u0 is given twice (positionally and as u0=)")
        if nu is None:
            raise ValueError("nu is required with a tensor u0 (or pass a Burgers object)")
        u0 = pde_or_u0
    if not isinstance(grid, Grid) or grid.ndim not in (1, 2) or not all(grid.periodic):
        raise ValueError(f"grid must be a periodic 1-D or 2-D sciml.grid.Grid, got {grid!r}")
    if not isinstance(u0, torch.Tensor):
        raise TypeError(f"u0 must be a torch.Tensor, got {type(u0)}")
    grid.check_field(u0, "u0", channels=grid.ndim)
    if not (nu > 0 and t_end > 0 and dt > 0) or record_steps < 1:
        raise ValueError(f"need nu, t_end, dt > 0 and record_steps >= 1; got {nu}, {t_end}, {dt}")
    device, dtype = u0.device, u0.dtype
    dims = tuple(range(2, u0.ndim))
    ks = [
        wavenumbers(grid, ax, real=ax == grid.ndim - 1, device=device, dtype=dtype)
        for ax in range(grid.ndim)
    ]
    kk = torch.meshgrid(*ks, indexing="ij")
    k2 = sum(k**2 for k in kk)
    mask = torch.ones_like(k2)
    if dealias:
        for ax, n in enumerate(grid.shape):
            mode = (kk[ax] * grid.lengths[ax] / (2 * math.pi)).abs()
            mask = mask * (mode <= 2 / 3 * (n // 2))

    def advection(u_h):  # -(u . grad) u, dealiased, in Fourier space
        u = torch.fft.irfftn(u_h, s=grid.shape, dim=dims)
        adv = 0
        for ax in range(grid.ndim):
            du = torch.fft.irfftn(1j * kk[ax] * u_h, s=grid.shape, dim=dims)
            adv = adv + u[:, ax : ax + 1] * du
        return -torch.fft.rfftn(adv, dim=dims) * mask

    steps = max(1, math.ceil(t_end / dt - 1e-9))
    h = t_end / steps
    e_half = torch.exp(-nu * k2 * h / 2)
    e_full = e_half**2
    record_at = {round(steps * (j + 1) / record_steps) for j in range(record_steps)}
    u_h = torch.fft.rfftn(u0, dim=dims)
    snaps = []
    for step in range(1, steps + 1):
        a = h * advection(u_h)
        b = h * advection(e_half * (u_h + a / 2))
        c = h * advection(e_half * u_h + b / 2)
        d = h * advection(e_full * u_h + e_half * c)
        u_h = e_full * u_h + (e_full * a + 2 * e_half * (b + c) + d) / 6
        if step in record_at:
            snaps.append(torch.fft.irfftn(u_h, s=grid.shape, dim=dims))
    return snaps[-1], torch.stack(snaps, 1)
