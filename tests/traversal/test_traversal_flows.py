"""Potential flows: the flow follows grad u, PDE residuals vanish on analytic potentials, the
initial condition, the generator-variation term and the reconstructor constraint."""

import math

import pytest
import torch
from torch import nn

from sciml.physics import Hutchinson, laplacian_estimator
from sciml.traversal import (
    LinearDirections,
    PDEConstraint,
    Potential,
    PotentialFlow,
    Reconstructor,
    TraversalObjective,
    generator_variation,
    traversal_pde,
)

D = torch.float64


class Analytic(nn.Module):
    """A closed-form potential ``u(z, t)`` with the ``points`` face of :class:`Potential`."""

    def __init__(self, fn, dim, speed=None):
        super().__init__()
        self.fn, self.dim = fn, dim
        if speed is not None:
            self.speed = nn.Parameter(torch.tensor(speed, dtype=D))

    def forward(self, z, t):
        t = torch.as_tensor(t, dtype=z.dtype).expand(z.shape[0])
        return self.fn(z, t)

    def points(self, p):
        return self.fn(p[:, : self.dim], p[:, self.dim])


def _solutions(dim):
    """An analytic solution of each traversal PDE (unit coefficients) in ``dim`` dimensions."""
    g = torch.Generator().manual_seed(dim)
    k = torch.randn(dim, generator=g, dtype=D) * 0.7
    kn = k.norm()
    c = 0.8  # the wave speed: a potential's learnable parameter

    def ou(z, t):  # Gaussian density under the Ornstein-Uhlenbeck drift -z, D = 1
        m = 0.4 * torch.exp(-t)[:, None]
        s = 1.0 + (0.5 - 1.0) * torch.exp(-2 * t)[:, None]
        return (torch.exp(-((z - m) ** 2) / (2 * s)) / torch.sqrt(2 * math.pi * s)).prod(1)

    return {
        "wave": Analytic(lambda z, t: torch.sin(z @ k - c * kn * t), dim, speed=c),
        "heat": Analytic(lambda z, t: torch.exp(-(kn**2) * t) * torch.sin(z @ k), dim),
        "fokker-planck": Analytic(ou, dim),
        "hamilton-jacobi": Analytic(lambda z, t: (z**2).sum(1) / (2 * (1 + t)), dim),
    }


@pytest.mark.parametrize("dim", [2, 3, 6])
@pytest.mark.parametrize("name", ["wave", "heat", "fokker-planck", "hamilton-jacobi"])
def test_residual_vanishes_on_analytic_potential(name, dim):
    pot = _solutions(dim)[name]
    flow = PotentialFlow(dim, 1, potentials=[pot], step_size=0.1)
    constraint = PDEConstraint(traversal_pde(name, dim))
    z0 = torch.randn(16, dim, dtype=D) * 0.5
    traj = flow.trajectory(z0, 0, 4)
    loss = constraint.loss(flow, traj, 0)
    assert loss.shape == (16,)
    assert loss.max() < 1e-20, (name, dim, loss.max())
    # a perturbed potential does not solve it
    bad = Analytic(lambda z, t, f=pot.fn: f(z, t) + 0.1 * z[:, 0] ** 3 * t, dim, speed=0.8)
    flow_bad = PotentialFlow(dim, 1, potentials=[bad], step_size=0.1)
    assert constraint.loss(flow_bad, traj, 0).mean() > 1e-4


def test_wave_residual_with_hutchinson_and_learnable_speed():
    dim = 8
    pot = _solutions(dim)["wave"]
    flow = PotentialFlow(dim, 1, potentials=[pot])
    z = torch.randn(32, dim, dtype=D)
    t = torch.rand(32, dtype=D)
    # plane waves: the Hessian is rank one, so even one Rademacher probe is not exact, but the
    # residual is linear in the Laplacian estimate and its mean over many probes vanishes
    with laplacian_estimator(Hutchinson(probes=64, generator=torch.Generator().manual_seed(0))):
        r = PDEConstraint(traversal_pde("wave", dim)).residual(flow, z, 0, t)
    exact = PDEConstraint(traversal_pde("wave", dim)).residual(flow, z, 0, t)
    assert exact.abs().max() < 1e-12
    assert r.abs().mean() < 0.3 * pot.points(torch.cat([z, t[:, None]], 1)).abs().mean() * 2
    # the speed is learned through the residual
    pot.speed.data.fill_(1.3)
    PDEConstraint(traversal_pde("wave", dim)).loss(
        flow, flow.trajectory(z, 0, 2), 0
    ).sum().backward()
    assert pot.speed.grad is not None and pot.speed.grad.abs() > 0
    # with learn_speed=False the PDE's own c = 1 is used
    res = PDEConstraint(traversal_pde("wave", dim), learn_speed=False).residual(flow, z, 0, t)
    assert res.abs().max() > 1e-3


def test_flow_follows_grad_u_exactly():
    torch.manual_seed(1)
    dim, steps = 5, 6
    flow = PotentialFlow(dim, 3, hidden=16, step_size=0.7).double()
    z0 = torch.randn(10, dim, dtype=D)
    k = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 2])
    traj = flow.trajectory(z0, k, steps)
    assert traj.shape == (steps + 1, 10, dim)
    # replay with torch.func.grad on each sample separately
    for i in range(10):
        z = z0[i]
        pot = flow.potentials[int(k[i])]
        for s in range(steps):
            g = torch.func.grad(lambda zz, s=s, pot=pot: pot(zz[None], float(s))[0])(z)
            z = z + 0.7 * g
            assert torch.allclose(traj[s + 1, i], z, atol=1e-13, rtol=0)
    # and the gradient is the finite-difference gradient of the potential
    eps = 1e-6
    z, pot = z0[:1], flow.potentials[0]
    fd = torch.stack(
        [
            (pot(z + eps * e, 2.0) - pot(z - eps * e, 2.0))[0] / (2 * eps)
            for e in torch.eye(dim, dtype=D)
        ]
    )
    assert torch.allclose(flow.velocity(z, 0, 2.0)[0] / 0.7, fd, atol=1e-8)
    # works under no_grad and returns detached steps; create_graph keeps the graph
    with torch.no_grad():
        assert not flow.trajectory(z0, 1, 2).requires_grad
    flow.trajectory(z0, 1, 2, create_graph=True).sum().backward()
    assert all(
        p.grad is not None
        for p in flow.potentials[1].parameters()
        if p is not flow.potentials[1].speed
    )


def test_potential_shapes_and_errors():
    pot = Potential(4, 8)
    u = pot(torch.randn(7, 4), 0.5)
    assert u.shape == (7,) and u.abs().max() <= 1
    assert pot.points(torch.randn(7, 5)).shape == (7,)
    with pytest.raises(ValueError, match="z must be"):
        pot(torch.randn(7, 3), 0.0)
    flow = PotentialFlow(4, 2, hidden=8)
    with pytest.raises(ValueError, match="k must be in"):
        flow.trajectory(torch.randn(3, 4), 2, 1)
    with pytest.raises(ValueError, match="pde must be a time-dependent"):
        PDEConstraint(traversal_pde("wave", 4).__class__.__mro__[1]())  # the PDE base class
    with pytest.raises(ValueError, match="pde must be one of"):
        traversal_pde("poisson", 4)
    with pytest.raises(ValueError, match="latent dim"):
        PDEConstraint(traversal_pde("heat", 3)).loss(flow, torch.zeros(2, 1, 4), 0)


def test_initial_condition_only_for_second_order_in_time():
    flow = PotentialFlow(3, 2, hidden=8).double()
    z = torch.randn(5, 3, dtype=D)
    ic = PDEConstraint(traversal_pde("wave", 3)).initial_condition(flow, z, 1)
    g = flow.velocity(z, 1, 0.0)
    assert torch.allclose(ic, (g**2).sum(1))
    assert PDEConstraint(traversal_pde("heat", 3)).initial_condition(flow, z, 1).abs().max() == 0


def test_generator_variation_is_the_jvp():
    a = torch.randn(6, 3, dtype=D)
    gen = lambda z: torch.tanh(z @ a.T)  # noqa: E731
    z, v = torch.randn(4, 3, dtype=D), torch.randn(4, 3, dtype=D, requires_grad=True)
    var = generator_variation(gen, z, v)
    jv = (1 - torch.tanh(z @ a.T) ** 2) * (v @ a.T)
    assert torch.allclose(var, jv.pow(2).mean(1))
    var.sum().backward()  # differentiable w.r.t. the tangent (the potentials)
    assert v.grad is not None and v.grad.abs().sum() > 0


def _toy():
    # a "generator" whose output only sees two known latent directions a1, a2 (of 4)
    dirs = torch.tensor([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]]) / math.sqrt(2)
    gen = lambda z: torch.cat([z @ dirs.T, torch.tanh(z @ dirs.T)], 1)  # noqa: E731
    return dirs, gen


@pytest.mark.parametrize("kind", ["hamilton-jacobi", "linear"])
def test_reconstructor_term_decreases_on_two_known_directions(kind):
    torch.manual_seed(0)
    torch.set_flush_denormal(True)
    dirs, gen = _toy()
    if kind == "linear":
        trav = LinearDirections(4, 2, step_size=1.0)
        obj = TraversalObjective(steps=3, variation=0.0)
    else:
        trav = PotentialFlow(4, 2, hidden=16)
        obj = TraversalObjective(
            steps=3, constraint=PDEConstraint(traversal_pde(kind, 4)), variation=0.1
        )
    rec = Reconstructor((4,), 2, width=32)
    opt = torch.optim.Adam(list(trav.parameters()) + list(rec.parameters()), lr=3e-2)
    g = torch.Generator().manual_seed(0)
    ce = []
    for _ in range(100):
        z0 = torch.randn(64, 4, generator=g)
        loss, terms = obj(trav, gen, rec, z0, generator_rng=g)
        opt.zero_grad()
        loss.mean().backward()
        opt.step()
        ce.append(terms["cls"].mean().item())
    first, last = ce[0], sum(ce[-5:]) / 5
    assert first > 0.5 and last < 0.15, (first, last)  # chance is log 2 = 0.69
    # (without mirrored paths, a direction and its opposite count as different traversals,
    # so the learned directions need not align with the two visible ones)


def test_collocation_subsets_are_unbiased():
    torch.manual_seed(3)
    flow = PotentialFlow(3, 2, hidden=8).double()
    c = PDEConstraint(traversal_pde("heat", 3))
    z0 = torch.randn(6, 3, dtype=D)
    traj = flow.trajectory(z0, 1, 4)
    full = c.loss(flow, traj, 1)
    per_step = torch.stack(
        [c.loss(flow, traj, 1, steps=torch.full((6, 1), s)) for s in range(4)], 1
    )  # [N, T]
    assert torch.allclose(full, per_step.mean(1))
    pick = torch.tensor([[0, 2]] * 6)
    assert torch.allclose(c.loss(flow, traj, 1, steps=pick), per_step[:, [0, 2]].mean(1))
    with pytest.raises(ValueError, match="collocation"):
        TraversalObjective(steps=3, collocation=4)
