"""Autoregressive rollout and batched inference: :func:`make_windows` (rollout pairs from
trajectories), :class:`Rollout`, :func:`predict` and :func:`evaluate` (per-sample relative L2)."""

from __future__ import annotations

import torch
from torch import nn

from sciml.train.losses import relative_l2

__all__ = ["Rollout", "evaluate", "make_windows", "predict"]


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
