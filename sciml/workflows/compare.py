"""Side-by-side comparison of operators on the same data and the same wall-clock budget.

Used by ``sciml quickstart``, ``benchmarks/operators_darcy_ns.py`` and the tutorials.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sciml.train.task import use_bf16
from sciml.train.trainer import TrainConfig, Trainer, evaluate, make_windows, predict

__all__ = ["train_and_test", "count_parameters", "inference_time"]


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters; complex parameters count as two reals."""
    return sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters())


@torch.no_grad()
def inference_time(
    operator: nn.Module,
    x: torch.Tensor,
    *,
    rollout_steps: int | None = None,
    batch_size: int = 50,
    device: torch.device | str | None = None,
    amp: bool = False,
    repeats: int = 1,
) -> float:
    """Seconds per sample of :func:`predict` on ``x: [N, C, *S]`` (after one warm-up batch)."""
    device = torch.device(device) if device is not None else next(operator.parameters()).device
    predict(operator, x[:batch_size], rollout_steps=rollout_steps, device=device, amp=amp)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    for _ in range(repeats):
        predict(
            operator, x, rollout_steps=rollout_steps, batch_size=batch_size, device=device, amp=amp
        )
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - t0) / (repeats * x.shape[0])


def train_and_test(
    name: str,
    make_model: Callable[[], nn.Module],
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    config: TrainConfig,
    *,
    device: torch.device | str | None = None,
    out_dir: str | Path | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Build (with ``torch.manual_seed(seed)``), train and test one model.

    ``train``/``test`` are ``(x, y)`` tensors (trajectories for rollout configs, as for
    :class:`Trainer`). Returns ``name, seed, params, epochs, train_time_s, samples_per_s,
    val_l2, test_l2, test_l2_std, infer_s_per_sample`` and the trained ``operator``.
    """
    torch.manual_seed(seed)
    model = make_model()
    cfg = dataclasses.replace(config, seed=seed)
    trainer = Trainer(model, cfg, out_dir=out_dir, device=device)
    hist = trainer.fit(train)
    op = trainer.operator
    xt, yt = test
    steps = None
    if cfg.input_frames is not None:
        xt, yt = make_windows(xt, yt, cfg.input_frames, cfg.rollout_steps)
        steps = cfg.rollout_steps
    amp = use_bf16(cfg, trainer.device)
    errs = evaluate(op, xt, yt, rollout_steps=steps, device=trainer.device, amp=amp)
    steady = hist[1:] or hist  # epoch 1 includes warm-up (compile, caches)
    seen = sum(h["samples_per_s"] * h["epoch_time"] for h in steady)
    steady_time = sum(h["epoch_time"] for h in steady)
    return {
        "name": name,
        "seed": seed,
        "params": count_parameters(model),
        "epochs": len(hist),
        "train_time_s": hist[-1]["train_time"],
        "samples_per_s": seen / max(steady_time, 1e-9),
        "val_l2": min(h["val_l2"] for h in hist),
        "test_l2": float(errs.mean()),
        "test_l2_std": float(errs.std()) if errs.numel() > 1 else 0.0,
        "infer_s_per_sample": inference_time(
            op, xt, rollout_steps=steps, device=trainer.device, amp=amp
        ),
        "history": hist,
        "operator": op,
        "test_errors": errs,
    }
