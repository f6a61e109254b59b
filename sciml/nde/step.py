"""One differentiable explicit adaptive Runge-Kutta step and the initial-step heuristic.

Everything here is plain torch arithmetic, so autograd differentiates the new state, the
embedded error estimate and the stiffness estimate with respect to the state, the step size
and the parameters of the vector field (this is what torchdiffeq and torchsde do not expose:
their error estimates never reach the loss).

The scaled error is the quantity the step-size controller compares to 1 (torchdiffeq's
``_compute_error_ratio`` with its default RMS norm)::

    E = rms( err / (atol + rtol * max(|y0|, |y1|)) )

and the stiffness estimate is Shampine's ratio from the two stages that share the abscissa
``c = 1`` (for Tsit5 and Dopri5 stages 6 and 7, the 7th being ``f(t1, y1)``)::

    S = ||k_7 - k_6|| / ||g_7 - g_6||,   g_i = stage input,

an estimate of the modulus of the dominant eigenvalue of the Jacobian of ``f``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from sciml.nde.tableau import ButcherTableau, Tsit5

__all__ = ["StepResult", "rk_step", "initial_step", "rms_norm"]

VectorField = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def rms_norm(x: torch.Tensor) -> torch.Tensor:
    """Root-mean-square over all entries (torchdiffeq's default norm). Returns a 0-d tensor."""
    # vector_norm has a zero subgradient at 0 (x.pow(2).mean().sqrt() would give NaN there).
    return torch.linalg.vector_norm(x) / x.numel() ** 0.5


@dataclass
class StepResult:
    """Output of :func:`rk_step`.

    Attributes:
        y1: ``[*shape]`` the propagated state at ``t0 + dt``.
        f1: ``[*shape]`` ``f(t0 + dt, y1)`` (the FSAL stage, reusable as next step's ``f0``).
        error: ``[*shape]`` embedded error estimate ``y1 - y1_hat``.
        error_ratio: ``[]`` scaled error ``E`` (the controller accepts the step when ``E <= 1``).
        stiffness: ``[]`` Shampine's estimate ``S`` of the dominant eigenvalue modulus.
        k: ``[*shape, S]`` all stage derivatives.
    """

    y1: torch.Tensor
    f1: torch.Tensor
    error: torch.Tensor
    error_ratio: torch.Tensor
    stiffness: torch.Tensor
    k: torch.Tensor


def _check_state(name: str, y: torch.Tensor) -> None:
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(y).__name__}")
    if not torch.is_floating_point(y):
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {y.dtype}")


def rk_step(
    func: VectorField,
    t0: torch.Tensor | float,
    y0: torch.Tensor,
    dt: torch.Tensor | float,
    *,
    tableau: type[ButcherTableau] = Tsit5,
    f0: torch.Tensor | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    norm: Callable[[torch.Tensor], torch.Tensor] = rms_norm,
) -> StepResult:
    """Take one explicit RK step of ``tableau`` from ``(t0, y0)`` with step ``dt``.

    Args:
        func: vector field ``f(t, y) -> dy/dt`` with ``y: [*shape]`` (any shape, e.g. ``[B, D]``).
        t0: start time (0-d tensor or float).
        y0: ``[*shape]`` state at ``t0``.
        dt: step size (0-d tensor or float; may be negative, may require grad).
        tableau: a :class:`~sciml.nde.tableau.ButcherTableau` subclass (``Tsit5``, ``Dopri5``).
        f0: ``f(t0, y0)`` when already known (saves one evaluation; FSAL).
        rtol, atol: tolerances defining the scaled error ``E``.
        norm: reduction of the scaled error (default RMS over all entries, like torchdiffeq).

    Returns:
        :class:`StepResult`. Uses ``S - 1`` evaluations of ``func`` when ``f0`` is given, else
        ``S`` (``S = 7`` for Tsit5 and Dopri5).
    """
    _check_state("y0", y0)
    if rtol < 0 or atol < 0:
        raise ValueError(f"rtol and atol must be non-negative, got rtol={rtol}, atol={atol}")
    co = tableau.tensors(y0.dtype, y0.device)
    t0 = torch.as_tensor(t0, dtype=y0.dtype, device=y0.device)
    dt = torch.as_tensor(dt, dtype=y0.dtype, device=y0.device)
    if f0 is None:
        f0 = func(t0, y0)
    s = tableau.stages()
    ks = [f0]
    inputs = [y0]
    for i in range(1, s):
        row = tableau.a[i]
        incr = sum(ks[j] * row[j] for j in range(i) if row[j] != 0.0)
        yi = y0 + dt * incr
        ti = t0 + dt if tableau.c[i] == 1.0 else t0 + tableau.c[i] * dt
        inputs.append(yi)
        ks.append(func(ti, yi))
    k = torch.stack(ks, dim=-1)
    if tableau.fsal:
        y1 = inputs[-1]
    else:  # pragma: no cover - both shipped tableaus are FSAL
        y1 = y0 + dt * (k @ co["b"])
    # sum_i b_err_i (k_i - k_1) == sum_i b_err_i k_i since sum_i b_err_i = 0; subtracting k_1 makes
    # the estimate exactly zero (not round-off) when f is constant along the step.
    error = dt * ((k - f0.unsqueeze(-1)) @ co["b_err"])
    scale = atol + rtol * torch.maximum(y0.abs(), y1.abs())
    error_ratio = norm(error / scale)
    i6, i7 = tableau.stiffness_stages
    num = torch.linalg.vector_norm(ks[i7] - ks[i6])
    den = torch.linalg.vector_norm(inputs[i7] - inputs[i6])
    tiny = torch.finfo(y0.dtype).tiny
    # Guard: identical stage inputs (e.g. dt = 0 or f constant) give S = 0.
    stiffness = torch.where(den > tiny, num / den.clamp_min(tiny), torch.zeros_like(num))
    return StepResult(
        y1=y1, f1=ks[-1], error=error, error_ratio=error_ratio, stiffness=stiffness, k=k
    )


def initial_step(
    func: VectorField,
    t0: torch.Tensor | float,
    y0: torch.Tensor,
    *,
    order: int,
    rtol: float,
    atol: float,
    f0: torch.Tensor | None = None,
    norm: Callable[[torch.Tensor], torch.Tensor] = rms_norm,
) -> torch.Tensor:
    """Hairer-Norsett-Wanner's initial step heuristic (Solving ODEs I, II.4), as torchdiffeq.

    Args:
        func: vector field ``f(t, y)``; ``y0: [*shape]``.
        order: the order used in the exponent ``1 / (order + 1)``; torchdiffeq passes the
            tableau's ``order - 1``.
        f0: ``f(t0, y0)`` if known. One further evaluation of ``func`` is made.

    Returns:
        ``[]`` a positive step size, differentiable with respect to ``y0`` and ``func``'s
        parameters (away from the branch points of the heuristic).
    """
    _check_state("y0", y0)
    t0 = torch.as_tensor(t0, dtype=y0.dtype, device=y0.device)
    if f0 is None:
        f0 = func(t0, y0)
    scale = atol + y0.abs() * rtol
    d0 = norm(y0 / scale)
    d1 = norm(f0 / scale)
    one = torch.ones((), dtype=y0.dtype, device=y0.device)
    if d0 < 1e-5 or d1 < 1e-5:
        h0 = 1e-6 * one
    else:
        h0 = 0.01 * d0 / d1
    f1 = func(t0 + h0, y0 + h0 * f0)
    d2 = norm((f1 - f0) / scale) / h0
    if d1 <= 1e-15 and d2 <= 1e-15:
        h1 = torch.maximum(1e-6 * one, h0 * 1e-3)
    else:
        h1 = (0.01 / torch.maximum(d1, d2)) ** (1.0 / (order + 1))
    return torch.minimum(100 * h0, h1)
