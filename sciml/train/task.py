"""What differs between trained things: a *task* plugged into the one :class:`Trainer` loop.

The Trainer owns everything every training run needs -- optimiser and schedules, seeded and
resume-exact batching, bf16 autocast, gradient clipping, DDP, checkpoints, logs, the progress
bar, validation-based model selection and divergence checks. A task says only what is
particular to one kind of model:

=====================  =====================================================================
``setup``              hold the data (on the training device) and return the module to train
``num_train``          how many items an epoch has (batches are index sets into them)
``train_module``       what the optimiser step calls (wrapped in DDP / ``torch.compile``)
``loss``               the sum of the per-item losses of a batch, and values to log
``validate``           metrics on the validation data; ``selection_metric`` picks ``model.pt``
``save_model``         the inference file (default: the registry-spec model file)
``state_dict``         task state that must survive a resume (curricula, replay pools)
``begin_step``         a hook before each optimiser step (per-step schedules, e.g. a weight)
``end_epoch``          a hook after each epoch (refresh a curriculum)
``step_logs``          log keys that are per step (e.g. ``"nfe"``), averaged over steps
=====================  =====================================================================

:class:`SupervisedTask` is operator learning from ``(x, y)`` pairs (the default). Physics-loss,
generative, learned-solver and regularized-NDE models subclass :class:`Task`.

>>> import torch
>>> from torch import nn
>>> class Fit(Task):  # least squares for y = 3 x, one item per row
...     def setup(self, model, train, val, *, config, device):
...         self.x = torch.linspace(-1, 1, 32)[:, None]
...         return model
...     def num_train(self):
...         return 32
...     def loss(self, net, idx):
...         return (net(self.x[idx]) - 3 * self.x[idx]).square().sum(), {}
>>> from sciml.train import TrainConfig, Trainer
>>> cfg = TrainConfig(epochs=60, batch_size=8, lr=0.05, scheduler="none", progress=False)
>>> net = nn.Linear(1, 1, bias=False)
>>> _ = Trainer(net, cfg, task=Fit(), device="cpu").fit()
>>> round(net.weight.item(), 2)
3.0
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from sciml.train.checkpoint import model_spec, save_model
from sciml.train.data import as_tensors
from sciml.train.losses import relative_l2
from sciml.train.normalizers import GaussianNormalizer, NormalizedOperator
from sciml.train.rollout import Rollout, evaluate, make_windows

if TYPE_CHECKING:
    from sciml.train.config import TrainConfig

__all__ = ["Task", "SupervisedTask", "use_bf16", "check_finite", "validation_split"]


def use_bf16(config: TrainConfig, device: torch.device) -> bool:
    """Whether ``config.amp`` asks for bf16 autocast on ``device``."""
    return config.amp == "bf16" or (config.amp == "auto" and device.type == "cuda")


def check_finite(t: torch.Tensor, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` when ``t`` holds NaN or inf."""
    if not torch.isfinite(t).all():
        bad = int((~torch.isfinite(t)).sum())
        raise ValueError(f"{name} contains {bad} non-finite value(s) (NaN or inf); fix the data")


class Task:
    """Base class of training tasks (see the module docstring for the contract)."""

    #: key of :meth:`validate`'s dict that selects the saved model (lower is better)
    selection_metric: str = "val"
    #: keys of :meth:`loss`'s logs that are per optimiser step (a count of solver evaluations,
    #: a time), not sums over items: the epoch record holds their mean per step (and per rank)
    step_logs: tuple[str, ...] = ()

    def setup(
        self, model: nn.Module, train: Any, val: Any, *, config: TrainConfig, device: torch.device
    ) -> nn.Module:
        """Prepare data on ``device``; return the module whose parameters are trained."""
        raise NotImplementedError

    def num_train(self) -> int:
        """Number of training items per epoch (the Trainer batches their indices)."""
        raise NotImplementedError

    def train_module(self, module: nn.Module) -> nn.Module:
        """The module the training step calls (it is wrapped in DDP / ``torch.compile``)."""
        return module

    def loss(self, net: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        """``(sum of the per-item losses over idx: LongTensor[b], logs)``.

        ``net`` is :meth:`train_module`'s module (possibly wrapped). The Trainer divides by the
        global batch size, so under DDP the gradient equals the single-process one. ``logs``
        values (floats or 0-d tensors) are sums over ``idx`` too; the epoch record holds their
        per-item means (keys listed in :attr:`step_logs`: their per-step means). A loss that is
        not a sum over items (batch moments, a masked mean) returns ``len(idx) * batch_loss``.
        """
        raise NotImplementedError

    def validate(self, module: nn.Module) -> dict[str, float]:
        """Validation metrics; must include :attr:`selection_metric` (NaN: nothing to select)."""
        return {self.selection_metric: math.nan}

    def save_model(self, module: nn.Module, path: Path, extra: dict[str, Any]) -> None:
        """Write the inference file for ``module`` (default: the registry-spec model file)."""

        inner = module.model if isinstance(module, NormalizedOperator) else module
        if model_spec(inner) is not None:
            save_model(path, module, extra=extra)

    def state_dict(self) -> dict[str, Any]:
        """Task state that a resume must restore (tensors and plain data only)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""

    def begin_step(self, step: int, total_steps: int | None) -> None:
        """Called before each optimiser step: ``step`` is its 0-based global index (the same
        after a resume as in an uninterrupted run), ``total_steps`` the steps the run plans
        (``None`` under a ``time_budget``). Per-step schedules (a penalty weight) go here."""

    def end_epoch(self, module: nn.Module, epoch: int) -> None:
        """Called after epoch ``epoch`` (1-based) was trained and validated."""


def validation_split(n: int, config: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """``(train_idx, val_idx)``: sorted ``LongTensor`` indices of ``n`` items, a seeded
    ``config.val_fraction`` held out for validation (at least one item when the fraction is
    positive and ``n > 1``). Every task that carves its validation data from ``train`` uses
    this, so the same seed holds out the same items whatever the task.

    >>> from sciml.train import TrainConfig
    >>> tr, va = validation_split(10, TrainConfig(val_fraction=0.2, seed=0))
    >>> len(tr), len(va), sorted(set(tr.tolist()) | set(va.tolist())) == list(range(10))
    (8, 2, True)
    """
    n_val = int(round(config.val_fraction * n))
    if config.val_fraction > 0 and n_val == 0 and n > 1:
        n_val = 1
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(config.seed + 12345))
    return perm[n_val:].sort().values, perm[:n_val].sort().values


class SupervisedTask(Task):
    """Operator learning from pairs ``x: [N, C_in, *S] -> y: [N, C_out, *S]``.

    Relative L2 loss per sample; per-channel Gaussian normalisers fitted on the training split
    (saved with the model); a validation split carved from the training data when none is
    given (``config.val_fraction``, seeded); autoregressive rollout when ``config.input_frames``
    is set (the loss is summed over the rollout steps); channels-last memory format when
    ``config.channels_last``. Non-finite inputs or targets are refused with a clear error.
    """

    selection_metric = "val_l2"

    def setup(
        self, model: nn.Module, train: Any, val: Any, *, config: TrainConfig, device: torch.device
    ) -> NormalizedOperator:
        """Hold ``(x, y)`` pairs (anything :func:`~sciml.train.data.as_tensors` reads) on
        ``device``, carve a seeded validation split when ``val`` is None, make rollout windows
        when ``config.input_frames`` is set; return ``model`` wrapped with normalisers fitted
        on the training split."""

        self.config, self.device = config, device
        x, y = as_tensors(train, "train")
        if val is None:
            train_idx, val_idx = validation_split(x.shape[0], config)
            xv, yv = x[val_idx], y[val_idx]
            x, y = x[train_idx], y[train_idx]
        else:
            xv, yv = as_tensors(val, "val")
        for t, name in ((x, "training inputs"), (y, "training targets")):
            check_finite(t, name)
        for t, name in ((xv, "validation inputs"), (yv, "validation targets")):
            check_finite(t, name)
        self.steps = None
        if config.input_frames is not None:
            x, y = make_windows(x, y, config.input_frames, config.rollout_steps)
            if xv.shape[0]:
                xv, yv = make_windows(xv, yv, config.input_frames, config.rollout_steps)
            self.steps = config.rollout_steps
        self.memory_format = (
            {4: torch.channels_last, 5: torch.channels_last_3d}.get(x.ndim)
            if config.channels_last
            else None
        )
        op = self._normalized(model, x, y)
        if self.memory_format is not None:
            op = op.to(memory_format=self.memory_format)
        self._rollout = Rollout
        self.x, self.y = x.to(device), y.to(device)
        self.xv, self.yv = xv, yv
        return op

    def _normalized(self, model, x, y) -> NormalizedOperator:
        cfg = self.config
        if not cfg.normalize:
            return NormalizedOperator(model)
        per_channel = cfg.input_frames is None
        y_fit = y if per_channel else y.reshape(-1, 1, *y.shape[2:])
        x_norm = GaussianNormalizer(x.shape[1], per_channel=per_channel).fit(x)
        y_norm = GaussianNormalizer(1 if not per_channel else y.shape[1], per_channel=per_channel)
        y_norm.fit(y_fit)
        return NormalizedOperator(model, x_norm, y_norm)

    def num_train(self) -> int:
        return self.x.shape[0]

    def train_module(self, module: nn.Module) -> nn.Module:
        """``module`` in a :class:`~sciml.train.trainer.Rollout` of ``config.rollout_steps``
        steps (with ``input_frames`` unset it just calls ``module``)."""
        return self._rollout(module, self.steps)

    def loss(self, net: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        """Sum over ``idx: [b]`` of the per-sample relative L2 error (summed over the rollout
        steps), under bf16 autocast when ``config.amp`` asks for it."""
        xb, yb = self.x[idx], self.y[idx]
        if self.memory_format is not None:
            xb = xb.contiguous(memory_format=self.memory_format)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self._amp()):
            pred = net(xb)
        if self.steps is None:
            per_sample = relative_l2(pred, yb, reduction="none")
        else:  # loss summed over the rollout steps
            per_sample = sum(
                relative_l2(pred[:, t : t + 1], yb[:, t : t + 1], reduction="none")
                for t in range(self.steps)
            )
        return per_sample.sum(), {}

    def _amp(self) -> bool:
        return use_bf16(self.config, self.device)

    def validate(self, module: nn.Module) -> dict[str, float]:
        """``val_l2``: mean relative L2 error on the validation split (NaN when empty)."""

        if self.xv.shape[0] == 0:
            return {"val_l2": math.nan}
        errs = evaluate(
            module,
            self.xv,
            self.yv,
            rollout_steps=self.steps,
            batch_size=self.config.eval_batch_size,
            device=self.device,
            amp=self._amp(),
        )
        return {"val_l2": float(errs.mean())}

    def save_model(self, module: nn.Module, path: Path, extra: dict[str, Any]) -> None:
        """The registry-spec model file, with the rollout settings in ``extra``."""
        extra = {
            "input_frames": self.config.input_frames,
            "rollout_steps": self.steps,
            **extra,
        }
        super().save_model(module, path, extra)
