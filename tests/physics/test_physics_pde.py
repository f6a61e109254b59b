"""PDE objects beyond the shared contract (sciml.testing.pdes, run by test_physics_pde_contract.py):
bad input, trainable residuals, latent-space dimensions with the whole-vector keys."""

import math

import numpy as np
import pytest
import torch

from sciml.physics import (
    AcousticWave,
    FokkerPlanck,
    HamiltonJacobi,
    Heat,
    Helmholtz,
    Poisson,
)

PI = math.pi
sin, cos, exp = torch.sin, torch.cos, torch.exp


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
    with pytest.raises(ValueError, match="dim"):
        AcousticWave(dim=0)
    with pytest.raises(ValueError, match="manufactured_forcing needs an exact solution"):
        Poisson().manufactured_forcing()


def test_manufactured_forcing_is_the_residual_formula_and_caches_per_points():
    # -u'' - k^2 u = f with u = sin(3x): f = (9 - k^2) sin(3x); the cache follows x, not its shape
    pde = Helmholtz(wavenumber=2.0, dim=1)
    f = pde.manufactured_forcing(lambda p: sin(3 * p[:, 0]))
    for seed in range(3):
        x = torch.rand(7, 1, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        assert torch.allclose(f(x), 5 * sin(3 * x[:, 0]), rtol=0, atol=1e-12)
    x.mul_(2.0)  # in-place change of the same tensor: recomputed
    assert torch.allclose(f(x), 5 * sin(3 * x[:, 0]), rtol=0, atol=1e-12)
    copy = pde.manufactured(lambda p: sin(3 * p[:, 0]))
    assert pde.forcing is None and copy.exact is not None and copy.wavenumber == 2.0
    assert copy.residual(copy.exact, x).abs().max() < 1e-12


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
    from sciml.physics.pdes.pde import autograd_derivatives

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
