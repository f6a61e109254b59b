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
* data parallel training under ``torchrun --nproc_per_node=K`` (DDP, gloo on CPU, NCCL on
  GPU): every rank takes its share of each *global* batch and the loss is scaled so the
  gradient equals the single-process gradient of the same global batch.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sciml.train.checkpoint import (
    get_rng_state,
    load_checkpoint,
    save_checkpoint,
    set_rng_state,
)
from sciml.train.losses import relative_l2
from sciml.train.task import SupervisedTask, Task

__all__ = ["TrainConfig", "Trainer", "Rollout", "make_windows", "evaluate", "predict"]

_OPTIMIZERS = ("adamw", "adam")
_SCHEDULERS = ("onecycle", "cosine", "step", "none")
_AMP = ("auto", "bf16", "none")


@dataclass
class TrainConfig:
    """Training settings (all JSON-serialisable; stored in checkpoints and ``config.json``).

    ``batch_size`` is the *global* batch (split across DDP ranks). ``input_frames`` switches on
    autoregressive rollout: samples are trajectories ``cat([inputs, outputs], dim=1)``, the
    first ``input_frames`` frames are the input and the next ``rollout_steps`` the targets.
    ``time_budget`` (seconds of optimisation, validation excluded) stops training early and
    drives the schedule by elapsed time; ``epochs`` is then an upper bound. ``max_steps`` is an
    iteration budget: the run ends after that many optimiser steps (the last epoch may be
    partial) and the learning-rate schedule spans them; ``epochs`` is again an upper bound.
    """

    epochs: int = 100
    batch_size: int = 20
    lr: float = 1e-3
    weight_decay: float = 1e-4
    optimizer: str = "adamw"
    scheduler: str = "onecycle"
    step_size: int = 100
    gamma: float = 0.5
    pct_start: float = 0.3
    grad_clip: float | None = None
    amp: str = "auto"
    channels_last: bool = False
    compile: bool = False
    seed: int = 0
    val_fraction: float = 0.1
    normalize: bool = True
    input_frames: int | None = None
    rollout_steps: int = 1
    time_budget: float | None = None
    max_steps: int | None = None
    eval_batch_size: int = 50
    progress: bool = True
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        def positive_int(name: str) -> None:
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")

        for name in ("epochs", "batch_size", "step_size", "rollout_steps", "eval_batch_size"):
            positive_int(name)
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if self.optimizer not in _OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, got {self.optimizer!r}")
        if self.scheduler not in _SCHEDULERS:
            raise ValueError(f"scheduler must be one of {_SCHEDULERS}, got {self.scheduler!r}")
        if self.amp not in _AMP:
            raise ValueError(f"amp must be one of {_AMP}, got {self.amp!r}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction!r}")
        if self.input_frames is not None:
            positive_int("input_frames")
        if self.max_steps is not None:
            positive_int("max_steps")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ValueError(f"grad_clip must be positive or None, got {self.grad_clip!r}")
        if self.time_budget is not None and not self.time_budget > 0:
            raise ValueError(
                f"time_budget must be positive seconds or None, got {self.time_budget}"
            )

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(
                f"unknown training option(s) {sorted(unknown)}; known: {sorted(known)}"
            )
        return cls(**d)

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------------------- rollout helpers
def make_windows(
    x: torch.Tensor, y: torch.Tensor, input_frames: int, steps: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rollout pairs from trajectories.

    ``x: [N, F0, *S]`` (e.g. the initial state) and ``y: [N, F1, *S]`` (later frames) form the
    trajectory ``[N, F0 + F1, *S]``; returns inputs ``[N, input_frames, *S]`` and targets
    ``[N, steps, *S]`` (the frames right after the inputs).
    """
    traj = torch.cat([x, y], dim=1)
    need = input_frames + steps
    if traj.shape[1] < need:
        raise ValueError(
            f"rollout needs input_frames + rollout_steps = {need} frames per sample, but inputs "
            f"and outputs together have {traj.shape[1]}"
        )
    return traj[:, :input_frames], traj[:, input_frames:need]


class Rollout(nn.Module):
    """Autoregressive rollout of a one-frame-ahead operator.

    ``window: [B, k, *S] -> [B, steps, *S]``: predict frame ``k``, drop the oldest frame, append
    the prediction, repeat. With ``steps=None`` it is the operator itself.
    """

    def __init__(self, operator: nn.Module, steps: int | None = None) -> None:
        super().__init__()
        self.operator = operator
        self.steps = steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.steps is None:
            return self.operator(x)
        preds, window = [], x
        for _ in range(self.steps):
            nxt = self.operator(window)
            if nxt.shape[1] != 1:
                raise ValueError(f"rollout needs a model with 1 output channel, got {nxt.shape[1]}")
            preds.append(nxt)
            window = torch.cat([window[:, 1:], nxt.to(window.dtype)], dim=1)
        return torch.cat(preds, dim=1)


@torch.no_grad()
def predict(
    operator: nn.Module,
    x: torch.Tensor,
    *,
    rollout_steps: int | None = None,
    batch_size: int = 50,
    device: torch.device | str | None = None,
    amp: bool = False,
) -> torch.Tensor:
    """Apply ``operator`` (physical units in and out) to ``x: [N, C, *S]`` in batches.

    With ``rollout_steps``, returns the autoregressive rollout ``[N, rollout_steps, *S]``.
    Output on the CPU, float32.
    """
    device = torch.device(device) if device is not None else next(operator.parameters()).device
    net = Rollout(operator, rollout_steps)
    was_training = operator.training
    operator.eval()
    outs = []
    for i in range(0, x.shape[0], batch_size):
        xb = x[i : i + batch_size].to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            outs.append(net(xb).float().cpu())
    operator.train(was_training)
    return torch.cat(outs)


def evaluate(
    operator: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    rollout_steps: int | None = None,
    batch_size: int = 50,
    device: torch.device | str | None = None,
    amp: bool = False,
) -> torch.Tensor:
    """Per-sample relative L2 errors ``[N]`` of ``operator`` on ``(x, y)`` (physical units).

    For rollout the error is over the whole predicted sequence ``[steps, *S]`` of a sample.
    """
    pred = predict(
        operator, x, rollout_steps=rollout_steps, batch_size=batch_size, device=device, amp=amp
    )
    return relative_l2(pred, y.float().cpu(), reduction="none")


# ------------------------------------------------------------------------- schedule shapes
def _schedule_factor(kind: str, progress: float, cfg: TrainConfig) -> float:
    """Learning-rate factor at training progress in [0, 1] (time-budget mode)."""
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


# ---------------------------------------------------------------------------------- trainer
class Trainer:
    """The one training loop of sciml (see the module docstring); a :class:`Task` plugs in.

    Args:
        model: the network (for operators: in normalised units, e.g. from
            ``sciml.operators.registry.build``; a ``.spec`` on it lets the saved model be
            rebuilt by name).
        config: :class:`TrainConfig`.
        task: what is trained and how it is scored (:class:`~sciml.train.task.Task`); default
            :class:`~sciml.train.task.SupervisedTask` (operator learning from ``(x, y)``).
        out_dir: run folder for ``last.pt`` (training checkpoint), ``model.pt`` (best
            validation model), ``config.json``, ``metrics.csv``, ``history.json``; ``None``
            keeps everything in memory.
        device: default CUDA (this rank's GPU under torchrun) when available, else CPU.

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
        self.world, self.rank, local_rank = _init_distributed()
        if device is None:
            device = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        if self.device.type == "cuda" and self.device.index is not None:
            torch.cuda.set_device(self.device)
        self.model = model
        self.module: nn.Module | None = None
        self.history: list[dict[str, Any]] = []
        self.best_val = math.inf

    @property
    def operator(self) -> nn.Module | None:
        """The trained module (alias of :attr:`module`, the name operator users know)."""
        return self.module

    # ------------------------------------------------------------------ pieces
    def _optimizer(self, params) -> torch.optim.Optimizer:
        cfg = self.config
        cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
        return cls(params, lr=cfg.lr, weight_decay=cfg.weight_decay)

    def _total_steps(self, steps_per_epoch: int) -> int:
        """Optimiser steps the run plans: ``epochs`` epochs, capped by ``max_steps``."""
        total = self.config.epochs * steps_per_epoch
        return total if self.config.max_steps is None else min(total, self.config.max_steps)

    def _scheduler(self, opt, steps_per_epoch: int):
        cfg = self.config
        if cfg.time_budget is not None or cfg.scheduler == "none":
            return None  # time mode: factors set by hand (see _schedule_factor)
        total = self._total_steps(steps_per_epoch)
        if cfg.scheduler == "onecycle":
            return torch.optim.lr_scheduler.OneCycleLR(
                opt, max_lr=cfg.lr, total_steps=total, pct_start=cfg.pct_start
            )
        if cfg.scheduler == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
        return torch.optim.lr_scheduler.StepLR(
            opt, step_size=cfg.step_size * steps_per_epoch, gamma=cfg.gamma
        )

    def _epoch_batches(self, n: int, epoch: int) -> list[torch.Tensor]:
        """Global batches of epoch ``epoch`` (same on every rank; independent of resume)."""
        g = torch.Generator().manual_seed(self.config.seed * 1_000_003 + epoch)
        perm = torch.randperm(n, generator=g)
        bs = self.config.batch_size
        batches = list(perm.split(bs))
        if len(batches) > 1 and batches[-1].numel() < max(2, self.world):
            # every rank needs a sample, and BatchNorm needs two in a batch
            batches = batches[:-1]
        return batches

    # ------------------------------------------------------------------ main loop
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
        cfg, task = self.config, self.task
        torch.manual_seed(cfg.seed)
        op = task.setup(self.model, train, val, config=cfg, device=self.device)
        n = int(task.num_train())
        if n < self.world:
            raise ValueError(f"need at least {self.world} training items, got {n}")
        if self.world > 1 and self.device.type == "cuda":
            op = nn.SyncBatchNorm.convert_sync_batchnorm(op)
        op = op.to(self.device)
        self.module = op
        net: nn.Module = task.train_module(op)
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            net = DDP(net, device_ids=ids)
        if cfg.compile:
            net = torch.compile(net)

        steps_per_epoch = len(self._epoch_batches(n, 0))
        opt = self._optimizer(op.parameters())
        sched = self._scheduler(opt, steps_per_epoch)

        start_epoch = 0
        if resume:
            start_epoch = self._restore(op, opt, sched)
        elif self.out_dir is not None and self.rank == 0:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            (self.out_dir / "config.json").write_text(json.dumps(self._config_record(), indent=2))
            (self.out_dir / "metrics.csv").unlink(missing_ok=True)

        bar = None
        if cfg.progress and self.rank == 0:
            from tqdm.auto import tqdm

            if cfg.time_budget is not None:  # the bar counts seconds of the budget
                bar = tqdm(
                    total=cfg.time_budget,
                    unit="s",
                    dynamic_ncols=True,
                    desc="train",
                    bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}{postfix}]",
                )
            else:
                bar = tqdm(
                    total=self._total_steps(steps_per_epoch),
                    initial=start_epoch * steps_per_epoch,
                    unit="batch",
                    dynamic_ncols=True,
                    desc="train",
                )
        train_time = sum(h.get("epoch_time", 0.0) for h in self.history)
        cpu_time = sum(h.get("epoch_cpu_time", 0.0) for h in self.history)
        last_epoch = cfg.epochs if stop_after_epoch is None else min(stop_after_epoch, cfg.epochs)
        # the global step is a function of the epoch (batches per epoch are fixed), so a resumed
        # run sees the same step indices as an uninterrupted one
        step = start_epoch * steps_per_epoch
        planned = None if cfg.time_budget is not None else self._total_steps(steps_per_epoch)
        step_keys = set(task.step_logs)
        stop = False
        last_postfix = 0.0
        metric = task.selection_metric
        for epoch in range(start_epoch, last_epoch):
            if cfg.max_steps is not None and step >= cfg.max_steps:
                break
            op.train()
            t0, c0 = time.perf_counter(), time.process_time()
            loss_sum = torch.zeros((), device=self.device, dtype=torch.float64)
            log_sums: dict[str, torch.Tensor] = {}
            count = 0
            epoch_steps = 0
            for gidx in self._epoch_batches(n, epoch):
                if cfg.max_steps is not None and step >= cfg.max_steps:
                    stop = True
                    break
                if cfg.time_budget is not None:
                    prog = (train_time + time.perf_counter() - t0) / cfg.time_budget
                    prog = self._agree(prog)
                    if prog >= 1.0:
                        stop = True
                        break
                    for group in opt.param_groups:
                        group["lr"] = cfg.lr * _schedule_factor(cfg.scheduler, prog, cfg)
                local = gidx[self.rank :: self.world].to(self.device)
                task.begin_step(step, planned)
                item_sum, logs = task.loss(net, local)
                # gradient of (sum over the global batch) / global batch, whatever the split
                loss = item_sum * (self.world / gidx.numel())
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
                if bar is not None:
                    if cfg.time_budget is not None:
                        bar.n = min(train_time + time.perf_counter() - t0, cfg.time_budget)
                    else:
                        bar.update(1)
                    now = time.perf_counter()
                    if now - last_postfix > 1.0:  # .item() syncs the GPU: at most once a second
                        last_postfix = now
                        rate = count * self.world / max(now - t0, 1e-9)
                        bar.set_postfix(
                            loss=f"{loss_sum.item() / max(count, 1):.4g}",
                            samples_s=f"{rate:.1f}",
                            refresh=False,
                        )
            epoch_time = time.perf_counter() - t0
            epoch_cpu_time = time.process_time() - c0
            train_time += epoch_time
            cpu_time += epoch_cpu_time
            keys = sorted(log_sums)
            sums = [loss_sum, torch.tensor(float(count)).to(loss_sum)]
            sums += [torch.tensor(float(epoch_steps)).to(loss_sum)]
            sums += [log_sums[k].reshape(()) for k in keys]
            total = self._all_sum(torch.stack(sums))
            items = total[1].clamp(min=1)
            rank_steps = total[2].clamp(min=1)  # steps summed over ranks
            train_loss = (total[0] / items).item()
            if not math.isfinite(train_loss):
                if bar is not None:
                    bar.close()
                raise ValueError(
                    f"training diverged: the training loss is {train_loss} in epoch {epoch + 1} "
                    "(check the data for NaN/inf values or lower the learning rate)"
                    + (
                        f"; {self.out_dir / 'last.pt'} still holds epoch {epoch}"
                        if self.out_dir is not None and epoch > 0
                        else ""
                    )
                )
            val = task.validate(op)
            if metric not in val:
                raise KeyError(f"{type(task).__name__}.validate() returned no {metric!r}")
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
            score = rec[metric]
            improved = score < self.best_val or math.isnan(self.best_val)
            if improved:
                self.best_val = score
            if bar is not None:
                bar.set_postfix(
                    loss=f"{train_loss:.4g}",
                    val=f"{score:.4g}",
                    samples_s=f"{rec['samples_per_s']:.1f}",
                    refresh=True,
                )
            task.end_epoch(op, epoch + 1)
            self._save(op, opt, sched, epoch + 1, rec, improved)
            if stop:
                break
        if bar is not None:
            bar.close()
        if self.out_dir is not None and self.rank == 0 and not (self.out_dir / "model.pt").exists():
            self._save_model(op)
        return self.history

    # ------------------------------------------------------------------ helpers
    def _agree(self, value: float) -> float:
        """The maximum of ``value`` over ranks (so all ranks stop together)."""
        if self.world == 1:
            return value
        import torch.distributed as dist

        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return float(t.item())

    def _all_sum(self, t: torch.Tensor) -> torch.Tensor:
        if self.world > 1:
            import torch.distributed as dist

            dist.all_reduce(t)
        return t

    def _config_record(self) -> dict:
        return {
            "train": self.config.to_dict(),
            "model": getattr(self.model, "spec", {"name": type(self.model).__name__}),
            "task": type(self.task).__name__,
            "world_size": self.world,
        }

    def _save_model(self, op) -> None:
        self.task.save_model(
            op, self.out_dir / "model.pt", {f"best_{self.task.selection_metric}": self.best_val}
        )

    def _save(self, op, opt, sched, epoch: int, rec: dict, improved: bool) -> None:
        if self.out_dir is None or self.rank != 0:
            return
        state = {
            "epoch": epoch,
            "model": op.state_dict(),
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict() if sched is not None else None,
            "rng": get_rng_state(),
            "config": self._config_record(),
            "history": self.history,
            "best_val": self.best_val,
            "task": self.task.state_dict(),
        }
        # model.pt first, then last.pt: whenever last.pt says epoch k, model.pt is the best of
        # epochs 1..k, so a run killed anywhere in here resumes to the uninterrupted result
        if improved:
            self._save_model(op)
        save_checkpoint(self.out_dir / "last.pt", state)
        path = self.out_dir / "metrics.csv"
        new = not path.exists()
        with path.open("a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rec))
            if new:
                w.writeheader()
            w.writerow(rec)
        (self.out_dir / "history.json").write_text(json.dumps(self.history, indent=1))

    def _write_logs(self) -> None:
        """Rewrite ``metrics.csv`` and ``history.json`` from the history (after a resume: a
        kill between the checkpoint and the logs leaves no gap or duplicate row)."""
        if self.out_dir is None or self.rank != 0:
            return
        keys: list[str] = []
        for rec in self.history:
            keys += [k for k in rec if k not in keys]
        with (self.out_dir / "metrics.csv").open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            w.writerows(self.history)
        (self.out_dir / "history.json").write_text(json.dumps(self.history, indent=1))

    def _restore(self, op, opt, sched) -> int:
        if self.out_dir is None:
            raise ValueError("resume=True needs out_dir (where last.pt lives)")
        path = self.out_dir / "last.pt"
        state = load_checkpoint(path, map_location=self.device)
        saved = state["config"].get("train", {})
        mine = self.config.to_dict()
        for key in (
            "epochs",
            "batch_size",
            "lr",
            "optimizer",
            "scheduler",
            "seed",
            "input_frames",
            "max_steps",
        ):
            if saved.get(key) != mine.get(key):
                raise ValueError(
                    f"cannot resume: config.{key}={mine.get(key)!r} differs from the "
                    f"checkpoint's {saved.get(key)!r}"
                )
        saved_model = state["config"].get("model", {}).get("name")
        my_model = self._config_record()["model"].get("name")
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
        if sched is not None and state.get("scheduler") is not None:
            sched.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
        self.task.load_state_dict(state.get("task", {}))
        self.history = list(state["history"])
        self.best_val = state["best_val"]
        self._write_logs()
        return int(state["epoch"])


def _init_distributed() -> tuple[int, int, int]:
    """``(world, rank, local_rank)``; starts the process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 1, 0, 0
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
    return dist.get_world_size(), dist.get_rank(), int(os.environ.get("LOCAL_RANK", "0"))
