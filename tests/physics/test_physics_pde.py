"""Contract A: autograd residuals vanish on exact solutions and agree with grid residuals."""

import math

import numpy as np
import pytest
import torch

from sciml.grid import Grid
from sciml.physics import (
    AcousticWave,
    Advection,
    AllenCahn,
    Burgers,
    Darcy,
    FokkerPlanck,
    HamiltonJacobi,
    Heat,
    Helmholtz,
    NavierStokesVorticity,
    Poisson,
    fno_forcing,
)

PI = math.pi
sin, cos, exp = torch.sin, torch.cos, torch.exp


def _poisson():
    u = lambda p: sin(PI * p[:, 0]) * sin(2 * PI * p[:, 1]) + p[:, 0] ** 3 * p[:, 1]  # noqa: E731
    f = lambda p: 5 * PI**2 * sin(PI * p[:, 0]) * sin(2 * PI * p[:, 1]) - 6 * p[:, 0] * p[:, 1]  # noqa: E731
    return Poisson(dim=2, forcing=f, exact=u)


def _helmholtz():
    u = lambda p: sin(PI * p[:, 0]) * cos(PI * p[:, 1])  # noqa: E731
    return Helmholtz(wavenumber=3.0, forcing=lambda p: (2 * PI**2 - 9) * u(p), exact=u)


def _darcy():
    u = lambda p: sin(PI * p[:, 0]) * sin(PI * p[:, 1])  # noqa: E731
    a = lambda p: 1 + p[:, 0] ** 2 + p[:, 1]  # noqa: E731

    def f(p):
        s0, c0, s1, c1 = sin(PI * p[:, 0]), cos(PI * p[:, 0]), sin(PI * p[:, 1]), cos(PI * p[:, 1])
        return -(2 * p[:, 0] * PI * c0 * s1 + PI * s0 * c1) + a(p) * 2 * PI**2 * s0 * s1

    return Darcy(coefficient=a, forcing=f, exact=u)


def _allen_cahn():
    u = lambda p: sin(PI * p[:, 0]) * sin(PI * p[:, 1])  # noqa: E731
    return AllenCahn(forcing=lambda p: -2 * PI**2 * u(p) + u(p) * (u(p) ** 2 - 1), exact=u)


def _heat():
    return Heat(kappa=0.5, dim=1, exact=lambda p: exp(-0.5 * PI**2 * p[:, 1]) * sin(PI * p[:, 0]))


def _advection():
    return Advection(velocity=0.7, dim=1, exact=lambda p: sin(2 * PI * (p[:, 0] - 0.7 * p[:, 1])))


def _burgers_1d():
    nu = 0.1

    def u(p):  # Cole-Hopf: phi = 2 + exp(-nu pi^2 t) cos(pi x) solves the heat equation
        e = exp(-nu * PI**2 * p[:, 1])
        return 2 * nu * PI * e * sin(PI * p[:, 0]) / (2 + e * cos(PI * p[:, 0]))

    return Burgers(nu=nu, dim=1, exact=u, boundary="dirichlet")


def _burgers_2d():
    nu = 0.1

    def u(p):  # Cole-Hopf in 2-D: u = -2 nu grad(phi) / phi
        e = exp(-2 * nu * PI**2 * p[:, 2])
        cx, cy, sx, sy = cos(PI * p[:, 0]), cos(PI * p[:, 1]), sin(PI * p[:, 0]), sin(PI * p[:, 1])
        phi = 2 + e * cx * cy
        return torch.stack([2 * nu * PI * e * sx * cy / phi, 2 * nu * PI * e * cx * sy / phi], 1)

    return Burgers(nu=nu, dim=2, exact=u, boundary="dirichlet")


def _navier_stokes():
    nu = 0.01

    def psi(p):  # Taylor-Green decay + the steady response to the FNO forcing (same |k|^2)
        tg = 0.05 * exp(-8 * PI**2 * nu * p[:, 2]) * sin(2 * PI * p[:, 0]) * sin(2 * PI * p[:, 1])
        return tg + fno_forcing(p) / (64 * PI**4 * nu)

    return NavierStokesVorticity(nu=nu, exact=psi)


def _acoustic():
    c = 1.5
    return AcousticWave(
        velocity=c,
        exact=lambda p: (
            sin(PI * p[:, 0]) * sin(PI * p[:, 1]) * cos(math.sqrt(2) * PI * c * p[:, 2])
        ),
    )


def _fokker_planck():
    d, m0, s0 = 0.5, 0.5, 0.25

    def p_exact(p):  # Ornstein-Uhlenbeck (drift -x): Gaussian with relaxing mean and variance
        m = m0 * exp(-p[:, 1])
        s = d + (s0 - d) * exp(-2 * p[:, 1])
        return exp(-((p[:, 0] - m) ** 2) / (2 * s)) / torch.sqrt(2 * PI * s)

    return FokkerPlanck(diffusion=d, dim=1, exact=p_exact, domain=((-2.0, 2.0),))


def _hamilton_jacobi():
    return HamiltonJacobi(dim=2, exact=lambda p: (p[:, :2] ** 2).sum(1) / (2 * (1 + p[:, 2])))


CASES = {
    "poisson": (_poisson, False),
    "helmholtz": (_helmholtz, False),
    "darcy": (_darcy, False),
    "allen_cahn": (_allen_cahn, False),
    "heat": (_heat, False),
    "advection": (_advection, False),
    "burgers_1d": (_burgers_1d, False),
    "burgers_2d": (_burgers_2d, False),
    "navier_stokes": (_navier_stokes, True),
    "acoustic": (_acoustic, False),
    "fokker_planck": (_fokker_planck, False),
    "hamilton_jacobi": (_hamilton_jacobi, False),
}


def _space_time_grid(pde, n, periodic_space):
    bounds = tuple(pde.domain or ((0.0, 1.0),) * pde.dim)
    periodic = (periodic_space,) * pde.dim
    if pde.time_dependent:
        bounds, periodic = bounds + ((0.0, 0.5),), periodic + (False,)
    return Grid((n,) * len(bounds), bounds=bounds, periodic=periodic)


@pytest.mark.parametrize("name", list(CASES))
def test_autograd_residual_vanishes_on_exact_solution(name):
    pde = CASES[name][0]()
    g = torch.Generator().manual_seed(0)
    lo = torch.tensor([b[0] for b in (pde.domain or ((0.0, 1.0),) * pde.dim)], dtype=torch.float64)
    hi = torch.tensor([b[1] for b in (pde.domain or ((0.0, 1.0),) * pde.dim)], dtype=torch.float64)
    x = lo + (hi - lo) * torch.rand(64, pde.dim, generator=g, dtype=torch.float64)
    t = torch.rand(64, generator=g, dtype=torch.float64) if pde.time_dependent else None
    r = pde.residual(pde.exact, x, t)
    assert r.shape == ((64,) if pde.channels == 1 else (64, pde.channels))
    # the issue asks for 1e-5; in float64 the residual is round-off of O(derivative size)
    assert r.abs().max() < 1e-5


@pytest.mark.parametrize("name", list(CASES))
def test_grid_residual_agrees_to_discretisation_error(name):
    build, periodic = CASES[name]
    pde = build()
    errs = []
    # 3 axes: 12 -> 24 points (NS: spectral in space, so 8 -> 16 suffices); 2 axes: 32 -> 64
    ns = ((8, 16) if periodic else (12, 24)) if pde.dim + pde.time_dependent == 3 else (32, 64)
    for n in ns:
        grid = _space_time_grid(pde, n, periodic)
        pts = grid.points(dtype=torch.float64)
        u = pde.exact(pts)
        u = (
            u.T.reshape(1, pde.channels, *grid.shape)
            if u.ndim == 2
            else u.reshape(1, 1, *grid.shape)
        )
        r_grid = pde.grid_residual(u, grid, accuracy=2, spectral=periodic)
        r_auto = pde.residual(pde.exact, pts).detach()
        r_auto = (
            r_auto.T.reshape(1, -1, *grid.shape)
            if r_auto.ndim == 2
            else r_auto.reshape(1, *grid.shape)
        )
        errs.append((r_grid - r_auto).abs().max().item())
    h_ratio = (ns[1] - 1) / (ns[0] - 1)
    order = math.log(errs[0] / errs[1]) / math.log(h_ratio)
    # second-order differences: the difference shrinks like h^2 (0.3 slack for one refinement)
    assert order > 1.7, (errs, order)


def test_residual_bad_input():
    pde = Heat()
    with pytest.raises(ValueError, match=r"\[N, 2\]"):
        pde.residual(lambda p: p[:, 0], torch.zeros(5, 3))
    with pytest.raises(ValueError, match="steady"):
        Poisson().residual(lambda p: p[:, 0], torch.zeros(5, 2), torch.zeros(5))
    with pytest.raises(KeyError, match="xx"):
        Poisson().residual_from(torch.zeros(3), {"yy": torch.zeros(3)}, torch.zeros(3, 2))
    with pytest.raises(ValueError, match="dim"):
        Poisson(dim=4)


def test_residual_is_trainable():
    # the residual carries the graph to u_fn's parameters (PINN use)
    net = torch.nn.Sequential(
        torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)
    ).double()
    loss = (
        Poisson(forcing=lambda p: torch.ones(p.shape[0], dtype=p.dtype))
        .residual(net, torch.rand(16, 2, dtype=torch.float64))
        .pow(2)
        .mean()
    )
    loss.backward()
    assert net[0].weight.grad.abs().sum() > 0 and net[2].weight.grad.abs().sum() > 0
    assert np.isfinite(loss.item())


def test_latent_dimension_forms_with_vector_keys():
    # potential flows live in latent spaces with dim > 3: whole-gradient keys "grad" and "lap"
    g = torch.Generator().manual_seed(1)
    x = torch.randn(32, 8, generator=g, dtype=torch.float64)
    t = torch.rand(32, generator=g, dtype=torch.float64)
    hj = HamiltonJacobi(dim=8, exact=lambda p: (p[:, :8] ** 2).sum(1) / (2 * (1 + p[:, 8])))
    assert hj.required_derivatives == ("t", "grad")
    assert hj.residual(hj.exact, x, t).abs().max() < 1e-10

    d, m0, s0 = 0.5, 0.3, 0.25

    def ou_density(p):  # product of 1-D Ornstein-Uhlenbeck Gaussians
        m = m0 * torch.exp(-p[:, -1:])
        s = d + (s0 - d) * torch.exp(-2 * p[:, -1:])
        return (torch.exp(-((p[:, :-1] - m) ** 2) / (2 * s)) / torch.sqrt(2 * PI * s)).prod(1)

    fp = FokkerPlanck(diffusion=d, dim=5, exact=ou_density)
    r = fp.residual(ou_density, x[:, :5] * 0.5, t)
    assert r.abs().max() < 1e-10  # float64 round-off on O(1) terms
    # the vector keys agree with the letter keys where both exist (dim = 3)
    u_fn = lambda p: torch.sin(p[:, 0]) * p[:, 1] ** 2 + p[:, 2] ** 3  # noqa: E731
    from sciml.physics import autograd_derivatives

    xx = torch.rand(10, 3, dtype=torch.float64, requires_grad=True)
    dd = autograd_derivatives(u_fn(xx), xx, ["x", "y", "z", "xx", "yy", "zz", "grad", "lap"], "xyz")
    assert torch.allclose(dd["grad"], torch.stack([dd["x"], dd["y"], dd["z"]], 1))
    assert torch.allclose(dd["lap"], dd["xx"] + dd["yy"] + dd["zz"])


def test_heat_and_wave_in_latent_dimensions():
    # plane waves sin(k.x - c|k|t) and decaying modes exp(-kappa|k|^2 t) sin(k.x) in 8-D
    g = torch.Generator().manual_seed(2)
    x = torch.randn(40, 8, generator=g, dtype=torch.float64)
    t = torch.rand(40, generator=g, dtype=torch.float64)
    k = torch.randn(8, generator=g, dtype=torch.float64)
    kn = k.norm()
    speed = torch.nn.Parameter(torch.tensor(0.7, dtype=torch.float64))
    wave = AcousticWave(velocity=speed, dim=8)
    assert wave.required_derivatives == ("tt", "lap")
    r = wave.residual(lambda p: sin(p[:, :8] @ k - 0.7 * kn * p[:, 8]), x, t)
    assert r.abs().max() < 1e-10
    # the learnable speed receives a gradient through the residual
    wave.residual(lambda p: sin(p[:, :8] @ k - kn * p[:, 8]), x, t).pow(2).mean().backward()
    assert speed.grad is not None and speed.grad.abs() > 0
    heat = Heat(kappa=0.3, dim=8)
    r = heat.residual(lambda p: exp(-0.3 * kn**2 * p[:, 8]) * sin(p[:, :8] @ k), x, t)
    assert r.abs().max() < 1e-10
    with pytest.raises(ValueError, match="dim must be an integer >= 1"):
        Heat(dim=0)


def test_hutchinson_laplacian_is_unbiased():
    # u = sum_ij A_ij sin(x_i) x_j + (x^T B x)^2 / 8 has a non-diagonal Hessian everywhere
    from sciml.physics import Hutchinson, laplacian_estimator
    from sciml.physics.pde import autograd_derivatives

    dim, n = 8, 5
    g = torch.Generator().manual_seed(3)
    a = torch.randn(dim, dim, generator=g, dtype=torch.float64)
    b = torch.randn(dim, dim, generator=g, dtype=torch.float64)
    b = b @ b.T / dim
    x = torch.randn(n, dim, generator=g, dtype=torch.float64)

    def lap(estimator, reps=1):
        xr = x.repeat(reps, 1).requires_grad_(True)
        u = (torch.sin(xr) @ a * xr).sum(1) + ((xr @ b) * xr).sum(1) ** 2 / 8
        with laplacian_estimator(estimator):
            return autograd_derivatives(u, xr, ["lap"], "s" * dim)["lap"].detach()

    exact = lap(None)
    reps, spread = 4000, {}
    for dist in ("rademacher", "gaussian"):
        est = lap(Hutchinson(probes=1, distribution=dist, generator=g), reps).reshape(reps, n)
        mean, se = est.mean(0), est.std(0) / reps**0.5
        assert (est.std(0) > 1e-3).all()  # really random (non-diagonal Hessian)
        assert ((mean - exact).abs() < 3 * se).all(), (dist, mean, exact, se)
        spread[dist] = est.std(0)
    # 4 probes: half the spread (1/sqrt(4)) of one probe
    est4 = lap(Hutchinson(probes=4, generator=g), 1000).reshape(1000, n)
    assert (est4.std(0) < 0.6 * spread["rademacher"]).all()
    with pytest.raises(ValueError, match="probes"):
        Hutchinson(probes=0)
