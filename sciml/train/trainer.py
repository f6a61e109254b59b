"""One Trainer for everything sciml trains; what differs plugs in as a task.

>>> import torch
>>> from sciml.operators.registry import build
>>> from sciml.train import TrainConfig, Trainer
>>> x = torch.randn(16, 1, 16, 16); y = 2 * x
>>> model = build("fno", in_channels=1, out_channels=1, width=8, modes=4)
>>> tr = Trainer(model, TrainConfig(epochs=2, batch_size=4, progress=False))
>>> hist = tr.fit((x, y))
>>> len(hist)
2

The loop is shared by every trained thing in the package; what differs (data, loss,
validation metric, the inference file) is a :class:`~sciml.train.task.Task`. Without one, the
task is :class:`~sciml.train.task.SupervisedTask`, operator learning from ``(x, y)`` pairs.

What it does:

* AdamW or Adam; OneCycle, cosine or step learning-rate schedules (stepped per batch), or,
  with ``time_budget``, the same shapes as a function of elapsed training time (for
  equal-wall-clock comparisons);
* for operators: relative L2 loss per sample, averaged (:func:`sciml.train.losses.relative_l2`);
  per-channel Gaussian normalisers fitted on the training split and saved with the model
  (:class:`~sciml.train.normalizers.NormalizedOperator`); autoregressive rollout for time-dependent data (``input_frames=10, rollout_steps=10``: 10
  frames in, predict the next, feed it back, 10 steps, loss summed over the steps);
* an epoch budget, an iteration budget (``max_steps``: the last epoch may be partial) or a time
  budget; before every optimiser step the task hears the global step
  (:meth:`~sciml.train.task.Task.begin_step`: per-step schedules such as a penalty weight), and
  per-step log values (:attr:`~sciml.train.task.Task.step_logs`, e.g. solver evaluations) are
  averaged per step; the epoch record holds wall-clock and process CPU times;
* bf16 autocast on GPU, optional ``channels_last`` and ``torch.compile``, gradient clipping;
* a validation split carved from the training data; the saved model is the one with the best
  validation metric of the task (the test set is never looked at);
* a non-finite training loss stops the run with a clear error (the last good checkpoint stays);
* checkpoints with model, optimiser, scheduler, normalisers, RNG states, task state and config
  after every epoch (read back with ``weights_only=True``), and exact resume: shuffling uses a
  generator seeded by ``(seed, epoch)``, so a run
  stopped after epoch ``k`` and resumed ends with the same weights as an uninterrupted run;
* a tqdm progress bar (loss, samples/s, ETA) and CSV + JSON logs;
* small named parts, each in a file of its own: the budget (:mod:`~sciml.train.budget`: epochs,
  ``max_steps`` or ``time_budget``, optimiser and schedule), the divergence guard
  (:mod:`~sciml.train.guard`), the run folder's checkpoints (:mod:`~sciml.train.run_folder`),
  the progress bar and user callbacks (:mod:`~sciml.train.callbacks`), DDP
  (:mod:`~sciml.train.distributed`);
* data parallel training under ``torchrun --nproc_per_node=K`` (DDP, gloo on CPU, NCCL on
  GPU): every rank takes its share of each *global* batch and the loss is scaled so the
  gradient equals the single-process gradient of the same global batch.
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sciml.train.budget import Budget, make_optimizer, make_scheduler
from sciml.train.callbacks import Callback, ProgressBar, StepState
from sciml.train.config import TrainConfig
from sciml.train.distributed import Distributed
from sciml.train.guard import check_training_loss
from sciml.train.rollout import Rollout, evaluate, make_windows, predict
from sciml.train.run_folder import RunFolder
from sciml.train.task import SupervisedTask, Task

__all__ = ["TrainConfig", "Trainer", "Rollout", "make_windows", "evaluate", "predict"]


class Trainer:
    """The one training loop of sciml (see the module docstring); a :class:`Task` plugs in.

    Args:
        model: the network (for operators: in normalised units, e.g. from
            ``sciml.operators.registry.build``; a ``.spec`` on it lets the saved model be
            rebuilt by name).
        config: :class:`TrainConfig`.
        task: what is trained and how it is scored (:class:`~sciml.train.task.Task`); default
            :class:`~sciml.train.task.SupervisedTask` (operator learning from ``(x, y)``).
        out_dir: run folder (:class:`~sciml.train.run_folder.RunFolder`: ``last.pt``,
            ``model.pt``, ``config.json``, ``metrics.csv``, ``history.json``); ``None`` keeps
            everything in memory.
        device: default CUDA (this rank's GPU under torchrun) when available, else CPU.
        callbacks: more :class:`~sciml.train.callbacks.Callback` objects (the progress bar and
            the run folder are built in).

    After :meth:`fit`, ``trainer.module`` is the trained module the task returned from
    ``setup`` (for operators, a :class:`~sciml.train.normalizers.NormalizedOperator`: physical
    units in and out; also available as ``trainer.operator``).
    """

    def __init__(
        self,
        model: nn.Module,
        config: TrainConfig | None = None,
        *,
        task: Task | None = None,
        out_dir: str | Path | None = None,
        device: torch.device | str | None = None,
        callbacks: list[Callback] | tuple[Callback, ...] = (),
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.config = config if config is not None else TrainConfig()
        if not isinstance(self.config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(self.config).__name__}")
        self.task = task if task is not None else SupervisedTask()
        missing = [m for m in ("setup", "num_train", "loss", "validate") if not hasattr(task, m)]
        if task is not None and missing:
            raise TypeError(
                f"task must be a sciml.train.Task, got {type(task).__name__} without {missing}"
            )
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.run_folder = RunFolder(self.out_dir) if self.out_dir is not None else None
        self.dist = Distributed()
        if device is None:
            device = f"cuda:{self.dist.local_rank}" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        if self.device.type == "cuda" and self.device.index is not None:
            torch.cuda.set_device(self.device)
        self.model = model
        self.callbacks = list(callbacks)
        self.module: nn.Module | None = None
        self.budget: Budget | None = None
        self.history: list[dict[str, Any]] = []
        self.best_val = math.inf

    @property
    def operator(self) -> nn.Module | None:
        """The trained module (alias of :attr:`module`, the name operator users know)."""
        return self.module

    @property
    def world(self) -> int:
        """Number of data-parallel ranks."""
        return self.dist.world

    @property
    def rank(self) -> int:
        """This process's rank (0 writes the run folder)."""
        return self.dist.rank

    def config_record(self) -> dict:
        """What ``config.json`` and the checkpoints record about the run."""
        return {
            "train": self.config.to_dict(),
            "model": getattr(self.model, "spec", {"name": type(self.model).__name__}),
            "task": type(self.task).__name__,
            "world_size": self.dist.world,
        }

    def _epoch_batches(self, n: int, epoch: int) -> list[torch.Tensor]:
        """Global batches of epoch ``epoch`` (same on every rank; independent of resume)."""
        g = torch.Generator().manual_seed(self.config.seed * 1_000_003 + epoch)
        perm = torch.randperm(n, generator=g)
        batches = list(perm.split(self.config.batch_size))
        if len(batches) > 1 and batches[-1].numel() < max(2, self.dist.world):
            # every rank needs a sample, and BatchNorm needs two in a batch
            batches = batches[:-1]
        return batches

    # ------------------------------------------------------------------ the loop
    def fit(
        self,
        train: Any = None,
        val: Any = None,
        *,
        resume: bool = False,
        stop_after_epoch: int | None = None,
    ) -> list[dict[str, Any]]:
        """Train (the task's data: for operators, ``train`` pairs; validate on ``val``, or on a
        split carved from ``train``).

        ``train``/``val``: what the task's ``setup`` takes (for :class:`SupervisedTask`,
        anything :func:`sciml.train.data.as_tensors` accepts). ``resume``: continue from
        ``out_dir/last.pt``. ``stop_after_epoch``: end this call after that epoch (simulates an
        interruption; the schedule still spans ``config.epochs``). Returns the per-epoch
        history (list of dicts). Raises ``ValueError`` when the training loss turns non-finite
        (the last good checkpoint is kept).
        """
        cfg = self.config
        op, net, n = self._setup(train, val)
        self.budget = Budget(cfg, len(self._epoch_batches(n, 0)))
        opt = make_optimizer(op.parameters(), cfg)
        sched = make_scheduler(opt, self.budget)
        start_epoch = self._start(resume, op, opt, sched)
        callbacks = self._callbacks()
        self._call(callbacks, "on_fit_start", start_epoch)
        try:
            self._epochs(op, net, opt, sched, n, start_epoch, stop_after_epoch, callbacks)
        finally:
            for cb in callbacks:
                if isinstance(cb, ProgressBar):
                    cb.close()
        if self.run_folder is not None:
            self.run_folder.finish(self, op)
        self._call(callbacks, "on_fit_end")
        return self.history

    def _setup(self, train: Any, val: Any) -> tuple[nn.Module, nn.Module, int]:
        """The task's module on the device, the network the loss calls (DDP, compiled), and the
        number of training items."""
        torch.manual_seed(self.config.seed)
        op = self.task.setup(self.model, train, val, config=self.config, device=self.device)
        n = int(self.task.num_train())
        if n < self.dist.world:
            raise ValueError(f"need at least {self.dist.world} training items, got {n}")
        op = self.dist.prepare(op, self.device)
        self.module = op
        net = self.dist.wrap(self.task.train_module(op), self.device)
        if self.config.compile:
            net = torch.compile(net)
        return op, net, n

    def _start(self, resume: bool, op: nn.Module, opt, sched) -> int:
        if resume:
            if self.run_folder is None:
                raise ValueError("resume=True needs out_dir (where last.pt lives)")
            epoch = self.run_folder.restore(self, op, opt, sched)
            if self.run_folder.extended and sched is not None:
                # a longer budget than the checkpoint's: the schedule spans the new total and
                # stands where the run is (as if planned this long from the start)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    for _ in range(epoch * self.budget.steps_per_epoch):
                        sched.step()
            return epoch
        if self.run_folder is not None:
            self.run_folder.start(self)
        return 0

    def _callbacks(self) -> list[Any]:
        screen = [ProgressBar()] if self.config.progress and self.dist.rank == 0 else []
        return screen + self.callbacks

    def _call(self, callbacks: list[Any], hook: str, *args: Any) -> None:
        for cb in callbacks:
            fn = getattr(cb, hook, None)
            if fn is not None:
                fn(self, *args)

    def _epochs(self, op, net, opt, sched, n, start_epoch, stop_after_epoch, callbacks) -> None:
        cfg, task, budget = self.config, self.task, self.budget
        train_time = sum(h.get("epoch_time", 0.0) for h in self.history)
        cpu_time = sum(h.get("epoch_cpu_time", 0.0) for h in self.history)
        last_epoch = cfg.epochs if stop_after_epoch is None else min(stop_after_epoch, cfg.epochs)
        # the global step is a function of the epoch (batches per epoch are fixed), so a resumed
        # run sees the same step indices as an uninterrupted one
        step = start_epoch * budget.steps_per_epoch
        for epoch in range(start_epoch, last_epoch):
            if budget.exhausted(step):
                break
            t0, c0 = time.perf_counter(), time.process_time()
            step, stop, sums = self._train_epoch(
                op, net, opt, sched, n, epoch, step, train_time, callbacks
            )
            if sums[2] == 0:  # the budget ran out before this epoch's first step (every rank
                break  # agrees on the time budget): nothing to record
            epoch_time = time.perf_counter() - t0
            epoch_cpu_time = time.process_time() - c0
            train_time += epoch_time
            cpu_time += epoch_cpu_time
            rec = self._record(epoch, sums, epoch_time, epoch_cpu_time, train_time, cpu_time, opt)
            score = rec[task.selection_metric]
            improved = score < self.best_val or math.isnan(self.best_val)
            if improved:
                self.best_val = score
            self._call(callbacks, "on_epoch_end", rec, improved)
            task.end_epoch(op, epoch + 1)
            if self.run_folder is not None:
                self.run_folder.save(self, op, opt, sched, epoch + 1, improved)
            if stop:
                break

    def _train_epoch(self, op, net, opt, sched, n, epoch, step, train_time, callbacks):
        """One epoch of optimiser steps; returns ``(global step, stop, per-epoch sums)``."""
        cfg, task, budget = self.config, self.task, self.budget
        op.train()
        t0 = time.perf_counter()
        loss_sum = torch.zeros((), device=self.device, dtype=torch.float64)
        log_sums: dict[str, torch.Tensor] = {}
        count = epoch_steps = 0
        stop = False
        for gidx in self._epoch_batches(n, epoch):
            if budget.exhausted(step):
                stop = True
                break
            if budget.timed:
                progress = (train_time + time.perf_counter() - t0) / cfg.time_budget
                if budget.time_step(self.dist.agree_max(progress, self.device), opt):
                    stop = True
                    break
            local = gidx[self.dist.rank :: self.dist.world].to(self.device)
            task.begin_step(step, budget.total_steps)
            item_sum, logs = task.loss(net, local)
            # gradient of (sum over the global batch) / global batch, whatever the split
            loss = item_sum * (self.dist.world / gidx.numel())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip is not None:
                nn.utils.clip_grad_norm_(op.parameters(), cfg.grad_clip)
            opt.step()
            if sched is not None:
                sched.step()
            step += 1
            epoch_steps += 1
            loss_sum += item_sum.detach().double()
            for key, value in logs.items():
                v = torch.as_tensor(value, dtype=torch.float64).detach().to(self.device)
                log_sums[key] = log_sums.get(key, 0.0) + v
            count += local.numel()
            elapsed = time.perf_counter() - t0
            state = StepState(step, epoch, count, loss_sum, elapsed, train_time + elapsed)
            self._call(callbacks, "on_step_end", state)
        return step, stop, (loss_sum, count, epoch_steps, log_sums)

    def _record(self, epoch, sums, epoch_time, epoch_cpu_time, train_time, cpu_time, opt) -> dict:
        """The epoch's row: training loss and logs (summed over ranks), validation, timings;
        the divergence guard runs on the summed loss, before validation."""
        loss_sum, count, epoch_steps, log_sums = sums
        keys = sorted(log_sums)
        parts = [loss_sum, torch.tensor(float(count)).to(loss_sum)]
        parts += [torch.tensor(float(epoch_steps)).to(loss_sum)]
        parts += [log_sums[k].reshape(()) for k in keys]
        total = self.dist.all_sum(torch.stack(parts))
        items = total[1].clamp(min=1)
        rank_steps = total[2].clamp(min=1)  # steps summed over ranks
        train_loss = (total[0] / items).item()
        check_training_loss(train_loss, epoch, self.out_dir)
        val = self.task.validate(self.module)
        metric = self.task.selection_metric
        if metric not in val:
            raise KeyError(f"{type(self.task).__name__}.validate() returned no {metric!r}")
        step_keys = set(self.task.step_logs)
        rec = {
            "epoch": epoch + 1,
            "train_loss": train_loss,
            **{
                k: (total[3 + i] / (rank_steps if k in step_keys else items)).item()
                for i, k in enumerate(keys)
            },
            **{k: float(v) for k, v in val.items()},
            "lr": opt.param_groups[0]["lr"],
            "steps": epoch_steps,
            "epoch_time": epoch_time,
            "epoch_cpu_time": epoch_cpu_time,
            "samples_per_s": float(total[1].item()) / max(epoch_time, 1e-9),
            "train_time": train_time,
            "train_cpu_time": cpu_time,
        }
        self.history.append(rec)
        return rec
