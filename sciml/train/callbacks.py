"""Callbacks: what the Trainer's loop tells the outside world, as small objects.

A callback has any of these methods (every one optional), called on rank 0 only for the
built-in file and screen parts, on every rank for user callbacks:

* ``on_fit_start(trainer, start_epoch)``;
* ``on_step_end(trainer, step_state)`` -- after each optimiser step
  (:class:`StepState`: global step, epoch, items and loss summed so far in the epoch, seconds);
* ``on_epoch_end(trainer, record, improved)`` -- after validation (``record`` is the epoch's
  row of ``metrics.csv``);
* ``on_fit_end(trainer)``.

The built-in ones: :class:`ProgressBar` (tqdm) and :class:`~sciml.train.run_folder.RunFolder`
(checkpoints, model file, logs). Pass more with ``Trainer(..., callbacks=[...])``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import torch
from tqdm.auto import tqdm

if TYPE_CHECKING:
    from sciml.train.trainer import Trainer

__all__ = ["Callback", "ProgressBar", "StepState"]


@dataclass
class StepState:
    """Where the loop is after an optimiser step."""

    step: int
    epoch: int
    items: int
    loss_sum: torch.Tensor
    epoch_seconds: float
    train_seconds: float


class Callback(Protocol):
    """The hooks a callback may have (all optional)."""

    def on_fit_start(self, trainer: Trainer, start_epoch: int) -> None: ...

    def on_step_end(self, trainer: Trainer, state: StepState) -> None: ...

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any], improved: bool) -> None: ...

    def on_fit_end(self, trainer: Trainer) -> None: ...


class ProgressBar:
    """A tqdm bar over optimiser steps (or over the seconds of a time budget) with the running
    loss, samples/s and, after each epoch, the validation score."""

    def __init__(self) -> None:
        self.bar = None
        self._last_postfix = 0.0

    def on_fit_start(self, trainer: Trainer, start_epoch: int) -> None:
        cfg, budget = trainer.config, trainer.budget
        if cfg.time_budget is not None:  # the bar counts seconds of the budget
            self.bar = tqdm(
                total=cfg.time_budget,
                unit="s",
                dynamic_ncols=True,
                desc="train",
                bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}{postfix}]",
            )
        else:
            self.bar = tqdm(
                total=budget.planned_steps,
                initial=start_epoch * budget.steps_per_epoch,
                unit="batch",
                dynamic_ncols=True,
                desc="train",
            )

    def on_step_end(self, trainer: Trainer, state: StepState) -> None:
        cfg = trainer.config
        if cfg.time_budget is not None:
            self.bar.n = min(state.train_seconds, cfg.time_budget)
        else:
            self.bar.update(1)
        now = time.perf_counter()
        if now - self._last_postfix > 1.0:  # .item() syncs the GPU: at most once a second
            self._last_postfix = now
            rate = state.items * trainer.dist.world / max(state.epoch_seconds, 1e-9)
            self.bar.set_postfix(
                loss=f"{state.loss_sum.item() / max(state.items, 1):.4g}",
                samples_s=f"{rate:.1f}",
                refresh=False,
            )

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any], improved: bool) -> None:
        score = record[trainer.task.selection_metric]
        post = {"loss": f"{record['train_loss']:.4g}"}
        if score == score:  # a task without validation data reports NaN: show no val
            post["val"] = f"{score:.4g}"
        post["samples_s"] = f"{record['samples_per_s']:.1f}"
        self.bar.set_postfix(**post, refresh=True)

    def on_fit_end(self, trainer: Trainer) -> None:
        self.close()

    def close(self) -> None:
        """Close the bar (also when training stops with an error)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
