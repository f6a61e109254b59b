"""Regularizers of neural ODEs: each one is a way of solving the ODE during training that also
returns a scalar penalty.

All share one interface, ``reg.solve(func, y0, t, *, rtol, atol) -> RegularizedSolve``, with
``func(t, y)`` an ``nn.Module`` (wrap it in :class:`~sciml.nde.nfe.NFECounter` to count NFE),
``y0: [B, D]`` and ``t: [T]`` increasing. Prediction always uses plain ``torchdiffeq.odeint``
(``dopri5``), so every method is judged by the solver a user would run.

* :class:`Unregularized` - ``torchdiffeq.odeint``; penalty 0.
* :class:`STEER` - random end time ``t[-1] ~ U(t[-1] - b, t[-1] + b)`` (Ghosh et al. 2020).
* :class:`RNODE` - kinetic energy ``int ||f||^2`` plus Jacobian Frobenius norm
  ``int ||df/dz||_F^2`` (Hutchinson estimate), integrated alongside the state (Finlay et al. 2020).
* :class:`GlobalError` / :class:`GlobalStiffness` - our differentiable adaptive solve,
  penalty ``sum_j E_j |dt_j|`` or ``sum_j S_j |dt_j|`` over accepted steps (ERNODE / SRNODE,
  Pal et al. 2021).
* :class:`LocalRegularizer` - torchdiffeq solve with an extra random time ``t_reg``, then one
  differentiable step from ``(t_reg, z(t_reg))``; penalty ``E * dt`` (or ``S * dt``) of that
  step (Pal et al. 2023).

Each class declares its contract as class attributes, which the shared test contract
(:mod:`sciml.testing.nde_regularizers`) measures for every name in :mod:`sciml.nde.registry`:

* ``name`` - the registry name;
* ``random`` - draws random numbers per solve (and takes ``generator=``);
* ``vanishes_for`` - the widest class of vector fields whose penalty is exactly zero:
  ``"any"`` (no penalty at all), ``"constant"`` (fields ``f(t, z) = c``, which every Runge-Kutta
  step integrates exactly, so error and stiffness estimates vanish) or ``"zero"`` (``f = 0``);
  wherever it does not vanish the penalty is positive and differentiable in the field's
  parameters;
* ``reduces_nfe`` - descending the penalty alone makes the plain ``dopri5`` solve cheaper
  (not declared by the stiffness penalties: on three random tanh fields 20 descent steps gave
  0.53x / 0.91x / 1.12x the NFE (global) and 0.87x / 1.18x / 0.83x (local); the papers found
  stiffness regularization useful on PhysioNet only, and local stiffness "did not yield
  positive results").

Every regularized solve returns the ODE's solution at the times ``RegularizedSolve.t`` it
reports (the requested ones, or STEER's moved end time).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn
from torchdiffeq import odeint, odeint_adjoint

from sciml.nde.solve import odesolve
from sciml.nde.step import rk_step
from sciml.nde.tableau import ButcherTableau, Dopri5

_ADAPTIVE = ("dopri5", "dopri8", "bosh3", "fehlberg2", "adaptive_heun")

__all__ = [
    "RegularizedSolve",
    "Unregularized",
    "STEER",
    "RNODE",
    "GlobalError",
    "GlobalStiffness",
    "LocalRegularizer",
    "local_regularizer",
]


@dataclass
class RegularizedSolve:
    """``ys: [T, B, D]`` solution at the (possibly perturbed) times ``t: [T]``; ``penalty: []``;
    ``parts``: named float components of the penalty (for logging)."""

    ys: torch.Tensor
    t: torch.Tensor
    penalty: torch.Tensor
    parts: dict[str, float] = field(default_factory=dict)


def _check(y0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    if not isinstance(y0, torch.Tensor) or not torch.is_floating_point(y0):
        raise TypeError("y0 must be a floating-point torch.Tensor")
    t = torch.as_tensor(t, dtype=y0.dtype, device=y0.device)
    if t.ndim != 1 or t.numel() < 2 or not bool((t[1:] > t[:-1]).all()):
        raise ValueError(f"t must be 1-D, strictly increasing, with >= 2 times; got {t.tolist()}")
    return t


class Unregularized:
    """Plain ``torchdiffeq.odeint`` (``method``, default ``"dopri5"``); penalty 0."""

    name = "none"
    random = False
    vanishes_for = "any"
    reduces_nfe = False

    def __init__(self, method: str = "dopri5", adjoint: bool = False):
        self.method, self.adjoint = method, adjoint

    def solve(
        self, func: nn.Module, y0: torch.Tensor, t: torch.Tensor, *, rtol: float, atol: float
    ) -> RegularizedSolve:
        t = _check(y0, t)
        ode = odeint_adjoint if self.adjoint else odeint
        ys = ode(func, y0, t, rtol=rtol, atol=atol, method=self.method)
        return RegularizedSolve(ys, t, y0.new_zeros(()))


class STEER(Unregularized):
    """STEER: the end time is drawn from ``U(t[-1] - b, t[-1] + b)`` at every training solve.

    Args:
        b: half-width; must be smaller than the last interval ``t[-1] - t[-2]``.
        generator: optional ``torch.Generator`` for the draw.
    """

    name = "steer"
    random = True

    def __init__(
        self,
        b: float,
        method: str = "dopri5",
        adjoint: bool = False,
        generator: torch.Generator | None = None,
    ):
        super().__init__(method, adjoint)
        if b <= 0:
            raise ValueError(f"b must be positive, got {b}")
        self.b, self.generator = b, generator

    def perturb(self, t: torch.Tensor) -> torch.Tensor:
        """A copy of ``t: [T]`` with the end time drawn from ``U(t[-1] - b, t[-1] + b)``."""
        t = t.clone()
        if self.b >= float(t[-1] - t[-2]):
            raise ValueError(f"STEER b={self.b} must be < the last interval {float(t[-1] - t[-2])}")
        u = torch.rand((), generator=self.generator).item()
        t[-1] = t[-1] + (2 * u - 1) * self.b
        return t

    def solve(
        self, func: nn.Module, y0: torch.Tensor, t: torch.Tensor, *, rtol: float, atol: float
    ) -> RegularizedSolve:
        return super().solve(func, y0, self.perturb(_check(y0, t)), rtol=rtol, atol=atol)


class _RNODEDynamics(nn.Module):
    """Augmented state ``[z, kinetic, jacobian]``: ``[B, D + 2]``."""

    def __init__(self, func: nn.Module, eps: torch.Tensor):
        super().__init__()
        self.func, self.eps = func, eps

    def forward(self, t: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        z = s[..., :-2]
        with torch.enable_grad():
            if not z.requires_grad:
                z = z.detach().requires_grad_(True)
            dz = self.func(t, z)
            (vjp,) = torch.autograd.grad(dz, z, self.eps, create_graph=torch.is_grad_enabled())
        kin = dz.pow(2).sum(-1, keepdim=True)
        jac = vjp.pow(2).sum(-1, keepdim=True)
        return torch.cat([dz, kin, jac], dim=-1)


class RNODE:
    """Kinetic energy + Jacobian Frobenius regularization (RNODE, Finlay et al. 2020).

    penalty = ``kinetic * mean_B int ||f||^2 dt + jacobian * mean_B int ||eps^T df/dz||^2 dt``
    with one Gaussian ``eps: [B, D]`` per solve (Hutchinson's trace estimator). The integrals are
    carried as two extra state components through ``torchdiffeq.odeint``.
    """

    name = "rnode"
    random = True
    vanishes_for = "zero"
    reduces_nfe = True

    def __init__(
        self,
        kinetic: float = 1.0,
        jacobian: float = 1.0,
        method: str = "dopri5",
        generator: torch.Generator | None = None,
    ):
        self.kinetic, self.jacobian, self.method, self.generator = (
            kinetic,
            jacobian,
            method,
            generator,
        )

    def solve(
        self, func: nn.Module, y0: torch.Tensor, t: torch.Tensor, *, rtol: float, atol: float
    ) -> RegularizedSolve:
        t = _check(y0, t)
        eps = torch.randn(y0.shape, generator=self.generator).to(y0)
        dyn = _RNODEDynamics(func, eps)
        s0 = torch.cat([y0, y0.new_zeros(*y0.shape[:-1], 2)], dim=-1)
        ss = odeint(dyn, s0, t, rtol=rtol, atol=atol, method=self.method)
        kin = ss[-1, ..., -2].mean()
        jac = ss[-1, ..., -1].mean()
        penalty = self.kinetic * kin + self.jacobian * jac
        return RegularizedSolve(
            ss[..., :-2],
            t,
            penalty,
            {"kinetic": float(kin.detach()), "jacobian": float(jac.detach())},
        )


class GlobalError:
    """ERNODE: ``sum_j E_j |dt_j|`` through our differentiable adaptive solve
    (:func:`~sciml.nde.solve.odesolve`, ``tableau`` default :class:`Dopri5`, the pair torchdiffeq's
    ``dopri5`` uses at prediction)."""

    name = "error"
    attr = "error_integral"
    random = False
    vanishes_for = "constant"
    reduces_nfe = True

    def __init__(self, tableau: type[ButcherTableau] = Dopri5):
        self.tableau = tableau

    def solve(
        self, func: nn.Module, y0: torch.Tensor, t: torch.Tensor, *, rtol: float, atol: float
    ) -> RegularizedSolve:
        t = _check(y0, t)
        sol = odesolve(func, y0, t, tableau=self.tableau, rtol=rtol, atol=atol)
        penalty = getattr(sol, self.attr)
        return RegularizedSolve(
            sol.ys,
            t,
            penalty,
            {
                "error": float(sol.error_integral.detach()),
                "stiffness": float(sol.stiffness_integral.detach()),
                "steps": float(sol.n_accepted),
            },
        )


class GlobalStiffness(GlobalError):
    """SRNODE: ``sum_j S_j |dt_j|`` (Shampine's stiffness estimate) through our solve."""

    name = "stiffness"
    attr = "stiffness_integral"
    reduces_nfe = False


def local_regularizer(
    func: nn.Module,
    y0: torch.Tensor,
    t: torch.Tensor,
    *,
    rtol: float,
    atol: float,
    kind: str = "error",
    sampling: str = "uniform",
    t_reg: float | None = None,
    dt_reg: float | None = None,
    tableau: type[ButcherTableau] = Dopri5,
    method: str = "dopri5",
    options: dict | None = None,
    adjoint: bool = False,
    generator: torch.Generator | None = None,
) -> RegularizedSolve:
    """Local regularization (Pal et al. 2023): one differentiable step at a random time.

    1. Solve with ``torchdiffeq.odeint`` (or ``odeint_adjoint``) at ``t`` plus ``t_reg``.
       ``sampling="uniform"``: ``t_reg ~ U(t[0], t[-1])``; ``sampling="steps"``: ``t_reg`` is the
       start of a uniformly chosen accepted step of this solve (biased towards where the solver
       works), with ``z`` taken from the step itself (direct backpropagation only).
    2. Take one :func:`~sciml.nde.step.rk_step` of ``tableau`` from ``(t_reg, z(t_reg))`` with
       the solver's own step size there (the accepted step containing ``t_reg``) or ``dt_reg``.
    3. penalty = ``E * dt`` (``kind="error"``) or ``S * dt`` (``kind="stiffness"``).

    Args:
        func: vector field module; y0: ``[B, D]``; t: ``[T]`` increasing output times.
        t_reg, dt_reg: fix the regularization time / step size (tests; ``gradcheck``).
        method, options: torchdiffeq solver (``"dopri5"``; a fixed-grid method needs ``dt_reg``).

    Returns:
        :class:`RegularizedSolve` with ``ys: [T, B, D]`` at the requested ``t``. Cost: the solve plus
        ``S = 7`` evaluations.
    """
    if kind not in ("error", "stiffness"):
        raise ValueError(f"kind must be 'error' or 'stiffness', got {kind!r}")
    if sampling not in ("uniform", "steps"):
        raise ValueError(f"sampling must be 'uniform' or 'steps', got {sampling!r}")
    if sampling == "steps" and adjoint:
        raise ValueError("sampling='steps' needs direct backpropagation (adjoint=False)")
    t = _check(y0, t)
    ode = odeint_adjoint if adjoint else odeint
    steps: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []

    class _Plain(nn.Module):
        def __init__(self, f: nn.Module):
            super().__init__()
            self.f = f

        def forward(self, tt: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return self.f(tt, y)

    class _Recorder(_Plain):
        def callback_accept_step(self, t0: torch.Tensor, y: torch.Tensor, dt: torch.Tensor) -> None:
            steps.append((t0.detach(), y, dt.detach()))

    # fixed-grid torchdiffeq methods have no accept-step callback (and would warn about it)
    rec = _Recorder(func) if method in _ADAPTIVE else _Plain(func)
    kw = {"rtol": rtol, "atol": atol, "method": method, "options": options}
    if sampling == "steps":
        ys = ode(rec, y0, t, **kw)
        if not steps:
            raise RuntimeError(f"method {method!r} reported no accepted steps; use 'uniform'")
        j = int(torch.randint(len(steps), (), generator=generator)) if t_reg is None else 0
        if t_reg is not None:  # the accepted step starting closest to t_reg
            j = min(range(len(steps)), key=lambda i: abs(float(steps[i][0]) - t_reg))
        t_r, z_r, dt = steps[j]
        t_r, dt = float(t_r), float(dt)
    else:
        if t_reg is None:
            u = torch.rand((), generator=generator).item()
            t_reg = float(t[0]) + u * float(t[-1] - t[0])
        t_reg = min(max(t_reg, float(t[0])), float(t[-1]))
        tr = torch.as_tensor([t_reg], dtype=t.dtype, device=t.device)
        pos = int(torch.searchsorted(t, tr))
        dup = pos < t.numel() and bool(t[pos] == tr[0])
        t_all = t if dup else torch.cat([t[:pos], tr, t[pos:]])
        ys_all = ode(rec, y0, t_all, **kw)
        z_r = ys_all[pos]
        ys = ys_all if dup else torch.cat([ys_all[:pos], ys_all[pos + 1 :]])
        t_r = t_reg
        dt = None
        for t0_, _, dt_ in steps:
            if float(t0_) <= t_reg <= float(t0_ + dt_):
                dt = float(dt_)
                break
    if dt_reg is not None:
        dt = float(dt_reg)
    if dt is None:
        raise RuntimeError("no step size at t_reg: pass dt_reg for fixed-grid methods")
    res = rk_step(func, t_r, z_r, dt, tableau=tableau, rtol=rtol, atol=atol)
    value = res.error_ratio if kind == "error" else res.stiffness
    penalty = value * abs(dt)
    return RegularizedSolve(
        ys,
        t,
        penalty,
        {kind: float(value.detach()), "t_reg": t_r, "dt_reg": dt, "steps": len(steps)},
    )


class LocalRegularizer:
    """Local error (``kind="error"``) or stiffness regularization; see :func:`local_regularizer`."""

    random = True
    vanishes_for = "constant"
    reduces_nfe = True

    def __init__(
        self,
        kind: str = "error",
        sampling: str = "uniform",
        adjoint: bool = False,
        generator: torch.Generator | None = None,
    ):
        if kind not in ("error", "stiffness"):
            raise ValueError(f"kind must be 'error' or 'stiffness', got {kind!r}")
        self.kind, self.sampling, self.adjoint, self.generator = kind, sampling, adjoint, generator
        self.name = f"local-{kind}"
        self.reduces_nfe = kind == "error"  # see the module docstring

    def solve(
        self, func: nn.Module, y0: torch.Tensor, t: torch.Tensor, *, rtol: float, atol: float
    ) -> RegularizedSolve:
        return local_regularizer(
            func,
            y0,
            t,
            rtol=rtol,
            atol=atol,
            kind=self.kind,
            sampling=self.sampling,
            adjoint=self.adjoint,
            generator=self.generator,
        )
