"""``LatentODE``: a GRU encoder over irregular observations, a neural ODE in latent space and a
linear decoder (Rubanova et al. 2019, the latent-ODE baseline of Pal et al.)."""

from __future__ import annotations

import torch
from torch import nn

from sciml.nde.fields import MLPField
from sciml.nde.neural_ode import NeuralODE

__all__ = ["LatentODE"]


class LatentODE(nn.Module):
    """Irregularly sampled series on a shared time grid with an observation mask.

    Inputs: ``x: [B, T, C]`` values (anything where ``mask == 0``), ``mask: [B, T, C]`` in
    {0, 1}, ``t: [T]`` increasing times. The encoder runs a GRU cell backwards over the grid,
    updating only where a series has an observation, and outputs ``q(z0) = N(mu, sigma^2)``;
    the decoder maps ``z(t): [T, B, latent]`` to ``[B, T, C]``.

    Extra keyword arguments go to :class:`NeuralODE` (tolerances, regularizer).
    """

    def __init__(
        self,
        obs_dim: int = 1,
        latent: int = 4,
        hidden: int = 32,
        rec_hidden: int = 32,
        **ode_kwargs,
    ):
        super().__init__()
        self.obs_dim, self.latent = obs_dim, latent
        self.gru = nn.GRUCell(2 * obs_dim + 1, rec_hidden)
        self.to_q = nn.Linear(rec_hidden, 2 * latent)
        self.ode = NeuralODE(MLPField(latent, hidden, depth=1, time=False), **ode_kwargs)
        self.decoder = nn.Linear(latent, obs_dim)

    def _check(self, x: torch.Tensor, mask: torch.Tensor, t: torch.Tensor) -> None:
        if x.ndim != 3 or x.shape[-1] != self.obs_dim:
            raise ValueError(f"x must be [B, T, {self.obs_dim}], got shape {tuple(x.shape)}")
        if mask.shape != x.shape:
            raise ValueError(f"mask must have x's shape {tuple(x.shape)}, got {tuple(mask.shape)}")
        if t.ndim != 1 or t.numel() != x.shape[1]:
            raise ValueError(f"t must be [T={x.shape[1]}], got shape {tuple(t.shape)}")

    def encode(
        self, x: torch.Tensor, mask: torch.Tensor, t: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)``, each ``[B, latent]``."""
        self._check(x, mask, t)
        b, n, _ = x.shape
        h = x.new_zeros(b, self.gru.hidden_size)
        dts = torch.diff(t, prepend=t[:1])
        for i in range(n - 1, -1, -1):  # sequential by nature: the recurrence runs over time
            inp = torch.cat([x[:, i] * mask[:, i], mask[:, i], dts[i].expand(b, 1)], dim=-1)
            seen = mask[:, i].amax(-1, keepdim=True)
            h = seen * self.gru(inp, h) + (1 - seen) * h
        mu, logvar = self.to_q(h).chunk(2, dim=-1)
        return mu, logvar.clamp(-10, 5)

    def _z0(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        if self.training:
            return mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        return mu

    @staticmethod
    def kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """``KL(q(z0) || N(0, I))`` per series: ``[B]``."""
        return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, t: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Prediction: ``(x_hat [B, T, C], kl [B])`` with a plain adaptive solve."""
        mu, logvar = self.encode(x, mask, t)
        zs = self.ode(self._z0(mu, logvar), t)
        return self.decoder(zs).transpose(0, 1), self.kl(mu, logvar)

    def forward_regularized(
        self, x: torch.Tensor, mask: torch.Tensor, t: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Training: ``(x_hat [B, T, C], kl [B], penalty [])`` through the ODE's regularizer."""
        mu, logvar = self.encode(x, mask, t)
        sol = self.ode.solve_regularized(self._z0(mu, logvar), t)
        return self.decoder(sol.ys).transpose(0, 1), self.kl(mu, logvar), sol.penalty
