"""Label-free training of grid operators with the strong-form residual (PINO-style).

The physics-only baselines of the DGNO benchmarks: a grid operator ``a -> u`` (an FNO as in
PINO, Li et al. 2021, or a DeepONet/MultiONet on sensors: "PI-DeepONet", "PI-MultiONet") is
trained on coefficient fields alone, with the loss

``mean_interior (r / f)^2``,  ``r = -div(a grad u) - f``

by finite differences on the data grid (:func:`sciml.physics.strong_form.fd_residual`, the
conservative stencil that suits piecewise-constant ``a``). The network's output is multiplied
by the :class:`~sciml.physics.mollifier.DirichletMollifier` on the grid (``u = 0`` on the walls
exactly) and by ``u_scale``; inputs are normalised with a Gaussian normaliser fitted on the
training fields. Validation uses the same label-free loss for model selection; solutions in the
validation data, if given, are only logged (``val_l2``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from sciml.grid import Grid
from sciml.operators.point.dgno_task import ConstantForcing, dgno_inputs
from sciml.physics.mollifier import DirichletMollifier
from sciml.physics.pdes.darcy import Darcy
from sciml.physics.strong_form import fd_residual
from sciml.train.checkpoint import model_spec, save_model
from sciml.train.losses import relative_l2
from sciml.train.normalizers import GaussianNormalizer
from sciml.train.task import Task, validation_split

if TYPE_CHECKING:
    from sciml.train.trainer import TrainConfig

__all__ = ["HardDirichletOperator", "FDPhysicsTask"]


class HardDirichletOperator(nn.Module):
    """``u = u_scale * m(x) * model(normalise(a))`` on ``a``'s grid, ``m`` a mollifier.

    Args:
        model: a grid operator ``[B, 1, *S] -> [B, 1, *S]``.
        x_norm: the input normaliser.
        u_scale: typical size of ``u``.
        mollifier: ``"sine"`` or ``"polynomial"`` (unit box).
    """

    def __init__(
        self,
        model: nn.Module,
        x_norm: GaussianNormalizer,
        u_scale: float = 0.1,
        mollifier: str = "sine",
    ) -> None:
        super().__init__()
        self.model, self.x_norm, self.u_scale = model, x_norm, float(u_scale)
        self.mollifier = DirichletMollifier(kind=mollifier)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        """``a: [B, 1, *S]`` (physical) -> ``u: [B, 1, *S]`` (zero on the walls)."""
        grid = Grid(tuple(a.shape[2:]))
        m = self.mollifier(grid.points(a.device, a.dtype)).reshape(1, 1, *grid.shape)
        return self.u_scale * m * self.model(self.x_norm.encode(a))


class FDPhysicsTask(Task):
    """Train a grid operator on ``-div(a grad u) = forcing`` with the FD residual, no labels.

    ``Trainer(model, config, task=FDPhysicsTask(forcing=10.0)).fit(train, val)`` with ``train``
    coefficient fields ``[N, 1, H, W]`` (or ``(a, u)`` pairs whose ``u`` is ignored). After
    training, ``trainer.module`` is the :class:`HardDirichletOperator` (physical units).
    """

    selection_metric = "val_residual"

    def __init__(self, *, forcing: float = 10.0, u_scale: float = 0.1, mollifier: str = "sine"):

        self.forcing, self.u_scale, self.mollifier = float(forcing), float(u_scale), mollifier
        self.pde = Darcy(forcing=ConstantForcing(self.forcing))

    def setup(
        self,
        model: nn.Module,
        train: torch.Tensor | Sequence[torch.Tensor],
        val: torch.Tensor | Sequence[torch.Tensor] | None,
        *,
        config: TrainConfig,
        device: torch.device,
    ) -> HardDirichletOperator:
        """Hold the coefficients ``a: [N, 1, H, W]`` on ``device`` (a seeded validation split
        when ``val`` is None); return ``model`` wrapped as a :class:`HardDirichletOperator`
        with a normaliser fitted on ``a``."""

        a, _ = dgno_inputs(train, "train")
        av, uv = dgno_inputs(val, "val")
        if val is None:
            keep, held = validation_split(a.shape[0], config)
            av, a = a[held], a[keep]
        self.config, self.device = config, device
        self.a, self.av, self.uv = a.to(device), av, uv
        x_norm = GaussianNormalizer(1).fit(a)
        return HardDirichletOperator(model, x_norm, self.u_scale, self.mollifier)

    def num_train(self) -> int:
        return self.a.shape[0]

    def _residual(self, net, a: torch.Tensor) -> torch.Tensor:
        u = net(a)
        grid = Grid(tuple(a.shape[2:]))
        r = fd_residual(self.pde, u, grid, coefficient=a) / self.forcing
        return r.square().flatten(1).mean(-1)

    def loss(self, net: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Sum over ``idx: [b]`` of the mean squared FD residual (scaled by the forcing)."""
        per = self._residual(net, self.a[idx])
        return per.sum(), {}

    @torch.no_grad()
    def validate(self, module: nn.Module) -> dict[str, float]:
        """``val_residual`` (selects) and, when the validation data carry solutions,
        ``val_l2``."""
        if self.av.shape[0] == 0:
            return {"val_residual": math.nan}
        was = module.training
        module.eval()
        bs = self.config.eval_batch_size
        res, preds = [], []
        for i in range(0, self.av.shape[0], bs):
            a = self.av[i : i + bs].to(self.device)
            res.append(self._residual(module, a).cpu())
            if self.uv is not None:
                preds.append(module(a).cpu())
        out = {"val_residual": float(torch.cat(res).mean())}
        if self.uv is not None:
            out["val_l2"] = float(relative_l2(torch.cat(preds), self.uv, reduction="none").mean())
        module.train(was)
        return out

    def save_model(self, module: HardDirichletOperator, path: Path, extra: dict[str, Any]) -> None:
        """Save the inner registry model with the normaliser and output settings in ``extra``
        (rebuild: ``HardDirichletOperator(model, x_norm, u_scale)``)."""

        if model_spec(module.model) is None:
            return
        extra = {
            **extra,
            "hard_dirichlet": {
                "u_scale": self.u_scale,
                "mollifier": self.mollifier,
                "x_mean": float(module.x_norm.mean.reshape(-1)[0]),
                "x_std": float(module.x_norm.std.reshape(-1)[0]),
                "forcing": self.forcing,
            },
        }
        save_model(path, module.model, extra=extra)
