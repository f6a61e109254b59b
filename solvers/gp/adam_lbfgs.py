"""Adam until the mixture frequencies settle, then L-BFGS (strong-Wolfe line search).

L-BFGS runs one iteration per ``torch.optim.LBFGS.step`` call (``max_iter=1``), so the
iterations are counted here, without reading the optimiser's internal state; the closure
keeps its last evaluation, so the evaluation at the point the line search accepted is not
repeated at the start of the next call (the iterates are those of one long ``step`` call).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from sciml.solvers.gp.adam import adam_phase
from sciml.solvers.gp.strategy import FitStrategy

if TYPE_CHECKING:
    from sciml.solvers.gp.model import KroneckerGPSolver
    from sciml.solvers.gp.monitor import Monitor

__all__ = ["AdamLBFGS"]


class _Closure:
    """Loss-and-gradient closure for L-BFGS that remembers its last evaluation point."""

    def __init__(self, model: KroneckerGPSolver, params: list[torch.nn.Parameter]) -> None:
        self.model, self.params = model, params
        self.x: torch.Tensor | None = None
        self.loss: torch.Tensor | None = None
        self.grads: list[torch.Tensor] = []
        self.evals = 0

    def flat(self) -> torch.Tensor:
        """The parameters as one vector ``[P]`` (a copy)."""
        return torch.cat([p.detach().reshape(-1) for p in self.params])

    def __call__(self) -> torch.Tensor:
        x = self.flat()
        if self.x is not None and torch.equal(x, self.x):
            for p, g in zip(self.params, self.grads):
                p.grad = g.clone()
            return self.loss
        for p in self.params:
            p.grad = None
        loss, _ = self.model.loss()
        loss.backward()
        self.evals += 1
        self.x, self.loss = x, loss.detach()
        self.grads = [p.grad.detach().clone() for p in self.params]
        return self.loss


@dataclass
class AdamLBFGS(FitStrategy):
    """Adam on everything (ended early once the frequencies change by less than
    ``settle_tol`` between monitoring points), then ``lbfgs_steps`` L-BFGS iterations.

    With ``lbfgs_steps = 0`` this is plain Adam for ``adam_steps`` steps. L-BFGS stops early
    when a step changes no parameter by more than ``tolerance_change`` or the loss by less
    than it, or the largest gradient entry is below ``tolerance_grad``.
    """

    adam_steps: int = 200
    lbfgs_steps: int = 100
    lr: float = 1e-2
    settle_tol: float = 1e-3
    history_size: int = 50
    tolerance_grad: float = 1e-14
    tolerance_change: float = 1e-16

    name: ClassVar[str] = "adam+lbfgs"
    learn_noise: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self.adam_steps < 0 or self.lbfgs_steps < 0:
            raise ValueError("adam_steps and lbfgs_steps must be >= 0")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")

    @property
    def total_steps(self) -> int:
        return self.adam_steps + self.lbfgs_steps

    def fit(self, model: KroneckerGPSolver, monitor: Monitor) -> dict[str, Any]:
        settle = self.settle_tol if self.lbfgs_steps > 0 else None
        adam_phase(
            model, list(model.parameters()), self.adam_steps, self.lr, monitor, settle_tol=settle
        )
        if self.lbfgs_steps == 0:
            return {}
        params = [p for p in model.parameters() if p.requires_grad]
        lbfgs = torch.optim.LBFGS(
            params,
            lr=1.0,
            max_iter=1,
            history_size=self.history_size,
            line_search_fn="strong_wolfe",
            tolerance_grad=self.tolerance_grad,
            tolerance_change=self.tolerance_change,
        )
        closure = _Closure(model, params)
        iterations = 0
        for i in range(1, self.lbfgs_steps + 1):
            evals0 = closure.evals
            before = closure.flat()
            loss_before = closure().item()  # cached after the first iteration
            lbfgs.step(closure)
            after = closure.flat()
            moved = float((after - before).abs().max()) if after.numel() else 0.0
            loss_now = closure().item()  # the accepted point (cached: no extra evaluation)
            monitor.step(loss_now, steps=1 if moved > 0 else 0, evals=closure.evals - evals0)
            iterations += 1 if moved > 0 else 0
            stop = (
                moved <= self.tolerance_change
                or abs(loss_now - loss_before) < self.tolerance_change
            )
            if i % monitor.every == 0 or stop or i == self.lbfgs_steps:
                monitor.record()
            if stop:
                break
        return {"lbfgs_iterations": iterations}
