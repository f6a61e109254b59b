"""Weak-form residuals: Wendland test functions, ball quadrature, primal and mixed forms,
the Dirichlet mollifier and the strong-form FD residual, on manufactured solutions."""

import math

import numpy as np
import pytest
import torch

from sciml.grid import Grid
from sciml.physics import Darcy, Poisson
from sciml.physics.mollifier import DirichletMollifier
from sciml.physics.quadrature import ball_quadrature
from sciml.physics.strong_form import fd_residual
from sciml.physics.test_functions import Wendland
from sciml.physics.weak_form import WeakForm, latin_hypercube, sample_field

F64 = torch.float64


# --------------------------------------------------------------------- manufactured problems
def a_smooth(x):
    return 1 + 0.5 * torch.sin(2 * math.pi * x[..., 0]) * torch.cos(math.pi * x[..., 1])


def u_exact(x):
    return (
        torch.sin(math.pi * x[..., 0])
        * torch.sin(math.pi * x[..., 1])
        * (1 + x[..., 0] * x[..., 1])
    )


def bump(x):  # a smooth perturbation, zero on the boundary
    return torch.exp(-20 * ((x[..., 0] - 0.4) ** 2 + (x[..., 1] - 0.6) ** 2)) * u_exact(x)


def smooth_darcy() -> Darcy:
    # f = -div(a grad u) computed from the Darcy dataclass itself (autograd residual, f = 0)
    strong = Darcy(coefficient=a_smooth)
    return Darcy(coefficient=a_smooth, forcing=lambda x: strong.residual(u_exact, x).detach())


def grad_of(fn, x):
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(fn(x).sum(), x)
    return g


CENTRES = torch.tensor([[0.3, 0.6], [0.71, 0.22], [0.5, 0.5], [0.15, 0.85]], dtype=F64)


def test_wendland_values_gradients_and_support():
    for k in (1, 2):
        w = Wendland(2, smoothness=k)
        xi = torch.rand(200, 2, dtype=F64) * 2.4 - 1.2
        (ref,) = torch.autograd.grad(w.value(xi.requires_grad_(True)).sum(), xi)
        assert (w.gradient(xi) - ref).abs().max() < 1e-12
        outside = xi.norm(dim=-1) >= 1
        assert (w.value(xi)[outside] == 0).all() and (w.gradient(xi)[outside] == 0).all()
        assert w.value(torch.zeros(1, 2, dtype=F64)).item() == 1.0
        # C^{2k}: value and gradient vanish continuously at the sphere (O((1 - r)^(l+1)))
        near = torch.tensor([[1 - 1e-3, 0.0]], dtype=F64)
        assert w.value(near).item() < 1e-10 and w.gradient(near).abs().max() < 1e-7
    with pytest.raises(ValueError, match="xi must be a tensor"):
        Wendland(2).value(torch.zeros(3, 3))


def test_polar_quadrature_is_exact_for_polynomials_and_grid_rule_is_first_order():
    q = ball_quadrature(2, n=5)
    x, y = q.nodes[:, 0], q.nodes[:, 1]
    assert abs(q.weights.sum().item() - math.pi) < 1e-13
    # int_disk x^2 y^2 = pi / 24, int x^4 = pi / 8, odd moments vanish
    assert abs((q.weights * x**2 * y**2).sum().item() - math.pi / 24) < 1e-13
    assert abs((q.weights * x**4).sum().item() - math.pi / 8) < 1e-13
    assert abs((q.weights * x**3 * y).sum().item()) < 1e-14
    errs = []
    for n in (9, 17, 33):
        g = ball_quadrature(2, n=n, kind="grid")
        errs.append(abs((g.weights * g.nodes[:, 0] ** 2).sum().item() - math.pi / 4))
    assert errs[-1] < errs[0] and errs[-1] > 1e-5  # slow: the published rule, for reference


def test_primal_residual_of_exact_solution_converges_with_quadrature_and_radius():
    pde = smooth_darcy()
    f_scale = pde.forcing(CENTRES).abs().max().item()
    by_n = []
    for n in (3, 4, 6, 8, 10):
        wf = WeakForm(pde, radius=0.05, quadrature=ball_quadrature(2, n))
        by_n.append(wf.primal(CENTRES, grad_of(u_exact, wf.nodes(CENTRES))).abs().max().item())
    assert all(b < a for a, b in zip(by_n, by_n[1:])), by_n  # spectral in the rule
    assert by_n[-1] < 1e-10 * f_scale, by_n
    by_r = []
    radii = (0.2, 0.1, 0.05, 0.025)
    for r in radii:
        wf = WeakForm(pde, radius=r, quadrature=ball_quadrature(2, 6))
        by_r.append(wf.primal(CENTRES, grad_of(u_exact, wf.nodes(CENTRES))).abs().max().item())
    order = np.polyfit(np.log(radii), np.log(by_r), 1)[0]
    # the fixed rule integrates phi (degree 8 in r) times Taylor terms of degree <= 2 exactly;
    # odd terms cancel by symmetry, so the error is the R^4 remainder
    assert order > 3.5, (order, by_r)


def test_primal_residual_grows_for_a_perturbed_solution_like_the_strong_residual():
    pde = smooth_darcy()
    eps = 0.05

    def perturbed(x):
        return u_exact(x) + eps * bump(x)

    strong = Darcy(coefficient=a_smooth).residual(lambda x: eps * bump(x), CENTRES).detach()
    gaps = []
    for r in (0.04, 0.02, 0.01):
        wf = WeakForm(pde, radius=r, quadrature=ball_quadrature(2, 8))
        exact = wf.primal(CENTRES, grad_of(u_exact, wf.nodes(CENTRES)))
        pert = wf.primal(CENTRES, grad_of(perturbed, wf.nodes(CENTRES)))
        assert pert.abs().max() > 1e4 * exact.abs().max()
        gaps.append((pert - strong).abs().max().item() / strong.abs().max().item())
    # the weak residual is the phi-weighted local mean of the strong one: O(R^2) apart
    assert gaps[-1] < 0.01 and gaps[0] / gaps[-1] > 10, gaps
    # autograd convenience gives the same numbers
    wf = WeakForm(pde, radius=0.02)
    assert torch.allclose(
        wf.primal_of(perturbed, CENTRES), wf.primal(CENTRES, grad_of(perturbed, wf.nodes(CENTRES)))
    )


def _two_phase_problem(a1=5.0, a2=10.0):
    """-div(a grad u) = f with a = a1 | a2 across x = 1/2, u = g(x) sin(pi y), a g' continuous."""
    c = -(1 / a1 - 1 / a2) / (0.5 * (1 / a1 + 1 / a2))

    def a(x):
        return torch.where(x[..., 0] < 0.5, a1, a2).to(x.dtype)

    def g(x):
        X = x[..., 0]
        left = (torch.sin(math.pi * X) + c * X) / a1
        right = (1 + c / 2) / a1 + (torch.sin(math.pi * X) - 1 + c * (X - 0.5)) / a2
        return torch.where(X < 0.5, left, right)

    def f(x):
        return (math.pi**2 * torch.sin(math.pi * x[..., 0]) + a(x) * g(x) * math.pi**2) * torch.sin(
            math.pi * x[..., 1]
        )

    def flux(x):  # a grad u: the normal (x) component is continuous across the interface
        sx = (math.pi * torch.cos(math.pi * x[..., 0]) + c) * torch.sin(math.pi * x[..., 1])
        return torch.stack([sx, a(x) * g(x) * math.pi * torch.cos(math.pi * x[..., 1])], -1)

    def u(x):
        return g(x) * torch.sin(math.pi * x[..., 1])

    return Darcy(coefficient=a, forcing=f), u, flux


def test_mixed_residual_with_a_discontinuous_coefficient():
    pde, u, flux = _two_phase_problem()
    on_interface = torch.tensor([[0.5, 0.3], [0.52, 0.7], [0.47, 0.55]], dtype=F64)
    errs = []
    for n in (4, 8, 16, 32):
        wf = WeakForm(pde, radius=0.05, quadrature=ball_quadrature(2, n))
        x = wf.nodes(on_interface)
        eq, const = wf.mixed(on_interface, flux(x), grad_of(u, x))
        assert const.abs().max() < 1e-20  # s = a grad u exactly (u is differentiable off the line)
        errs.append(eq.abs().max().item())
    # the integrand jumps inside these balls: algebraic (first-order) convergence in the rule
    assert errs[-1] < errs[0] / 3 and errs[-1] < 0.01 * 10 * math.pi**2, errs
    # a smooth ball converges spectrally; a wrong flux is seen by both residuals
    wf = WeakForm(pde, radius=0.05, quadrature=ball_quadrature(2, 10))
    c = torch.tensor([[0.25, 0.4]], dtype=F64)
    x = wf.nodes(c)
    eq, _ = wf.mixed(c, flux(x), grad_of(u, x))
    assert eq.abs().max() < 1e-9
    eq_bad, const_bad = wf.mixed(c, flux(x) * 1.1 + 0.2 * x, grad_of(u, x))
    assert eq_bad.abs().max() > 0.1 and const_bad.min() > 1e-3


def test_weak_form_errors_and_centres():
    pde = Poisson()
    with pytest.raises(TypeError, match="divergence form"):
        WeakForm(object(), radius=0.1)
    with pytest.raises(ValueError, match="radius must be"):
        WeakForm(pde, radius=0.0)
    wf = WeakForm(pde, radius=0.1)
    with pytest.raises(ValueError, match="grad_u must have shape"):
        wf.primal(torch.rand(5, 2), torch.rand(5, 3, 2))
    g = torch.Generator().manual_seed(0)
    c = wf.sample_centres(50, batch=3, generator=g)
    assert c.shape == (3, 50, 2) and c.min() >= 0.1 and c.max() <= 0.9
    # Latin hypercube: one point per stratum on each axis
    strata = torch.floor((c[0] - 0.1) / 0.8 * 50).long()
    assert all(sorted(strata[:, ax].tolist()) == list(range(50)) for ax in range(2))
    with pytest.raises(ValueError, match="too large"):
        WeakForm(pde, radius=0.6).sample_centres(4)
    assert latin_hypercube(4, ((0.0, 1.0),)).shape == (4, 1)


def test_sample_field_nearest_and_linear():
    grid = Grid((5, 9))
    xg, yg = grid.coords(dtype=F64)
    field = torch.stack([2 * xg + 3 * yg, xg * yg])[None].repeat(2, 1, 1, 1)  # [2, 2, 5, 9]
    field[1] *= -1
    pts = torch.rand(2, 7, 3, 2, dtype=F64)
    lin = sample_field(field, grid, pts, method="linear")
    assert lin.shape == (2, 2, 7, 3)
    exact = 2 * pts[..., 0] + 3 * pts[..., 1]
    assert (lin[0, 0] - exact[0]).abs().max() < 1e-12
    assert (lin[1, 0] + exact[1]).abs().max() < 1e-12
    ref = grid.interpolate(field, pts[0].reshape(-1, 2)).reshape(2, 2, 7, 3)
    assert (lin[0] - ref[0]).abs().max() < 1e-12
    near = sample_field(field, grid, grid.points(dtype=F64)[None].repeat(2, 1, 1) + 1e-3)
    assert torch.equal(near, field.reshape(2, 2, -1))
    with pytest.raises(ValueError, match="points must have shape"):
        sample_field(field, grid, torch.rand(3, 4, 2))


@pytest.mark.parametrize("kind", ["sine", "polynomial"])
@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_mollifier_is_exactly_zero_on_the_boundary(kind, dtype):
    domain = ((0.0, 2.0), (-1.0, 0.5))
    mol = DirichletMollifier(domain, kind=kind, lift=lambda x: 1 + x[..., 0] * x[..., 1])
    t = torch.linspace(0, 1, 101, dtype=dtype)
    walls = []
    for ax in range(2):
        for end in (0, 1):
            pts = torch.empty(101, 2, dtype=dtype)
            lo, hi = domain[ax]
            other = domain[1 - ax]
            pts[:, ax] = (lo, hi)[end]
            pts[:, 1 - ax] = other[0] + (other[1] - other[0]) * t
            walls.append(pts)
    walls = torch.cat(walls)
    assert (mol(walls) == 0).all()
    n = torch.randn(walls.shape[0], dtype=dtype)
    u, _ = mol.apply(walls, n)
    assert torch.equal(u, 1 + walls[:, 0] * walls[:, 1])  # the boundary data, exactly
    inner = torch.rand(64, 2, dtype=F64) * torch.tensor([2.0, 1.5], dtype=F64) + torch.tensor(
        [0.0, -1.0], dtype=F64
    )
    m, dm = DirichletMollifier(domain, kind=kind).value_and_gradient(inner)
    assert (dm - grad_of(DirichletMollifier(domain, kind=kind), inner)).abs().max() < 1e-12
    centre = torch.tensor([[1.0, -0.25]], dtype=F64)
    assert abs(DirichletMollifier(domain, kind=kind)(centre).item() - 1) < 1e-15


def test_mollified_gradient_matches_autograd():
    mol = DirichletMollifier.for_pde(Poisson())

    def net(x):
        return torch.cos(3 * x[..., 0]) + x[..., 1] ** 3

    x = torch.rand(30, 2, dtype=F64)
    u, gu = mol.apply(x, net(x), grad_of(net, x))
    assert torch.allclose(u, mol(x) * net(x))
    assert (gu - grad_of(lambda p: mol(p) * net(p), x)).abs().max() < 1e-12


def test_fd_residual_is_second_order_and_reads_grid_coefficients():
    pde = smooth_darcy()
    errs = []
    for n in (17, 33, 65):
        grid = Grid((n, n))
        pts = grid.points(dtype=F64)
        u = u_exact(pts).reshape(1, 1, n, n)
        errs.append(fd_residual(pde, u, grid).abs().max().item())
        a = a_smooth(pts).reshape(1, 1, n, n)
        assert torch.allclose(fd_residual(pde, u, grid, coefficient=a), fd_residual(pde, u, grid))
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert (orders > 1.8).all(), (orders, errs)
    assert fd_residual(pde, u, grid, interior=False).shape == (1, 1, 65, 65)
    with pytest.raises(ValueError, match="coefficient must have shape"):
        fd_residual(pde, u, grid, coefficient=torch.ones(1, 1, 5, 5))


def test_darcy_flux_is_the_divergence_form_of_its_residual():
    pde = smooth_darcy()
    x = torch.rand(20, 2, dtype=F64).requires_grad_(True)
    with torch.enable_grad():
        flux = pde.flux(grad_of(u_exact, x).requires_grad_(False), x)
    # -div(a grad u) by autograd of the flux equals the residual + f
    xs = x.detach().requires_grad_(True)
    gu = torch.autograd.grad(u_exact(xs).sum(), xs, create_graph=True)[0]
    fl = pde.flux(gu, xs)
    div = sum(torch.autograd.grad(fl[:, i].sum(), xs, retain_graph=True)[0][:, i] for i in range(2))
    assert torch.allclose(-div, pde.forcing(x.detach()), atol=1e-10)
    assert torch.allclose(flux, a_smooth(x.detach())[:, None] * grad_of(u_exact, x))
