"""Adam on the negative log joint: the published GP-HM recipe, and the phase other strategies
reuse (Adam on the kernel between Gauss-Newton solves, Adam before L-BFGS)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from sciml.solvers.gp.strategy import FitStrategy

if TYPE_CHECKING:
    from sciml.solvers.gp.model import KroneckerGPSolver
    from sciml.solvers.gp.monitor import Monitor

__all__ = ["Adam", "adam_phase"]


def adam_phase(
    model: KroneckerGPSolver,
    params: Sequence[torch.nn.Parameter],
    steps: int,
    lr: float,
    monitor: Monitor,
    *,
    settle_tol: float | None = None,
) -> int:
    """``steps`` Adam steps on ``params`` (a fresh optimiser); returns the steps taken.

    Records every ``monitor.every`` steps and at the end. ``settle_tol``: stop early once the
    mixture frequencies change by less than this (relative) between two monitoring points.
    """
    if steps == 0:
        return 0
    opt = torch.optim.Adam(params, lr=lr)
    last = torch.cat([k.frequencies.detach().clone() for k in model.kernels])
    for i in range(1, steps + 1):
        opt.zero_grad(set_to_none=True)
        loss, _ = model.loss()
        loss.backward()
        opt.step()
        monitor.step(float(loss.detach()))
        if i % monitor.every == 0 or i == steps:
            monitor.record()
            if settle_tol is not None:
                now = torch.cat([k.frequencies.detach() for k in model.kernels])
                change = float(((now - last).abs() / (last.abs() + 1.0)).max())
                last = now.clone()
                if change < settle_tol:
                    return i
    return steps


@dataclass
class Adam(FitStrategy):
    """The published recipe: Adam (float64, ``lr``) on the values, the kernel and the learned
    noise precisions, for ``steps`` steps (Fang et al. use 1e5-3e6 steps at ``lr = 1e-2``)."""

    steps: int = 200
    lr: float = 1e-2

    name: ClassVar[str] = "adam"
    learn_noise: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self.steps < 0:
            raise ValueError(f"adam_steps must be >= 0, got {self.steps}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")

    @property
    def total_steps(self) -> int:
        return self.steps

    def fit(self, model: KroneckerGPSolver, monitor: Monitor) -> dict[str, Any]:
        adam_phase(model, list(model.parameters()), self.steps, self.lr, monitor)
        return {}
