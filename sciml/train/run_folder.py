"""The files of a training run in its folder: ``config.json``, ``last.pt`` (the training
checkpoint, exact resume), ``model.pt`` (the best-on-validation model, written by the task),
``metrics.csv`` and ``history.json``.

Write order per epoch: ``model.pt`` first (when the epoch improved), then ``last.pt``, then the
logs. Whenever ``last.pt`` says epoch ``k``, ``model.pt`` is the best of epochs ``1..k``, so a
run killed anywhere in between resumes to the uninterrupted result; the logs are rewritten from
the checkpoint's history on resume (no gap, no duplicate row).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING

from sciml.train.checkpoint import get_rng_state, load_checkpoint, save_checkpoint, set_rng_state

if TYPE_CHECKING:
    from torch import nn

    from sciml.train.trainer import Trainer

__all__ = ["RunFolder", "RESUME_KEYS", "EXTENDABLE"]

#: training settings a resumed run must share with its checkpoint
RESUME_KEYS = (
    "epochs",
    "batch_size",
    "lr",
    "optimizer",
    "scheduler",
    "seed",
    "input_frames",
    "max_steps",
)


#: budgets a resumed run may raise (``--resume --epochs N`` extends a finished run)
EXTENDABLE = ("epochs", "max_steps")


def _longer(old: int | None, new: int | None) -> bool:
    """``new`` budget is at least ``old`` (None: no step cap, the longest)."""
    if new is None:
        return True
    return old is not None and new >= old


class RunFolder:
    """Checkpointing callback of the Trainer for the run folder ``out_dir`` (rank 0 writes)."""

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        #: set by :meth:`restore`: the resumed run has a larger budget than its checkpoint
        self.extended = False

    # ------------------------------------------------------------------ start / resume
    def start(self, trainer: Trainer) -> None:
        """A fresh run: ``config.json`` written, old ``metrics.csv`` removed."""
        if trainer.dist.rank != 0:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / "config.json").write_text(json.dumps(trainer.config_record(), indent=2))
        (self.out_dir / "metrics.csv").unlink(missing_ok=True)

    def restore(self, trainer: Trainer, op: nn.Module, opt, sched) -> int:
        """Load ``last.pt`` into the module, optimiser, scheduler, RNGs, task and history;
        returns the epoch to continue from. ``ValueError`` when the run's settings differ."""
        path = self.out_dir / "last.pt"
        state = load_checkpoint(path, map_location=trainer.device)
        saved = state["config"].get("train", {})
        mine = trainer.config.to_dict()
        self.extended = False
        for key in RESUME_KEYS:
            if saved.get(key) == mine.get(key):
                continue
            if key in EXTENDABLE and _longer(saved.get(key), mine.get(key)):
                self.extended = True  # more epochs / steps: the run goes on past its old end
                continue
            raise ValueError(
                f"cannot resume: config.{key}={mine.get(key)!r} differs from the "
                f"checkpoint's {saved.get(key)!r}"
                + (" (a run can be extended, not shortened)" if key in EXTENDABLE else "")
            )
        saved_model = state["config"].get("model", {}).get("name")
        my_model = trainer.config_record()["model"].get("name")
        if saved_model != my_model:
            raise ValueError(
                f"cannot resume: {str(path)!r} holds a {saved_model!r} run, this is {my_model!r}"
            )
        try:
            op.load_state_dict(state["model"])
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0]
            raise ValueError(
                f"cannot resume: the weights in {str(path)!r} do not fit this model "
                f"(different model options?): {first[:160]}"
            ) from None
        opt.load_state_dict(state["optimizer"])
        if sched is not None and state.get("scheduler") is not None and not self.extended:
            sched.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
        trainer.task.load_state_dict(state.get("task", {}))
        trainer.history = list(state["history"])
        trainer.best_val = state["best_val"]
        self.write_logs(trainer)
        if self.extended and trainer.dist.rank == 0:  # config.json records the new budget
            (self.out_dir / "config.json").write_text(json.dumps(trainer.config_record(), indent=2))
        return int(state["epoch"])

    # ------------------------------------------------------------------ per epoch
    def save_model(self, trainer: Trainer, op: nn.Module) -> None:
        """The task's inference file ``model.pt`` (the best validation model so far)."""
        metric = trainer.task.selection_metric
        trainer.task.save_model(op, self.out_dir / "model.pt", {f"best_{metric}": trainer.best_val})

    def save(self, trainer: Trainer, op: nn.Module, opt, sched, epoch: int, improved: bool) -> None:
        """End of an epoch: ``model.pt`` (if improved), ``last.pt``, ``metrics.csv`` and
        ``history.json``."""
        if trainer.dist.rank != 0:
            return
        state = {
            "epoch": epoch,
            "model": op.state_dict(),
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict() if sched is not None else None,
            "rng": get_rng_state(),
            "config": trainer.config_record(),
            "history": trainer.history,
            "best_val": trainer.best_val,
            "task": trainer.task.state_dict(),
        }
        if improved:
            self.save_model(trainer, op)
        save_checkpoint(self.out_dir / "last.pt", state)
        rec = trainer.history[-1]
        path = self.out_dir / "metrics.csv"
        new = not path.exists()
        with path.open("a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rec))
            if new:
                w.writeheader()
            w.writerow(rec)
        (self.out_dir / "history.json").write_text(json.dumps(trainer.history, indent=1))

    def finish(self, trainer: Trainer, op: nn.Module) -> None:
        """A run that never improved (or had no epoch) still leaves a model file."""
        if trainer.dist.rank == 0 and not (self.out_dir / "model.pt").exists():
            self.save_model(trainer, op)

    def write_logs(self, trainer: Trainer) -> None:
        """Rewrite ``metrics.csv`` and ``history.json`` from the history."""
        if trainer.dist.rank != 0:
            return
        keys: list[str] = []
        for rec in trainer.history:
            keys += [k for k in rec if k not in keys]
        with (self.out_dir / "metrics.csv").open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            w.writerows(trainer.history)
        (self.out_dir / "history.json").write_text(json.dumps(trainer.history, indent=1))
