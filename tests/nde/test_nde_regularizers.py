"""Gradients of every regularizer (gradcheck, float64) and their agreement with torchsde."""

import pytest
import torch
import torchsde
from torch import nn
from torchsde._core.adaptive_stepping import compute_error

from sciml.nde.nfe import NFECounter
from sciml.nde.regularizers import RNODE, STEER, GlobalError, local_regularizer
from sciml.nde.sde_step import SDE_STEPS, sde_step_doubling_error
from sciml.nde.solve import odesolve
from sciml.nde.tableau import Dopri5, Tsit5

DT = torch.float64


class _Lin(nn.Module):
    """f(t, y) = tanh(y W): parameters passed in so gradcheck can perturb them."""

    def __init__(self, w):
        super().__init__()
        self.w = w

    def forward(self, t, y):
        return torch.tanh(y @ self.w)


def _w():
    return (0.8 * torch.randn(2, 2, dtype=DT)).requires_grad_(True)


@pytest.mark.parametrize("tab", [Dopri5, Tsit5], ids=lambda t: t.name)
def test_global_error_and_stiffness_gradcheck(tab):
    w, y0 = _w(), torch.randn(3, 2, dtype=DT, requires_grad=True)
    t = torch.tensor([0.0, 0.7, 1.5], dtype=DT)

    def fn(w, y0):
        sol = odesolve(
            _Lin(w), y0, t, tableau=tab, rtol=1e-4, atol=1e-5, differentiate_step_sizes=True
        )
        return sol.ys, sol.error_integral, sol.stiffness_integral

    assert torch.autograd.gradcheck(fn, (w, y0))


@pytest.mark.parametrize("kind", ["error", "stiffness"])
def test_local_regularizer_gradcheck(kind):
    w, y0 = _w(), torch.randn(3, 2, dtype=DT, requires_grad=True)
    t = torch.tensor([0.0, 0.5, 1.0], dtype=DT)

    def fn(w, y0):
        r = local_regularizer(
            _Lin(w),
            y0,
            t,
            rtol=1e-4,
            atol=1e-5,
            kind=kind,
            t_reg=0.3,
            dt_reg=0.2,
            method="rk4",
            options={"step_size": 0.05},
        )
        return r.ys, r.penalty

    assert torch.autograd.gradcheck(fn, (w, y0))


def test_local_regularizer_costs_one_extra_step():
    f = NFECounter(_Lin(_w()))
    y0 = torch.randn(4, 2, dtype=DT)
    t = torch.tensor([0.0, 1.0, 2.0], dtype=DT)
    from torchdiffeq import odeint

    odeint(f, y0, t, rtol=1e-6, atol=1e-8)
    base = f.nfe
    for sampling in ("uniform", "steps"):
        f.reset()
        r = local_regularizer(f, y0, t, rtol=1e-6, atol=1e-8, sampling=sampling)
        # the solve may gain a step from the extra output time; the regularizer adds 7 calls
        assert base + 7 <= f.nfe <= base + 7 + 6, (sampling, base, f.nfe)
        assert float(r.penalty.detach()) > 0
        assert r.ys.shape == (3, 4, 2)


def test_rnode_gradcheck_and_values():
    w, y0 = _w(), torch.randn(3, 2, dtype=DT, requires_grad=True)
    t = torch.linspace(0, 1, 6, dtype=DT)
    reg = RNODE(kinetic=1.0, jacobian=0.5, method="rk4", generator=torch.Generator().manual_seed(0))

    def fn(w, y0):
        reg.generator.manual_seed(0)  # the same Hutchinson probe in every evaluation
        return reg.solve(_Lin(w), y0, t, rtol=1e-6, atol=1e-8).penalty

    assert torch.autograd.gradcheck(fn, (w, y0))

    # kinetic energy of f = -y from y0: int_0^1 |y0|^2 e^{-2t} dt, exact up to rk4 error
    class _Neg(nn.Module):
        def forward(self, t, y):
            return -y

    y0 = torch.tensor([[1.0, 2.0]], dtype=DT)
    s = RNODE(method="dopri5").solve(_Neg(), y0, t, rtol=1e-9, atol=1e-11)
    exact = 5.0 * (1 - torch.exp(torch.tensor(-2.0, dtype=DT))) / 2
    assert abs(s.parts["kinetic"] - float(exact)) < 1e-7
    # Hutchinson of ||J||_F^2 = 2 for J = -I has mean 2; one probe gives |eps|^2 int 1 dt
    assert s.parts["jacobian"] > 0


def test_steer_perturbs_end_time_only():
    f = NFECounter(_Lin(_w()))
    y0 = torch.randn(2, 2, dtype=DT)
    t = torch.tensor([0.0, 1.0, 2.0], dtype=DT)
    r = STEER(0.5, generator=torch.Generator().manual_seed(1)).solve(f, y0, t, rtol=1e-6, atol=1e-8)
    assert r.t[:2].tolist() == [0.0, 1.0] and abs(float(r.t[-1]) - 2.0) <= 0.5
    with pytest.raises(ValueError, match="last interval"):
        STEER(1.5).solve(f, y0, t, rtol=1e-6, atol=1e-8)


class _DiagSDE(nn.Module):
    noise_type, sde_type = "diagonal", "ito"

    def __init__(self, a, s):
        super().__init__()
        self.a, self.s = a, s

    def f(self, t, y):
        return torch.tanh(y @ self.a)

    def g(self, t, y):
        return self.s * torch.sin(y)


def _bm(shape, t1=1.0):
    return torchsde.BrownianInterval(
        t0=0.0, t1=t1, size=shape, dtype=DT, entropy=7, levy_area_approximation="none"
    )


@pytest.mark.parametrize("method", ["euler", "milstein"])
def test_sde_steps_match_torchsde(method):
    sde = _DiagSDE(torch.randn(2, 2, dtype=DT), torch.tensor(0.3, dtype=DT))
    y0 = torch.randn(3, 2, dtype=DT)
    bm = _bm((3, 2))
    ts = torch.linspace(0, 1, 11, dtype=DT)
    opts = {"grad_free": True} if method == "milstein" else None
    ref = torchsde.sdeint(sde, y0, ts, bm=bm, method=method, dt=0.1, options=opts)[-1]
    y, tc = y0, ts[0]
    while tc < ts[-1]:  # torchsde's own time bookkeeping: t_next = min(t + dt, t_end)
        tn = torch.clamp(tc + 0.1, max=ts[-1])
        y, tc = SDE_STEPS[method](sde, tc, y, tn - tc, bm(tc, tn)), tn
    assert (y - ref).abs().max() < 1e-12  # same arithmetic, same Brownian increments
    # the step-doubling error equals torchsde's (non-differentiable) compute_error
    e = sde_step_doubling_error(sde, 0.2, y0, 0.1, bm, method=method, rtol=1e-3, atol=1e-4)
    step = SDE_STEPS[method]
    t0, dt = torch.tensor(0.2, dtype=DT), torch.tensor(0.1, dtype=DT)
    tm, t1 = t0 + 0.5 * dt, t0 + dt  # the same floating-point times, so the same increments
    full = step(sde, t0, y0, t1 - t0, bm(t0, t1))
    half = step(sde, tm, step(sde, t0, y0, tm - t0, bm(t0, tm)), t1 - tm, bm(tm, t1))
    assert abs(float(e) - compute_error(full, half, 1e-3, 1e-4)) < 1e-12


def test_sde_step_doubling_gradcheck():
    a = torch.randn(2, 2, dtype=DT, requires_grad=True)
    s = torch.tensor(0.3, dtype=DT, requires_grad=True)
    y0 = torch.randn(3, 2, dtype=DT, requires_grad=True)
    bm = _bm((3, 2))

    def fn(a, s, y0):
        return sde_step_doubling_error(_DiagSDE(a, s), 0.2, y0, 0.1, bm, rtol=1e-3, atol=1e-4)

    assert torch.autograd.gradcheck(fn, (a, s, y0))
    with pytest.raises(ValueError, match="method"):
        sde_step_doubling_error(_DiagSDE(a, s), 0.2, y0, 0.1, bm, method="srk")


def test_global_error_regularizer_drives_error_down():
    """One gradient step on sum E_j |dt_j| lowers it (the controller quantity is learnable)."""
    w = _w()
    y0 = torch.randn(8, 2, dtype=DT)
    reg = GlobalError()
    t = torch.tensor([0.0, 2.0], dtype=DT)
    p0 = reg.solve(_Lin(w), y0, t, rtol=1e-5, atol=1e-6).penalty
    (g,) = torch.autograd.grad(p0, w)
    with torch.no_grad():
        p1 = reg.solve(_Lin(w - 0.05 * g / g.norm()), y0, t, rtol=1e-5, atol=1e-6).penalty
    assert float(p1) < float(p0.detach())
