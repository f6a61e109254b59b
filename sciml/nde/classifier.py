"""``ODEClassifier``: encoder -> neural ODE on [0, 1] -> linear read-out (Pal et al.'s MNIST
model, sized for 8x8 digits)."""

from __future__ import annotations

import torch
from torch import nn

from sciml.nde.fields import MLPField
from sciml.nde.neural_ode import NeuralODE

__all__ = ["ODEClassifier"]


class ODEClassifier(nn.Module):
    """``x: [B, n_in] -> logits: [B, n_classes]``.

    ``z0 = tanh(W_in x)`` (``[B, dim]``), ``z1 = z(1)`` of ``dz/dt = MLPField(t, z)``, logits
    ``= W_out z1``. Extra keyword arguments go to :class:`NeuralODE` (tolerances, regularizer).
    """

    def __init__(self, n_in: int, n_classes: int, dim: int = 32, hidden: int = 64, **ode_kwargs):
        super().__init__()
        self.n_in = n_in
        self.encoder = nn.Linear(n_in, dim)
        self.ode = NeuralODE(MLPField(dim, hidden, depth=1), **ode_kwargs)
        self.decoder = nn.Linear(dim, n_classes)
        self.register_buffer("t", torch.tensor([0.0, 1.0]))

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.n_in:
            raise ValueError(f"x must be [B, {self.n_in}], got shape {tuple(x.shape)}")
        return torch.tanh(self.encoder(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Prediction: plain adaptive solve."""
        return self.decoder(self.ode(self._encode(x), self.t.to(x.dtype))[-1])

    def forward_regularized(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Training: ``(logits [B, n_classes], penalty [])`` through the ODE's regularizer."""
        sol = self.ode.solve_regularized(self._encode(x), self.t.to(x.dtype))
        return self.decoder(sol.ys[-1]), sol.penalty
