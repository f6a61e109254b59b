"""Training latent traversals of a frozen VAE through the one Trainer."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch

from sciml.train.task import Task
from sciml.traversal.model import TraversalModel, save_traversal_model
from sciml.traversal.objective import TraversalObjective

if TYPE_CHECKING:
    from pathlib import Path

    from torch import nn

    from sciml.train.trainer import TrainConfig

__all__ = ["TraversalTask"]


class TraversalTask(Task):
    """Train a :class:`TraversalModel`'s traversal and reconstructor; the VAE stays frozen.

    ``Trainer(model, cfg, task=TraversalTask(objective)).fit(train_images, val_images)``: the
    items are the training images, encoded once (posterior means) to the starting codes ``z0``
    of the paths. The loss of an item is :class:`TraversalObjective`'s; ``val`` (lower is
    better) is the same objective on the validation codes with fixed random draws.

    Args:
        objective: the traversal objective (steps, PDE constraint, weights).
    """

    selection_metric = "val"

    def __init__(self, objective: TraversalObjective) -> None:
        if not isinstance(objective, TraversalObjective):
            raise TypeError(f"objective must be a TraversalObjective, got {type(objective)}")
        self.objective = objective

    @torch.no_grad()
    def _codes(self, vae, x: torch.Tensor, device) -> torch.Tensor:
        out = [vae.encode(x[i : i + 256].to(device))[0] for i in range(0, x.shape[0], 256)]
        return torch.cat(out) if out else torch.zeros(0, vae.latent, device=device)

    def setup(
        self, model: nn.Module, train: Any, val: Any, *, config: TrainConfig, device: torch.device
    ) -> TraversalModel:
        """Move ``model`` to ``device``, freeze its VAE in eval mode and encode the images
        ``train``/``val: [N, C, H, W]`` to their starting codes ``z0: [N, d]``; return it."""
        if not isinstance(model, TraversalModel) or model.reconstructor is None:
            raise TypeError("TraversalTask trains a TraversalModel with a reconstructor")
        for name, x in (("train", train), ("val", val)):
            if x is not None and (not isinstance(x, torch.Tensor) or x.ndim != 4):
                raise ValueError(f"{name} must be images [N, C, H, W], got {type(x).__name__}")
        model = model.to(device)
        model.vae.eval()
        self.z = self._codes(model.vae, train, device)
        self.zv = self._codes(model.vae, val, device) if val is not None else self.z[:0]
        return model

    def num_train(self) -> int:
        return self.z.shape[0]

    def loss(self, net: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        """Summed traversal objective over the codes ``z0[idx]``, ``idx: [b]``; logs its terms."""
        net.vae.eval()
        loss, terms = self.objective(net.traversal, net.generator, net.reconstructor, self.z[idx])
        return loss.sum(), {k: v.sum() for k, v in terms.items()}

    def validate(self, module: nn.Module) -> dict[str, float]:
        """``"val"``: the objective per validation code with fixed draws, plus its terms."""
        if self.zv.shape[0] == 0:
            return {"val": math.nan}
        g = torch.Generator().manual_seed(0)
        total, sums = 0.0, {}
        was = module.training
        module.eval()
        kk = module.traversal.num_directions
        for i in range(0, self.zv.shape[0], 256):
            zb = self.zv[i : i + 256]
            k = torch.randint(0, kk, (zb.shape[0],), generator=g).to(zb.device)  # every k
            loss, terms = self.objective(
                module.traversal, module.generator, module.reconstructor, zb, k=k, generator_rng=g
            )
            total += float(loss.detach().sum())
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + float(v.sum())
        module.train(was)
        n = self.zv.shape[0]
        return {"val": total / n, **{f"val_{k}": v / n for k, v in sums.items()}}

    def save_model(self, module: nn.Module, path: Path, extra: dict[str, Any]) -> None:
        """Write the traversal model file (with the objective's ``steps``)."""
        save_traversal_model(path, module, {"steps": self.objective.steps, **extra})
