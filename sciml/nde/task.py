"""``RegularizedTask``: regularized neural ODE/SDE training as a task of the one Trainer.

The loss of a step is ``fit + w(step) * penalty`` (Pal et al. 2021, 2023): the problem's fit
loss of a regularized solve plus the regularizer's penalty, weighted by a schedule of the global
step (:class:`~sciml.nde.schedules.ExponentialDecay`). What differs between experiments (data,
model, fit loss) is a :class:`~sciml.nde.problems.RegularizationProblem`; the Trainer supplies
the optimiser, learning-rate schedule, batching, checkpoints with exact resume, logs and the
progress bar. The epoch record logs the mean fit loss, penalty and weight, and ``nfe`` -- the
vector-field evaluations of one training solve, regularizer included, averaged per step.

>>> import torch
>>> from sciml.nde.problems import Digits
>>> from sciml.train import TrainConfig, Trainer
>>> problem = Digits(dim=8, hidden=16)
>>> _ = torch.manual_seed(0)
>>> model = problem.build(problem.make_regularizer("local-error"))
>>> task = RegularizedTask(problem, problem.weight("local-error", steps=4))
>>> cfg = TrainConfig(epochs=4, batch_size=64, optimizer="adam", weight_decay=0.0,
...                   scheduler="none", lr=1e-2, max_steps=4, amp="none", progress=False)
>>> hist = Trainer(model, cfg, task=task, device="cpu").fit()
>>> hist[-1]["steps"], hist[-1]["nfe"] > 0
(4, True)
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from sciml.train.task import Task

__all__ = ["RegularizedTask"]


class _Objective(nn.Module):
    """What the optimiser step calls: ``idx: LongTensor[b] -> (fit [], penalty [])``."""

    def __init__(self, model: nn.Module, problem: Any) -> None:
        super().__init__()
        self.model, self.problem = model, problem

    def forward(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.problem.fit_loss(self.model, idx)


class RegularizedTask(Task):
    """Train ``problem``'s model on ``fit + weight(step) * penalty``.

    Args:
        problem: a :class:`~sciml.nde.problems.RegularizationProblem` (it owns the data; the
            Trainer's ``train``/``val`` arguments are not used).
        weight: a schedule ``step -> float`` for the penalty, or ``None`` to train on the fit
            loss alone (the penalty is still computed and logged).

    No model selection: the experiments report the final model (the papers' protocol), so
    :meth:`validate` returns NaN. Per-run state of the problem (its random streams) is part of
    :meth:`state_dict`, so a stopped and resumed run ends bit-identical to an uninterrupted one.
    """

    step_logs = ("nfe", "weight")

    def __init__(self, problem: Any, weight: Any = None) -> None:
        self.problem, self.weight = problem, weight
        self._w = 0.0

    def setup(
        self, model: nn.Module, train: Any, val: Any, *, config: Any, device: torch.device
    ) -> nn.Module:
        self.problem.setup(device)
        self.module = model
        return model

    def num_train(self) -> int:
        return self.problem.num_train()

    def train_module(self, module: nn.Module) -> nn.Module:
        return _Objective(module, self.problem)

    def begin_step(self, step: int, total_steps: int | None) -> None:
        self._w = 0.0 if self.weight is None else float(self.weight(step))

    def loss(self, net: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        solver = self.problem.solver(self.module)
        solver.reset_nfe()
        fit, penalty = net(idx)
        loss = fit + self._w * penalty if self.weight is not None else fit
        b = idx.numel()  # the Trainer divides by the batch: the step minimises the batch mean
        logs = {
            "fit": fit.detach() * b,
            "penalty": penalty.detach() * b,
            "nfe": float(solver.nfe),
            "weight": self._w,
        }
        return loss * b, logs

    def validate(self, module: nn.Module) -> dict[str, float]:
        return {"val": math.nan}

    def save_model(self, module: nn.Module, path: Any, extra: dict[str, Any]) -> None:
        """Regularized-NDE experiments keep no inference file (the checkpoint holds the
        weights)."""

    def state_dict(self) -> dict[str, Any]:
        return {"problem": self.problem.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.problem.load_state_dict(state.get("problem", {}))
