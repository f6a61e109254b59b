"""The differentiable RK step and solve against torchdiffeq (float64), gradients, estimates."""

import pytest
import torch
from torchdiffeq import odeint
from torchdiffeq._impl.dopri5 import Dopri5Solver
from torchdiffeq._impl.misc import _rms_norm, _select_initial_step
from torchdiffeq._impl.rk_common import _ButcherTableau, _runge_kutta_step

from sciml.nde.solve import odesolve
from sciml.nde.step import initial_step, rk_step
from sciml.nde.tableau import Dopri5, Tsit5

DT = torch.float64


def _torchdiffeq_tableau(tab):
    """Our coefficients in torchdiffeq's format, so torchdiffeq's RK machinery runs them."""
    d = tab.tensors(DT)
    return _ButcherTableau(
        alpha=d["c"][1:],
        beta=[d["a"][i, :i] for i in range(1, tab.stages())],
        c_sol=d["b"],
        c_error=d["b_err"],
    )


class _TorchdiffeqTsit5(Dopri5Solver):
    """torchdiffeq's adaptive RK solver (controller, interpolation) driving the Tsit5 tableau."""

    tableau = _torchdiffeq_tableau(Tsit5)
    mid = Tsit5.tensors(DT)["mid"]


def _field():
    g = torch.Generator().manual_seed(1)
    w = torch.randn(3, 3, generator=g, dtype=DT)
    return lambda t, y: torch.tanh(y @ w) * (1 + 0.5 * torch.sin(t)) - 0.1 * y


@pytest.mark.parametrize("tab", [Dopri5, Tsit5], ids=lambda t: t.name)
def test_step_matches_torchdiffeq(tab):
    f = _field()
    y0 = torch.randn(4, 3, dtype=DT)
    t0, dt = torch.tensor(0.3, dtype=DT), torch.tensor(0.2, dtype=DT)
    ref_tab = _torchdiffeq_tableau(tab)
    y1, f1, err, _ = _runge_kutta_step(
        lambda t, y, perturb=None: f(t, y), y0, f(t0, y0), t0, dt, t0 + dt, ref_tab
    )
    r = rk_step(f, t0, y0, dt, tableau=tab, rtol=1e-6, atol=1e-8)
    # 1e-10 is the spec; both are the same float64 arithmetic up to summation order (~1e-16)
    assert (r.y1 - y1).abs().max() < 1e-10
    assert (r.f1 - f1).abs().max() < 1e-10
    assert (r.error - err).abs().max() < 1e-10
    tol = 1e-8 + 1e-6 * torch.maximum(y0.abs(), y1.abs())
    ref_ratio = float(_rms_norm(err / tol))
    # relative 1e-8: torchdiffeq sums b_err_i k_i, we sum b_err_i (k_i - k_1); Tsit5's 16-digit
    # b_err add up to 9e-16, not 0, so the two differ by ~1e-16 |k_1| dt on an error of ~1e-8
    assert abs(float(r.error_ratio) - ref_ratio) < 1e-8 * ref_ratio


def test_dopri5_solve_matches_torchdiffeq_odeint():
    f = _field()
    y0 = torch.randn(5, 3, dtype=DT)
    t = torch.linspace(0, 4, 9, dtype=DT)
    ref = odeint(f, y0, t, method="dopri5", rtol=1e-7, atol=1e-9)
    sol = odesolve(f, y0, t, tableau=Dopri5, rtol=1e-7, atol=1e-9)
    # same steps, same dense output: agreement to round-off (spec: 1e-10)
    assert (sol.ys - ref).abs().max() < 1e-10
    assert sol.n_accepted > 5


def test_tsit5_solve_matches_torchdiffeq_machinery():
    f = _field()
    y0 = torch.randn(5, 3, dtype=DT)
    t = torch.linspace(0, 4, 9, dtype=DT)
    calls = {"n": 0}

    def counted(tt, y, perturb=None):
        calls["n"] += 1
        return f(tt, y)

    solver = _TorchdiffeqTsit5(func=counted, y0=y0, rtol=1e-7, atol=1e-9, norm=_rms_norm)
    ref = _integrate(solver, t)
    sol = odesolve(f, y0, t, tableau=Tsit5, rtol=1e-7, atol=1e-9)
    assert (sol.ys - ref).abs().max() < 1e-10
    assert sol.nfe == calls["n"]


def _integrate(solver, t):
    class _F:
        def __init__(self, fn):
            self.fn = fn

        def __call__(self, tt, y, perturb=None):
            return self.fn(tt, y)

        def callback_step(self, *a):
            pass

        callback_accept_step = callback_reject_step = callback_step

    solver.func = _F(solver.func)
    return solver.integrate(t)


def test_initial_step_matches_torchdiffeq():
    f = _field()
    y0 = torch.randn(4, 3, dtype=DT)
    t0 = torch.tensor(0.0, dtype=DT)
    ref = _select_initial_step(f, t0, y0, 4, torch.tensor(1e-6, dtype=DT), 1e-8, _rms_norm)
    ours = initial_step(f, t0, y0, order=4, rtol=1e-6, atol=1e-8)
    assert abs(float(ours) - float(ref)) < 1e-14


@pytest.mark.parametrize("tab", [Dopri5, Tsit5], ids=lambda t: t.name)
def test_step_gradcheck(tab):
    w = torch.randn(3, 3, dtype=DT, requires_grad=True)
    y0 = torch.randn(2, 3, dtype=DT, requires_grad=True)
    dt = torch.tensor(0.15, dtype=DT, requires_grad=True)

    def fn(w, y0, dt):
        r = rk_step(lambda t, y: torch.tanh(y @ w), 0.1, y0, dt, tableau=tab, rtol=1e-3, atol=1e-4)
        return r.y1, r.error_ratio, r.stiffness

    assert torch.autograd.gradcheck(fn, (w, y0, dt))
    y0h = torch.randn(2, 3, dtype=DT, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda y: initial_step(
            lambda t, z: torch.tanh(z @ w), 0.0, y, order=4, rtol=1e-3, atol=1e-4
        ),
        (y0h,),
    )


@pytest.mark.parametrize("tab", [Dopri5, Tsit5], ids=lambda t: t.name)
def test_error_estimate_zero_for_constant_field_positive_otherwise(tab):
    y0 = torch.randn(3, 2, dtype=DT)
    c = torch.tensor([1.5, -2.0], dtype=DT)
    r = rk_step(lambda t, y: c.expand_as(y), 0.0, y0, 0.3, tableau=tab)
    assert float(r.error_ratio) == 0.0  # exact: err = dt * sum b_err_i (k_i - k_1), all k_i equal
    sol = odesolve(lambda t, y: c.expand_as(y), y0, torch.tensor([0.0, 2.0], dtype=DT))
    assert float(sol.error_integral) == 0.0
    sol = odesolve(lambda t, y: -(y**2), y0.abs(), torch.tensor([0.0, 2.0], dtype=DT), tableau=tab)
    assert float(sol.error_integral) > 1e-3


@pytest.mark.parametrize("tab", [Dopri5, Tsit5], ids=lambda t: t.name)
@pytest.mark.parametrize("dt", [0.004, 0.02, 0.05])
def test_stiffness_estimate_matches_dominant_eigenvalue(tab, dt):
    g = torch.Generator().manual_seed(3)
    q, _ = torch.linalg.qr(torch.randn(4, 4, generator=g, dtype=DT))
    lam = torch.tensor([-60.0, -5.0, -1.0, -0.2], dtype=DT)
    a = q @ torch.diag(lam) @ q.T
    y0 = torch.randn(2, 4, generator=g, dtype=DT)
    r = rk_step(lambda t, y: y @ a.T, 0.0, y0, dt, tableau=tab)
    # the spec asks for 10%; for a linear field k7 - k6 = A (g7 - g6) and the stiff mode dominates
    assert abs(float(r.stiffness) - 60.0) / 60.0 < 0.10


def test_bad_inputs():
    f = lambda t, y: -y  # noqa: E731
    with pytest.raises(TypeError, match="y0"):
        rk_step(f, 0.0, [1.0], 0.1)
    with pytest.raises(ValueError, match="rtol"):
        rk_step(f, 0.0, torch.ones(2), 0.1, rtol=-1)
    with pytest.raises(ValueError, match="increasing"):
        odesolve(f, torch.ones(2), torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="1-D"):
        odesolve(f, torch.ones(2), torch.tensor([1.0]))
    with pytest.raises(RuntimeError, match="max_steps"):
        odesolve(f, torch.ones(2), torch.tensor([0.0, 100.0]), max_steps=3)
