"""Supervised training of mesh operators through the one :class:`~sciml.train.trainer.Trainer`.

:class:`MeshTask` is to point sets what :class:`~sciml.train.task.SupervisedTask` is to
grids: ``train`` and ``val`` are lists of :class:`~sciml.datasets.mesh_sample.MeshSample`
(each mesh with its own node count) or :class:`~sciml.datasets.point_batch.PointBatch` es;
the whole set is padded once and held on the training device, and each batch is trimmed to
its own largest node count. The loss is the relative L2 error per sample over its real nodes
(all output channels), summed over the batch; the model's normalisers (coordinate box,
per-channel input/output statistics) are fitted on the training split; validation (a seeded
``config.val_fraction`` of ``train`` unless ``val`` is given) selects the saved model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from sciml.datasets.mesh_sample import MeshSample
from sciml.datasets.point_batch import PointBatch, pad_point_sets
from sciml.operators.mesh.mesh_operator import MeshOperator
from sciml.train.config import TrainConfig
from sciml.train.losses import relative_l2
from sciml.train.task import Task, use_bf16, validation_split

__all__ = ["MeshTask", "as_point_batch", "evaluate_mesh", "predict_mesh"]


def as_point_batch(data: Any, name: str = "data") -> PointBatch:
    """``data`` (a :class:`PointBatch` or a sequence of :class:`MeshSample`) as one padded
    batch with outputs."""
    if isinstance(data, PointBatch):
        batch = data
    elif isinstance(data, Sequence) and data and all(isinstance(s, MeshSample) for s in data):
        batch = pad_point_sets(data)
    else:
        raise TypeError(
            f"{name} must be a PointBatch or a non-empty list of MeshSample, got "
            f"{type(data).__name__}"
        )
    if batch.outputs is None:
        raise ValueError(f"{name}: the samples have no outputs to train on")
    return batch


@torch.no_grad()
def predict_mesh(
    model: nn.Module,
    batch: PointBatch,
    *,
    batch_size: int = 16,
    device: torch.device | str | None = None,
    amp: bool = False,
) -> torch.Tensor:
    """Predictions ``[B, C_out, N]`` of ``model`` on ``batch`` (in eval mode, on the CPU)."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    outs = []
    try:
        for start in range(0, len(batch), batch_size):
            b = batch.take(torch.arange(start, min(start + batch_size, len(batch))))
            b = b.to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                y = model(**b.model_inputs()).float()
            pad = batch.mask.shape[1] - y.shape[2]
            outs.append(torch.nn.functional.pad(y, (0, pad)).cpu())
    finally:
        model.train(was_training)
    return torch.cat(outs)


def evaluate_mesh(
    model: nn.Module,
    batch: PointBatch,
    *,
    batch_size: int = 16,
    device: torch.device | str | None = None,
    amp: bool = False,
) -> torch.Tensor:
    """Relative L2 error per sample ``[B]`` over the real nodes (all output channels)."""
    pred = predict_mesh(model, batch, batch_size=batch_size, device=device, amp=amp)
    return relative_l2(pred, batch.outputs.float(), reduction="none")


class MeshTask(Task):
    """Operator learning on point sets (see the module docstring)."""

    selection_metric = "val_l2"

    def setup(
        self, model: nn.Module, train: Any, val: Any, *, config: TrainConfig, device: torch.device
    ) -> nn.Module:
        """Pad ``train``/``val`` once, fit the model's normalisers on the training split, and
        hold the data on ``device``; returns ``model``."""
        if not isinstance(model, MeshOperator):
            raise TypeError(f"model must be a mesh operator, got {type(model).__name__}")
        self.config, self.device = config, device
        batch = as_point_batch(train, "train")
        if val is None:
            train_idx, val_idx = validation_split(len(batch), config)
            data, held = batch.take(train_idx), batch.take(val_idx) if len(val_idx) else None
        else:
            data, held = batch, as_point_batch(val, "val")
        # dimension, channels, NaN coordinates, weights
        model.check_inputs(data.points, data.inputs, data.mask, data.weights)
        if data.outputs.shape[1] != model.out_channels:
            raise ValueError(
                f"train: the samples have {data.outputs.shape[1]} output channels, the model "
                f"{model.out_channels}"
            )
        if config.normalize:
            model.fit_normalization(data)
        self.data = data.to(device)
        self.val = held
        return model

    def num_train(self) -> int:
        return len(self.data)

    def _amp(self) -> bool:
        return use_bf16(self.config, self.device)

    def loss(self, net: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        """Sum over ``idx`` of the per-sample relative L2 error on the real nodes."""
        b = self.data.take(idx)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self._amp()):
            pred = net(**b.model_inputs())
        return relative_l2(pred, b.outputs, reduction="none").sum(), {}

    def validate(self, module: nn.Module) -> dict[str, float]:
        """``val_l2``: mean relative L2 error on the validation samples (NaN when none)."""
        if self.val is None or len(self.val) == 0:
            return {"val_l2": math.nan}
        errs = evaluate_mesh(
            module, self.val, batch_size=self.config.eval_batch_size, device=self.device,
            amp=self._amp(),
        )  # fmt: skip
        return {"val_l2": float(errs.mean())}
