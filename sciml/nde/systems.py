"""Physical systems with known vector fields, and noisy trajectories of them.

The regularization experiments on these systems fit a neural ODE (or SDE) to noisy
observations, so the true vector field is known: solving it with the prediction's solver and
tolerances gives the NFE the true dynamics themselves need (the floor no regularizer should be
expected to beat).

* :class:`VanDerPol` - ``x'' - mu (1 - x^2) x' + x = 0`` as a first-order system; with
  ``mu = 3`` a relaxation oscillation whose slow drifts and fast jumps make adaptive steps
  matter (the true field needs 92 ``dopri5`` evaluations per window batch at 1e-4).
* :class:`Lorenz63` - Lorenz's 1963 system (``sigma = 10, rho = 28, beta = 8/3``) in centred,
  scaled coordinates ``u = (x, y, z - 25) / 10``; chaotic, so it is fitted over short windows.
* :class:`StochasticLotkaVolterra` - predator-prey dynamics with multiplicative (diagonal,
  Ito) noise, in torchsde's interface.

Each ODE system is an ``nn.Module`` ``f(t, y)`` on ``y: [B, D]`` with a method
``initial_states(n, generator)`` drawing ``[n, D]`` starting points of its trajectories;
:func:`noisy_trajectories` integrates them accurately and adds Gaussian observation noise.

>>> import torch
>>> vdp = VanDerPol(mu=3.0)
>>> vdp(torch.tensor(0.0), torch.tensor([[2.0, 0.0]])).tolist()
[[0.0, -2.0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torchdiffeq import odeint

__all__ = [
    "VanDerPol",
    "Lorenz63",
    "StochasticLotkaVolterra",
    "Trajectories",
    "noisy_trajectories",
]


def _check_state(y: torch.Tensor, dim: int) -> None:
    if y.shape[-1] != dim:
        raise ValueError(f"y must be [..., {dim}], got shape {tuple(y.shape)}")


class VanDerPol(nn.Module):
    """Van der Pol oscillator ``y1' = y2``, ``y2' = mu (1 - y1^2) y2 - y1``; ``y: [..., 2]``.

    Args:
        mu: damping strength (> 0); 2-5 gives relaxation oscillations with fast jumps.
        box: initial states are drawn uniformly from ``[-box, box]^2``.
    """

    dim = 2

    def __init__(self, mu: float = 3.0, box: float = 3.0) -> None:
        super().__init__()
        if not mu > 0 or not box > 0:
            raise ValueError(f"mu and box must be > 0, got mu={mu}, box={box}")
        self.mu, self.box = float(mu), float(box)

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``dy/dt`` at ``y: [..., 2]``."""
        _check_state(y, 2)
        x, v = y[..., 0], y[..., 1]
        return torch.stack([v, self.mu * (1 - x * x) * v - x], dim=-1)

    def initial_states(
        self, n: int, generator: torch.Generator, dtype: torch.dtype = torch.float64
    ) -> torch.Tensor:
        """``[n, 2]`` states uniform in ``[-box, box]^2``."""
        return (2 * torch.rand(n, 2, generator=generator, dtype=dtype) - 1) * self.box


class Lorenz63(nn.Module):
    """Lorenz-63 in centred, scaled coordinates ``u = (x - c) / scale``, ``c = (0, 0, 25)``:
    ``du/dt = f(scale * u + c) / scale`` with ``f = (sigma (y - x), x (rho - z) - y,
    x y - beta z)``; ``u: [..., 3]`` stays within about ``[-2.5, 2.5]``.

    Args:
        sigma, rho, beta: the system's parameters (Lorenz's chaotic values by default).
        scale: the coordinate scale (10 puts the attractor at unit size).
        spin_up: time each random start is integrated for before it is used, so trajectories
            start on the attractor.
    """

    dim = 3

    def __init__(
        self,
        sigma: float = 10.0,
        rho: float = 28.0,
        beta: float = 8.0 / 3.0,
        scale: float = 10.0,
        spin_up: float = 5.0,
    ) -> None:
        super().__init__()
        if not scale > 0 or spin_up < 0:
            raise ValueError(f"need scale > 0 and spin_up >= 0, got {scale}, {spin_up}")
        self.sigma, self.rho, self.beta = float(sigma), float(rho), float(beta)
        self.scale, self.spin_up = float(scale), float(spin_up)

    def forward(self, t: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """``du/dt`` at ``u: [..., 3]``."""
        _check_state(u, 3)
        x, y = self.scale * u[..., 0], self.scale * u[..., 1]
        z = self.scale * u[..., 2] + 25.0
        f = torch.stack(
            [self.sigma * (y - x), x * (self.rho - z) - y, x * y - self.beta * z], dim=-1
        )
        return f / self.scale

    def initial_states(
        self, n: int, generator: torch.Generator, dtype: torch.dtype = torch.float64
    ) -> torch.Tensor:
        """``[n, 3]`` points on the attractor: standard normal starts in ``u`` integrated for
        ``spin_up`` time units."""
        u0 = torch.randn(n, 3, generator=generator, dtype=dtype)
        if self.spin_up == 0:
            return u0
        t = torch.tensor([0.0, self.spin_up], dtype=dtype)
        return odeint(self, u0, t, rtol=1e-9, atol=1e-9)[-1]


class StochasticLotkaVolterra(nn.Module):
    """Predator-prey SDE with multiplicative noise (Ito, diagonal; torchsde's interface)::

        dx = (alpha x - beta x y) dt + sigma x dW_1
        dy = (delta x y - gamma y) dt + sigma y dW_2

    ``y: [B, 2]`` (prey, predator). Without noise the orbits circle the equilibrium
    ``(gamma / delta, alpha / beta)``.
    """

    noise_type, sde_type = "diagonal", "ito"
    dim = 2

    def __init__(
        self,
        alpha: float = 1.5,
        beta: float = 1.0,
        gamma: float = 1.0,
        delta: float = 1.0,
        sigma: float = 0.1,
    ) -> None:
        super().__init__()
        if min(alpha, beta, gamma, delta) <= 0 or sigma < 0:
            raise ValueError("alpha, beta, gamma, delta must be > 0 and sigma >= 0")
        self.alpha, self.beta, self.gamma, self.delta = alpha, beta, gamma, delta
        self.sigma = float(sigma)

    def f(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Drift ``[B, 2]``."""
        _check_state(y, 2)
        x, p = y[..., 0], y[..., 1]
        return torch.stack(
            [self.alpha * x - self.beta * x * p, self.delta * x * p - self.gamma * p], dim=-1
        )

    def g(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Diagonal diffusion ``[B, 2]``."""
        return self.sigma * y

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The drift (so the noise-free system is an ODE field ``f(t, y)``)."""
        return self.f(t, y)


@dataclass
class Trajectories:
    """``t: [T]``; ``clean, noisy: [T, N, D]`` (the exact solution and the observations)."""

    t: torch.Tensor
    clean: torch.Tensor
    noisy: torch.Tensor


def noisy_trajectories(
    field: nn.Module,
    y0: torch.Tensor,
    t: torch.Tensor,
    *,
    noise: float,
    seed: int,
    dtype: torch.dtype = torch.float32,
) -> Trajectories:
    """Solve ``dy/dt = field(t, y)`` from ``y0: [N, D]`` at ``t: [T]`` in float64 (``dopri5``,
    ``rtol = atol = 1e-9``) and add ``N(0, noise^2)`` observation noise (``seed``); both
    returned in ``dtype``."""
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    t64 = torch.as_tensor(t, dtype=torch.float64)
    clean = odeint(field, y0.to(torch.float64), t64, rtol=1e-9, atol=1e-9)
    g = torch.Generator().manual_seed(seed)
    noisy = clean + noise * torch.randn(clean.shape, generator=g, dtype=torch.float64)
    return Trajectories(t64.to(dtype), clean.to(dtype), noisy.to(dtype))
