"""Navier-Stokes vorticity solver: analytic decay, forced eigenmode, time order, invariants."""

import math

import pytest
import torch

from sciml.grid import Grid
from sciml.physics.steppers.navier_stokes import (
    CN_ORDER,
    fno_forcing_field,
    navier_stokes_initial,
    solve_navier_stokes,
)
from sciml.testing.convergence import observed_order

PI = math.pi


def _modes(g):
    x, y = g.coords(dtype=torch.float64)
    # two modes with |k|^2 = 8 pi^2: their advection term vanishes exactly (Taylor-Green)
    return (
        torch.cos(2 * PI * x) * torch.cos(2 * PI * y)
        + 0.5 * torch.sin(2 * PI * x) * torch.sin(2 * PI * y)
    )[None, None]


def test_taylor_green_decays_at_analytic_rate():
    g = Grid((64, 64), periodic=True)
    w0 = _modes(g)
    nu = 1e-3
    w, traj = solve_navier_stokes(w0, g, nu=nu, t_end=1.0, dt=1e-3, forcing=None, record_steps=4)
    exact = w0 * math.exp(-8 * PI**2 * nu)
    rel = ((w - exact).norm() / exact.norm()).item()
    assert rel < 1e-6, rel  # the bound at 64 x 64 after 1 time unit
    assert traj.shape == (1, 4, 64, 64)
    assert torch.allclose(traj[:, -1], w[:, 0])


def test_forced_eigenmode_relaxes_to_steady_state():
    # FNO forcing is an eigenmode of the Laplacian with |k|^2 = 8 pi^2 too: exact solution
    # w(t) = w_s (1 - e^{-lam nu t}) + w0 e^{-lam nu t}, w_s = f / (lam nu)
    g = Grid((32, 32), periodic=True)
    nu, lam, t = 1e-2, 8 * PI**2, 0.5
    w0 = _modes(g)
    f = fno_forcing_field(g, dtype=torch.float64)
    w, _ = solve_navier_stokes(w0, g, nu=nu, t_end=t, dt=1e-3)
    decay = math.exp(-lam * nu * t)
    exact = f / (lam * nu) * (1 - decay) + w0 * decay
    assert ((w - exact).norm() / exact.norm()).item() < 1e-6


def test_nonlinear_time_order_and_enstrophy():
    g = Grid((32, 32), periodic=True)
    w0 = navier_stokes_initial(g, [0, 1], dtype=torch.float64)
    kw = dict(nu=1e-3, t_end=0.2)
    ref, _ = solve_navier_stokes(w0, g, dt=2.5e-4, **kw)
    errs = [(solve_navier_stokes(w0, g, dt=dt, **kw)[0] - ref).norm().item() for dt in (0.02, 0.01)]
    order = observed_order(errs, [0.02, 0.01])
    # explicit Euler for advection: first order (declared in CN_ORDER), 0.2 slack
    assert abs(order - CN_ORDER["advection"]) < 0.25, (errs, order)
    # inviscid, unforced: enstrophy is conserved by the dealiased advection up to O(dt) drift
    w, _ = solve_navier_stokes(w0, g, nu=1e-12, t_end=0.1, dt=1e-3, forcing=None)
    z0, z1 = (w0**2).sum(), (w**2).sum()
    assert abs(z1 / z0 - 1) < 1e-2


def test_initial_condition_and_bad_input():
    g = Grid((32, 32), periodic=True)
    w0 = navier_stokes_initial(g, [3, 4])
    assert w0.shape == (2, 1, 32, 32) and abs(w0.mean()) < 1e-5
    with pytest.raises(ValueError, match="periodic"):
        solve_navier_stokes(w0, Grid((32, 32)), nu=1e-3, t_end=0.1)
    with pytest.raises(ValueError, match="nu > 0"):
        solve_navier_stokes(w0, g, nu=0.0, t_end=0.1)


def test_vorticity_residual_of_solver_trajectory():
    # snapshots of the solver satisfy the PDE up to the time-difference error O(record dt^2)
    from sciml.physics import NavierStokesVorticity

    g = Grid((32, 32), periodic=True)
    w0 = navier_stokes_initial(g, [0], dtype=torch.float64)
    pde = NavierStokesVorticity(nu=1e-3)
    rels = []
    for nrec in (10, 20):
        _, traj = solve_navier_stokes(w0, g, nu=1e-3, t_end=0.2, dt=2.5e-4, record_steps=nrec)
        w = torch.cat([w0, traj], 1).permute(0, 2, 3, 1)[:, None]  # [B, 1, x, y, t]
        st = Grid(
            (32, 32, nrec + 1), bounds=((0, 1), (0, 1), (0, 0.2)), periodic=(True, True, False)
        )
        r = pde.vorticity_residual(w, st)
        rels.append((r.norm() / (w[:, 0, ..., 1:] - w[:, 0, ..., :-1]).norm() * 0.2 / nrec).item())
    # second-order time differences: halving the snapshot spacing cuts the residual ~4x
    assert rels[1] < 1e-2 and rels[0] / rels[1] > 3.0, rels
