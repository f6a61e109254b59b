"""A scalar potential ``u(z, t)`` on a latent space: an MLP with a sinusoidal time embedding."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["TimeEmbedding", "Potential"]


class TimeEmbedding(nn.Module):
    """Sinusoidal embedding of a (continuous) time: ``t: [N] -> [N, dim]``.

    Features ``sin(w_i t), cos(w_i t)`` with frequencies ``w_i = base^(-i / half)`` (the
    transformer / diffusion-model embedding). Smooth in ``t``, so ``u_t`` and ``u_tt`` exist.
    """

    def __init__(self, dim: int, base: float = 10_000.0) -> None:
        super().__init__()
        if dim < 2 or dim % 2:
            raise ValueError(f"dim must be an even integer >= 2, got {dim!r}")
        half = dim // 2
        freqs = torch.exp(-math.log(base) * torch.arange(half, dtype=torch.float64) / half)
        self.register_buffer("freqs", freqs.float())

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        arg = t[:, None] * self.freqs.to(t.dtype)
        return torch.cat([torch.sin(arg), torch.cos(arg)], dim=-1)


class Potential(nn.Module):
    """``u(z, t) in [-1, 1]``: the potential of one latent traversal.

    Architecture (Song et al., ICML 2023): the time embedding goes through two linear layers
    with a GELU between them, the latent through one linear layer and a tanh; the two are summed,
    then linear + tanh, linear to a scalar, tanh. All pieces are smooth, so the derivatives a
    PDE residual needs (``u_t``, ``u_tt``, ``grad_z u``, the Laplacian) exist everywhere.

    Args:
        dim: latent dimension ``d``.
        hidden: width of the hidden layers.
        time_dim: size of the time embedding (even; default ``d`` rounded up to even).
        speed: initial wave speed ``c`` (a learnable parameter; only the wave equation reads it).

    Shapes: ``z: [N, d]``, ``t: [N]`` or a scalar -> ``u: [N]``; :meth:`points` takes the
    space-time points ``[N, d + 1]`` (time last) of :meth:`sciml.physics.PDE.residual`.
    """

    def __init__(
        self, dim: int, hidden: int = 64, *, time_dim: int | None = None, speed: float = 1.0
    ) -> None:
        super().__init__()
        if not isinstance(dim, int) or dim < 1:
            raise ValueError(f"dim must be a positive int, got {dim!r}")
        if not isinstance(hidden, int) or hidden < 1:
            raise ValueError(f"hidden must be a positive int, got {hidden!r}")
        time_dim = time_dim if time_dim is not None else dim + dim % 2
        self.dim = dim
        self.embed = TimeEmbedding(max(time_dim, 2))
        self.time_net = nn.Sequential(
            nn.Linear(self.embed.freqs.numel() * 2, hidden), nn.GELU(), nn.Linear(hidden, hidden)
        )
        self.z_net = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh())
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        self.speed = nn.Parameter(torch.tensor(float(speed)))

    def forward(self, z: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.dim:
            raise ValueError(f"z must be [N, {self.dim}], got {list(z.shape)}")
        t = torch.as_tensor(t, dtype=z.dtype, device=z.device)
        if t.ndim == 0:
            t = t.expand(z.shape[0])
        h = self.z_net(z) + self.time_net(self.embed(t))
        return torch.tanh(self.head(h)[:, 0])

    def points(self, p: torch.Tensor) -> torch.Tensor:
        """``u`` at space-time points ``p: [N, d + 1]`` (time last) -> ``[N]``."""
        return self(p[:, : self.dim], p[:, self.dim])
