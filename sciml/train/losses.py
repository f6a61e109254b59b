"""Losses and metrics for operator learning.

The literature (FNO, LSM, ...) reports the *relative L2 error per sample, then averaged over
the batch*: ``mean_b ||pred_b - true_b||_2 / ||true_b||_2`` where the norm runs over every
channel and grid point of sample ``b``. Grid-spacing factors cancel in the ratio, so the number
does not depend on the resolution of a uniform grid.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["relative_l2", "RelativeL2Loss"]


def relative_l2(
    pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean", eps: float = 1e-12
) -> torch.Tensor:
    """Relative L2 error of ``pred`` against ``target``, both ``[B, *]``.

    Returns the per-sample errors ``[B]`` (``reduction="none"``), their mean (``"mean"``) or
    sum (``"sum"``). Computed in at least float32 even for bf16 inputs.

    >>> t = torch.ones(2, 1, 4, 4)
    >>> round(relative_l2(1.1 * t, t).item(), 6)
    0.1
    """
    if pred.shape != target.shape:
        raise ValueError(
            f"pred and target must have the same shape, got {list(pred.shape)} and "
            f"{list(target.shape)}"
        )
    if pred.ndim < 1:
        raise ValueError("pred must have a batch dimension [B, ...]")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    dtype = torch.promote_types(pred.dtype, torch.float32)
    diff = (pred.to(dtype) - target.to(dtype)).reshape(pred.shape[0], -1)
    ref = target.to(dtype).reshape(pred.shape[0], -1)
    err = torch.linalg.vector_norm(diff, dim=1) / (torch.linalg.vector_norm(ref, dim=1) + eps)
    if reduction == "mean":
        return err.mean()
    if reduction == "sum":
        return err.sum()
    return err


class RelativeL2Loss(nn.Module):
    """``nn.Module`` form of :func:`relative_l2` (per sample, then ``reduction``)."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return relative_l2(pred, target, self.reduction)
