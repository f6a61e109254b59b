"""How long a run trains, and where its learning-rate schedule stands: an epoch budget, an
optimiser-step budget (``max_steps``) or a wall-clock budget (``time_budget``).

Step and epoch budgets make a result independent of the machine's load (the benchmarks' and the
model zoo's default); a time budget compares models at equal wall clock, and then the schedule
is a function of elapsed training time (:func:`schedule_factor`).
"""

from __future__ import annotations

import math

import torch

from sciml.train.config import TrainConfig

__all__ = ["Budget", "make_optimizer", "make_scheduler", "schedule_factor"]


def schedule_factor(kind: str, progress: float, cfg: TrainConfig) -> float:
    """Learning-rate factor at training progress in [0, 1] (time-budget mode).

    >>> schedule_factor("cosine", 0.5, TrainConfig())
    0.5
    """
    p = min(max(progress, 0.0), 1.0)
    if kind == "none":
        return 1.0
    if kind == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * p))
    if kind == "step":
        # ``step_size`` counted in epochs; in time mode read as a fraction of ``epochs``
        k = math.floor(p * cfg.epochs / cfg.step_size)
        return cfg.gamma**k
    # onecycle: cosine warm-up from 1/25 to 1 over pct_start, cosine down to 1/(25e4)
    lo, end = 1.0 / 25.0, 1.0 / 25.0 / 1e4
    if p < cfg.pct_start:
        q = p / cfg.pct_start
        return 1.0 + (lo - 1.0) * 0.5 * (1.0 + math.cos(math.pi * q))
    q = (p - cfg.pct_start) / max(1.0 - cfg.pct_start, 1e-12)
    return end + (1.0 - end) * 0.5 * (1.0 + math.cos(math.pi * q))


def make_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW or Adam with the config's learning rate and weight decay."""
    cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


class Budget:
    """The run's budget for ``steps_per_epoch`` optimiser steps per epoch.

    ``total_steps``: the planned optimiser steps (``epochs`` epochs, capped by ``max_steps``;
    ``None`` in time mode). :meth:`exhausted` says whether the step budget is spent;
    :meth:`time_step` (time mode) sets the learning rate from the elapsed fraction and says
    whether the time is up.
    """

    def __init__(self, cfg: TrainConfig, steps_per_epoch: int) -> None:
        self.cfg = cfg
        self.steps_per_epoch = steps_per_epoch
        total = cfg.epochs * steps_per_epoch
        self.planned_steps = total if cfg.max_steps is None else min(total, cfg.max_steps)
        self.timed = cfg.time_budget is not None

    @property
    def total_steps(self) -> int | None:
        """Planned optimiser steps, or None when the wall clock decides."""
        return None if self.timed else self.planned_steps

    def exhausted(self, step: int) -> bool:
        """True once ``step`` optimiser steps reach ``max_steps``."""
        return self.cfg.max_steps is not None and step >= self.cfg.max_steps

    def time_step(self, progress: float, opt: torch.optim.Optimizer) -> bool:
        """Time mode: set the learning rate for ``progress`` (elapsed / budget); True when the
        budget is spent."""
        if progress >= 1.0:
            return True
        for group in opt.param_groups:
            group["lr"] = self.cfg.lr * schedule_factor(self.cfg.scheduler, progress, self.cfg)
        return False


def make_scheduler(
    opt: torch.optim.Optimizer, budget: Budget
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """The per-step learning-rate scheduler of ``budget`` (None in time mode or ``"none"``)."""
    cfg = budget.cfg
    if cfg.time_budget is not None or cfg.scheduler == "none":
        return None  # time mode: factors set by hand (Budget.time_step)
    total = budget.planned_steps
    if cfg.scheduler == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=cfg.lr, total_steps=total, pct_start=cfg.pct_start
        )
    if cfg.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    return torch.optim.lr_scheduler.StepLR(
        opt, step_size=cfg.step_size * budget.steps_per_epoch, gamma=cfg.gamma
    )
