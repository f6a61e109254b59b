"""Forward solvers: Darcy (sparse direct), heat (spectral / Crank-Nicolson), Burgers (IF-RK4)."""

import math

import numpy as np
import pytest
import torch

from sciml.grid import Grid
from sciml.physics import Burgers, Heat, NavierStokesVorticity, Poisson
from sciml.physics.fields.random_fields import darcy_coefficient
from sciml.physics.steppers.burgers import IFRK4_ORDER, burgers_initial, solve_burgers
from sciml.physics.steppers.darcy import solve_darcy
from sciml.physics.steppers.heat import solve_heat, solve_heat_grid
from sciml.physics.steppers.navier_stokes import solve_navier_stokes
from sciml.testing.convergence import observed_order
from sciml.testing.pdes import EXAMPLES

PI = math.pi


@pytest.mark.parametrize("centering", ["cell", "vertex"])
def test_darcy_solver_order_2(centering):
    # -div(a grad u) = f, a = 1 + x^2 + y, u = sin(pi x) sin(pi y) (u = 0 on the boundary)
    errs, ns = [], [8, 16, 32, 64]  # three refinements
    for n in ns:
        g = Grid((n + (centering == "vertex"),) * 2, centering=centering)
        x, y = g.coords(dtype=torch.float64)
        a = 1 + x**2 + y
        s0, c0, s1, c1 = torch.sin(PI * x), torch.cos(PI * x), torch.sin(PI * y), torch.cos(PI * y)
        f = -(2 * x * PI * c0 * s1 + PI * s0 * c1) + a * 2 * PI**2 * s0 * s1
        u = solve_darcy(a[None, None], g, forcing=f[None, None])
        errs.append((u[0, 0] - s0 * s1).abs().max().item())
    # the issue: observed order within 0.2 of the design order (2)
    assert abs(observed_order(errs, 1 / np.asarray(ns)) - 2) < 0.2, errs


def test_darcy_fno_recipe_batch():
    g = Grid((33, 33))  # vertex grid like FNO's 421 x 421 (u = 0 on the boundary nodes)
    a = darcy_coefficient(g, [0, 1, 2], dtype=torch.float64)
    u = solve_darcy(a, g)
    assert u.shape == (3, 1, 33, 33)
    assert (u[:, 0, 0] == 0).all() and (u[:, 0, :, -1] == 0).all()
    assert (u[:, :, 1:-1, 1:-1] > 0).all()  # maximum principle for f = 1 > 0
    # energy comparison: sum(f u) = min of the (monotone in a) energy, so 3 <= a <= 12 gives
    # mean(u_12) <= mean(u_a) <= mean(u_3) (harmonic face means are monotone in a too)
    lo = solve_darcy(torch.full((33, 33), 12.0, dtype=torch.float64), g).mean()
    hi = solve_darcy(torch.full((33, 33), 3.0, dtype=torch.float64), g).mean()
    means = u.mean(dim=(1, 2, 3))
    assert (means <= hi).all() and (means >= lo).all() and (means < 0.9 * hi).all()
    # the FV fluxes through the walls carry away exactly the injected source (conservation)
    h = g.spacing[0]
    wall_flux = (a[:, 0, 1, 1:-1] * u[:, 0, 1, 1:-1]).sum(1) + (
        a[:, 0, -2, 1:-1] * u[:, 0, -2, 1:-1]
    ).sum(1)
    wall_flux = (
        wall_flux
        + (a[:, 0, 1:-1, 1] * u[:, 0, 1:-1, 1]).sum(1)
        + (a[:, 0, 1:-1, -2] * u[:, 0, 1:-1, -2]).sum(1)
    )
    assert torch.allclose(wall_flux, torch.full_like(wall_flux, (31 * h) ** 2), rtol=1e-10)
    assert torch.equal(u[1:2], solve_darcy(a[1:2], g))


def test_heat_periodic_exact_propagator():
    g = Grid((32, 16), bounds=((0, 2), (0, 1)), periodic=True)
    x, y = g.coords(dtype=torch.float64)
    u0 = (torch.sin(PI * x) * torch.cos(2 * PI * y))[None, None]
    f = torch.cos(PI * x)  # steady forcing, |k|^2 = pi^2
    kappa, t = 0.1, 0.7
    u, traj = solve_heat(u0, g, kappa=kappa, t_end=t, forcing=f, record_steps=7)
    lam0, lamf = 5 * PI**2, PI**2
    exact = u0 * math.exp(-kappa * lam0 * t) + f * (1 - math.exp(-kappa * lamf * t)) / (
        kappa * lamf
    )
    assert (u - exact).abs().max() < 1e-12  # exact in time and space: round-off only
    assert traj.shape == (1, 7, 32, 16)


def test_heat_crank_nicolson_order_2():
    errs, ns = [], [8, 16, 32, 64]  # three refinements
    kappa, t = 0.1, 0.5
    for n in ns:
        g = Grid((n, n), centering="cell")
        x, y = g.coords(dtype=torch.float64)
        u0 = (torch.sin(PI * x) * torch.cos(PI * y))[None, None]
        u, _ = solve_heat(
            u0, g, kappa=kappa, t_end=t, dt=2.0 / n, walls={"y-": "neumann", "y+": "neumann"}
        )
        errs.append((u - u0 * math.exp(-2 * PI**2 * kappa * t)).abs().max().item())
    assert abs(observed_order(errs, 1 / np.asarray(ns)) - 2) < 0.2, errs


def _cole_hopf_1d(x, t, nu, a=1.5):
    e = math.exp(-4 * PI**2 * nu * t)
    return 4 * PI * nu * e * torch.sin(2 * PI * x) / (a + e * torch.cos(2 * PI * x))


def test_burgers_1d_cole_hopf_and_time_order():
    nu = 0.1
    g = Grid((128,), periodic=True)
    x = g.coords(dtype=torch.float64)
    u0 = _cole_hopf_1d(x, 0.0, nu)[None]
    exact = _cole_hopf_1d(x, 0.5, nu)[None]
    u, _ = solve_burgers(u0, g, nu=nu, t_end=0.5, dt=1e-3)
    assert ((u - exact).norm() / exact.norm()).item() < 1e-6
    # time order: IF-RK4 approaches 4 from below (stiff modes); nu=0.05 is asymptotic by dt=1/80
    u0, exact = _cole_hopf_1d(x, 0.0, 0.05)[None], _cole_hopf_1d(x, 0.5, 0.05)[None]
    errs = [
        (solve_burgers(u0, g, nu=0.05, t_end=0.5, dt=dt)[0] - exact).norm().item()
        for dt in (0.0125, 0.00625)
    ]
    order = observed_order(errs, [0.0125, 0.00625])
    assert order > IFRK4_ORDER - 0.3, (errs, order)


def test_burgers_2d_cole_hopf():
    nu, a, t = 0.05, 1.5, 0.3
    g = Grid((32, 32), periodic=True)
    x, y = g.coords(dtype=torch.float64)

    def exact(t):  # u = -2 nu grad(phi) / phi, phi = a + e^{-8 pi^2 nu t} cos(2 pi x) cos(2 pi y)
        e = math.exp(-8 * PI**2 * nu * t)
        phi = a + e * torch.cos(2 * PI * x) * torch.cos(2 * PI * y)
        ux = 4 * PI * nu * e * torch.sin(2 * PI * x) * torch.cos(2 * PI * y) / phi
        uy = 4 * PI * nu * e * torch.cos(2 * PI * x) * torch.sin(2 * PI * y) / phi
        return torch.stack([ux, uy])[None]

    u, traj = solve_burgers(exact(0.0), g, nu=nu, t_end=t, dt=2e-3, record_steps=3)
    assert ((u - exact(t)).norm() / exact(t).norm()).item() < 1e-6
    assert traj.shape == (1, 3, 2, 32, 32)


def test_burgers_fno_initial_and_bad_input():
    g = Grid((64,), periodic=True)
    u0 = burgers_initial(g, [0, 1], dtype=torch.float64)
    u, _ = solve_burgers(u0, g, nu=0.1, t_end=0.1, dt=1e-3)
    assert u.shape == (2, 1, 64) and torch.isfinite(u).all()
    # the mean is conserved (u0 samples a zero-mean continuous field at the points; its grid
    # mean is the aliased sum of the modes above Nyquist, small but not zero)
    assert abs(u.mean(-1) - u0.mean(-1)).max() < 1e-10
    assert abs(u0.mean(-1)).max() < 1e-3
    with pytest.raises(ValueError, match="periodic"):
        solve_burgers(u0, Grid((64,)), nu=0.1, t_end=0.1)
    with pytest.raises(ValueError, match="dt must be > 0"):
        solve_heat(torch.zeros(1, 1, 8, 8), Grid((8, 8), centering="cell"), kappa=1.0, t_end=1.0)
    with pytest.raises(ValueError, match="non-periodic"):
        solve_darcy(torch.ones(8, 8), Grid((8, 8), periodic=True))


# ------------------------------------------------------------------ the drivers take PDE objects
def test_darcy_object_is_the_same_solve_and_converges():
    # the contract's Darcy example (a = 1 + x^2 + y, u = sin(pi x) sin(pi y), u = 0 on walls)
    pde = EXAMPLES["darcy-2d"]()
    errs, ns = [], [8, 16, 32]
    for n in ns:
        g = pde.grid(n + 1)
        u = solve_darcy(pde, g)
        pts = g.points(dtype=torch.float64)
        a = pde.coefficient(pts).reshape(1, 1, *g.shape)
        f = pde.forcing(pts).reshape(1, 1, *g.shape)
        assert torch.equal(u, solve_darcy(a, g, forcing=f))  # same arrays, same solve
        errs.append((u[0, 0] - pde.exact(pts).reshape(g.shape)).abs().max().item())
    assert abs(observed_order(errs, 1 / np.asarray(ns)) - 2) < 0.2, errs
    with pytest.raises(ValueError, match="forcing comes from the PDE object"):
        solve_darcy(pde, pde.grid(9), forcing=1.0)
    with pytest.raises(ValueError, match="domain"):
        solve_darcy(pde, Grid((9, 9), bounds=((0, 2), (0, 1))))
    with pytest.raises(ValueError, match="u = 0 on Dirichlet walls"):
        solve_darcy(Poisson(boundary="periodic"), Grid((9, 9)))


def test_heat_grid_object_periodic_and_walls():
    assert solve_heat is solve_heat_grid  # the older name stays
    f = lambda p: torch.cos(PI * p[:, 0])  # noqa: E731  (steady: ignores t = p[:, 2])
    heat = Heat(
        kappa=0.1, dim=2, forcing=f, boundary="periodic", domain=((0.0, 2.0), (0.0, 1.0)),
        initial=lambda p: torch.sin(PI * p[:, 0]) * torch.cos(2 * PI * p[:, 1]),
    )  # fmt: skip
    g = heat.grid((32, 16), periodic=True)
    u, traj = solve_heat_grid(heat, g, t_end=0.7, record_steps=7)
    x, y = g.coords(dtype=torch.float64)
    u0 = (torch.sin(PI * x) * torch.cos(2 * PI * y))[None, None]
    ref, _ = solve_heat_grid(u0, g, kappa=0.1, t_end=0.7, forcing=torch.cos(PI * x))
    assert traj.shape == (1, 7, 32, 16) and (u - ref).abs().max() < 1e-14
    # Dirichlet walls on a cell grid, Crank-Nicolson; initial from the exact solution at t = 0
    walls = Heat(
        kappa=0.1, dim=2,
        exact=lambda p: torch.exp(-0.2 * PI**2 * p[:, 2]) * torch.sin(PI * p[:, 0]) * torch.sin(PI * p[:, 1]),
    )  # fmt: skip
    g = walls.grid(32, centering="cell")
    u, _ = solve_heat_grid(walls, g, t_end=0.5, dt=1 / 16)
    exact = walls.exact(torch.cat([g.points(dtype=torch.float64), torch.full((g.size, 1), 0.5)], 1))
    assert (u[0, 0] - exact.reshape(g.shape)).abs().max() < 2e-3  # second order at h = 1/32
    with pytest.raises(ValueError, match="depends on time"):
        solve_heat_grid(
            Heat(dim=2, forcing=lambda p: p[:, 2], exact=walls.exact), g, t_end=0.1, dt=0.1
        )
    with pytest.raises(ValueError, match="kappa and forcing come from the Heat object"):
        solve_heat_grid(walls, g, kappa=1.0, t_end=0.1, dt=0.1)
    with pytest.raises(ValueError, match="kappa is required"):
        solve_heat_grid(u0, g, t_end=0.1)


def test_burgers_and_navier_stokes_objects_are_the_same_solves():
    nu = 0.1
    pde = Burgers(nu=nu, dim=1, initial=lambda p: _cole_hopf_1d(p[:, 0], 0.0, nu))
    g = pde.grid(64, periodic=True)
    u, _ = solve_burgers(pde, g, t_end=0.1, dt=1e-3)
    u0 = _cole_hopf_1d(g.coords(dtype=torch.float64), 0.0, nu)[None]
    assert torch.equal(u, solve_burgers(u0, g, nu=nu, t_end=0.1, dt=1e-3)[0])
    with pytest.raises(ValueError, match="unforced periodic"):
        solve_burgers(Burgers(dim=1, boundary="dirichlet"), g, u0=u0, t_end=0.1)
    ns = NavierStokesVorticity(
        nu=1e-3, initial=lambda p: torch.sin(2 * PI * p[:, 0]) * torch.cos(2 * PI * p[:, 1])
    )
    g = ns.grid(32, periodic=True)
    w, _ = solve_navier_stokes(ns, g, t_end=0.05, dt=1e-2)
    x, y = g.coords(dtype=torch.float64)
    w0 = (torch.sin(2 * PI * x) * torch.cos(2 * PI * y))[None, None]
    assert torch.equal(w, solve_navier_stokes(w0, g, nu=1e-3, t_end=0.05, dt=1e-2)[0])
    with pytest.raises(ValueError, match="nu and forcing come from the PDE object"):
        solve_navier_stokes(ns, g, nu=1e-3, t_end=0.05)
