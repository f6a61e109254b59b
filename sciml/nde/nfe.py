"""Counting evaluations of a vector field (NFE), the cost measure of the regularization papers."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["NFECounter"]


class NFECounter(nn.Module):
    """Wrap a vector field ``func(t, y)`` and count its forward evaluations.

    ``forward(t, y)`` calls ``func`` and adds 1 to ``nfe``; use :meth:`reset` between phases
    (training, prediction). Parameters of ``func`` stay parameters of the counter, so the counter
    can be handed to ``torchdiffeq.odeint_adjoint``. Backward passes are not counted (for direct
    backpropagation they re-use the forward evaluations).

    Optional hook: ``on_accept(t0, y0, dt)`` is called by torchdiffeq's adaptive solvers after
    each accepted step when ``record_steps`` is True; the steps are kept in ``steps`` as
    ``(t0, y0, dt)`` triples (``y0`` still attached to the autograd graph under direct
    backpropagation).
    """

    def __init__(self, func: nn.Module):
        super().__init__()
        self.func = func
        self.nfe = 0
        self.record_steps = False
        self.steps: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []

    def reset(self) -> None:
        self.nfe = 0
        self.steps = []

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.nfe += 1
        return self.func(t, y)

    def callback_accept_step(self, t0: torch.Tensor, y0: torch.Tensor, dt: torch.Tensor) -> None:
        if self.record_steps:
            self.steps.append((t0.detach().clone(), y0, dt.detach().clone()))
