"""Differentiable SDE steps and torchsde's step-doubling error estimate, with gradients.

torchsde's adaptive solver takes one step of size ``dt`` and two of size ``dt/2`` on the *same*
Brownian path and compares them, but computes the error under ``no_grad`` and turns it into a
Python float. :func:`sde_step_doubling_error` computes the same quantity differentiably, reusing
the Brownian increments of a ``torchsde`` Brownian motion (``bm(ta, tb)``), so it can serve as a
regularizer (Pal et al. 2021/2023 for neural SDEs).

SDEs follow torchsde's interface: an object with ``f(t, y)`` (drift, ``[B, D]``) and ``g(t, y)``
(diagonal diffusion, ``[B, D]``), ``noise_type = "diagonal"``, ``sde_type = "ito"``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

__all__ = ["euler_maruyama_step", "milstein_step", "sde_step_doubling_error", "SDE_STEPS"]


def euler_maruyama_step(
    sde: Any, t0: torch.Tensor, y0: torch.Tensor, dt: torch.Tensor, dw: torch.Tensor
) -> torch.Tensor:
    """``y1 = y0 + f dt + g dW`` (diagonal noise). ``y0, dw: [B, D]``; returns ``[B, D]``."""
    return y0 + sde.f(t0, y0) * dt + sde.g(t0, y0) * dw


def milstein_step(
    sde: Any, t0: torch.Tensor, y0: torch.Tensor, dt: torch.Tensor, dw: torch.Tensor
) -> torch.Tensor:
    """Derivative-free Itô Milstein step for diagonal noise, identical to torchsde's
    ``method="milstein", options={"grad_free": True}``. ``y0, dw: [B, D]``; returns ``[B, D]``."""
    f = sde.f(t0, y0)
    g = sde.g(t0, y0)
    sqrt_dt = dt.sqrt()
    g_prime = sde.g(t0, y0 + dt * f + g * sqrt_dt)
    return y0 + f * dt + g * dw + (g_prime - g) * (dw**2 - dt) / (2 * sqrt_dt)


SDE_STEPS: dict[str, Callable[..., torch.Tensor]] = {
    "euler": euler_maruyama_step,
    "milstein": milstein_step,
}


def sde_step_doubling_error(
    sde: Any,
    t0: torch.Tensor | float,
    y0: torch.Tensor,
    dt: torch.Tensor | float,
    bm: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    *,
    method: str = "milstein",
    rtol: float = 1e-3,
    atol: float = 1e-3,
) -> torch.Tensor:
    """Scaled step-doubling error of one SDE step, differentiable (torchsde's ``compute_error``).

    One step ``t0 -> t0 + dt`` with ``dW = W(t0+dt) - W(t0)`` is compared with two half steps
    using ``dW_1 = W(t0+dt/2) - W(t0)`` and ``dW_2 = W(t0+dt) - W(t0+dt/2)`` from the same path::

        E = rms( (y_full - y_half) / (atol + rtol * max(|y_full|, |y_half|)) )

    Args:
        sde: torchsde-style SDE with diagonal noise (``f``, ``g``).
        t0: start time; y0: ``[B, D]`` state; dt: step size (> 0).
        bm: Brownian motion ``bm(ta, tb) -> [B, D]`` increment (e.g. ``torchsde.BrownianInterval``).
        method: ``"euler"`` or ``"milstein"`` (the torchsde method the solve uses).
        rtol, atol: tolerances (torchsde's adaptive defaults are 1e-5 / 1e-4).

    Returns:
        ``[]`` the scaled error ``E`` (the step is accepted by torchsde when ``E <= 1``).
    """
    if method not in SDE_STEPS:
        raise ValueError(f"method must be one of {sorted(SDE_STEPS)}, got {method!r}")
    if y0.ndim != 2:
        raise ValueError(f"y0 must be [B, D], got shape {tuple(y0.shape)}")
    step = SDE_STEPS[method]
    t0 = torch.as_tensor(t0, dtype=y0.dtype, device=y0.device)
    dt = torch.as_tensor(dt, dtype=y0.dtype, device=y0.device)
    if not bool(dt > 0):
        raise ValueError(f"dt must be positive, got {float(dt)}")
    tm, t1 = t0 + 0.5 * dt, t0 + dt
    dw1, dw2 = bm(t0, tm), bm(tm, t1)
    y_full = step(sde, t0, y0, dt, dw1 + dw2)
    y_mid = step(sde, t0, y0, 0.5 * dt, dw1)
    y_half = step(sde, tm, y_mid, 0.5 * dt, dw2)
    tol = atol + rtol * torch.maximum(y_full.abs(), y_half.abs())
    diff = (y_full - y_half) / tol
    return torch.linalg.vector_norm(diff) / diff.numel() ** 0.5
