"""Training a VAE on images through the one Trainer."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch

from sciml.io import atomic_save
from sciml.train.checkpoint import model_file_payload
from sciml.train.task import Task, check_finite
from sciml.traversal.vae import ConvVAE

if TYPE_CHECKING:
    from pathlib import Path

    from torch import nn

    from sciml.train.trainer import TrainConfig

__all__ = ["VAETask", "negative_elbo"]


@torch.no_grad()
def negative_elbo(vae: ConvVAE, x: torch.Tensor, *, batch_size: int = 256, seed: int = 0) -> float:
    """Mean one-sample negative ELBO (nats per image) with a fixed seed (comparable per epoch)."""
    dev = next(vae.parameters()).device
    total = 0.0
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(seed)
        for i in range(0, x.shape[0], batch_size):
            total += float(vae(x[i : i + batch_size].to(dev)).sum())
    return total / max(x.shape[0], 1)


class VAETask(Task):
    """Per-image loss ``-log p(x|z) + beta KL(q(z|x) || p(z))`` (``beta = 1``: the ELBO).

    ``Trainer(vae, cfg, task=VAETask()).fit(train_images, val_images)`` with images
    ``[N, C, H, W]`` in ``[0, 1]``; the saved ``model.pt`` is the VAE with the lowest
    validation negative ELBO (``val``, nats per image).

    Args:
        beta: KL weight (beta-VAE, Higgins et al. 2017).
        warmup: optimiser steps over which the KL weight ramps linearly from 0 to ``beta``
            (KL annealing, Bowman et al. 2016): small sprites on a large black field otherwise
            collapse the posterior (the KL wins before the decoder uses the code).
    """

    selection_metric = "val"

    def __init__(self, beta: float = 1.0, *, warmup: int = 0) -> None:
        if not beta > 0:
            raise ValueError(f"beta must be positive, got {beta!r}")
        if not isinstance(warmup, int) or warmup < 0:
            raise ValueError(f"warmup must be a non-negative int, got {warmup!r}")
        self.beta, self.warmup = float(beta), warmup
        self.step = 0

    def begin_step(self, step: int, total_steps: int | None) -> None:
        self.step = step

    def current_beta(self) -> float:
        """The KL weight at the current optimiser step."""
        if self.warmup == 0:
            return self.beta
        return self.beta * min(1.0, self.step / self.warmup)

    def setup(
        self, model: nn.Module, train: Any, val: Any, *, config: TrainConfig, device: torch.device
    ) -> ConvVAE:
        """Check ``model`` is a :class:`ConvVAE`, hold the training images ``[N, C, H, W]`` on
        ``device`` (validation images stay where they are); return ``model``."""
        if not isinstance(model, ConvVAE):
            raise TypeError(f"VAETask trains a ConvVAE, got {type(model).__name__}")
        for name, x in (("train", train), ("val", val)):
            if x is not None and (not isinstance(x, torch.Tensor) or x.ndim != 4):
                raise ValueError(f"{name} must be images [N, C, H, W], got {type(x).__name__}")
        check_finite(train, "training images")
        self.x = train.to(device)
        self.xv = val if val is not None else train[:0]
        return model

    def num_train(self) -> int:
        return self.x.shape[0]

    def loss(self, net: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        """Summed ``rec + beta KL`` over the images ``idx: [b]``; logs ``rec`` and ``kl`` sums."""
        t = net.elbo_terms(self.x[idx])
        loss = t["rec"] + self.current_beta() * t["kl"]
        return loss.sum(), {"rec": t["rec"].sum().detach(), "kl": t["kl"].sum().detach()}

    def validate(self, module: nn.Module) -> dict[str, float]:
        """``"val"``: the mean negative ELBO (nats per image) of the validation images."""
        if self.xv.shape[0] == 0:
            return {"val": math.nan}
        return {"val": negative_elbo(module, self.xv)}

    def save_model(self, module: nn.Module, path: Path, extra: dict[str, Any]) -> None:
        """Write the VAE's model file (its registry spec and weights)."""

        atomic_save(model_file_payload(module.spec, module.state_dict(), extra=extra), path)
