"""Training DGNO without solutions: a :class:`~sciml.train.task.Task` for the one Trainer.

Per item (one coefficient field ``a``), with ``beta ~ q(beta | a)`` (reparameterised):

``loss = w_a NLL(a | beta) + w_kl KL(q || N(0, I)) / P
+ w_pde mean_c (r_c / f_scale)^2 + w_s mean_c |s - a grad u|^2_c / s_scale^2``

* ``NLL`` is the per-pixel mean negative log-likelihood of the coefficient decoder (Bernoulli
  or Gaussian), ``P`` the number of pixels (so the first two terms are the per-pixel ELBO of
  ``a``);
* ``r_c`` are local weak residuals (:class:`~sciml.physics.weak_form.WeakForm`) of the PDE at
  ``n_centres`` Latin-hypercube centres, drawn anew every step (shared by the batch, so the
  trunk networks run once per step); the coefficient in them is the *input* field read at the
  quadrature nodes (nearest grid point for two-phase media: their jumps stay sharp; multilinear
  for smooth media);
* the last term is the mixed form's constitutive residual (two-phase media only).

No solution ``u`` enters the loss. Validation computes the same loss (fixed centres, posterior
mean) on held-out *inputs*, and selects the saved model on it (``val_loss``); when the
validation data carry solutions, their relative L2 error is logged too (``val_l2``) but never
used for selection.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from sciml.operators.point.dgno import DGNO
from sciml.operators.point.field_encoder import gaussian_kl
from sciml.physics.pdes.darcy import Darcy
from sciml.physics.quadrature import ball_quadrature
from sciml.physics.test_functions import Wendland
from sciml.physics.weak_form import WeakForm, sample_field
from sciml.train.losses import relative_l2
from sciml.train.task import Task, check_finite, validation_split

if TYPE_CHECKING:
    from sciml.physics.pdes.darcy import Darcy
    from sciml.train.trainer import TrainConfig

__all__ = ["ConstantForcing", "DGNOTask", "DGNOLoss", "dgno_inputs", "physics_std"]


def dgno_inputs(
    data: torch.Tensor | Sequence[torch.Tensor] | None, name: str
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(a [N, 1, *S], u [N, 1, *S] or None)`` from a tensor of coefficients or an ``(a, u)``
    pair (the solutions are only used for the ``val_l2`` log)."""
    if data is None:
        return torch.zeros(0), None
    if isinstance(data, torch.Tensor):
        a, u = data, None
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        a, u = data
    else:
        raise TypeError(f"{name} must be a tensor a: [N, 1, H, W] or a pair (a, u)")
    if not isinstance(a, torch.Tensor) or a.ndim != 4 or a.shape[1] != 1:
        raise ValueError(f"{name} coefficients must have shape [N, 1, H, W], got {list(a.shape)}")
    check_finite(a, f"{name} coefficients")
    if (a <= 0).any():
        raise ValueError(f"{name} coefficients must be positive")
    if u is not None and tuple(u.shape) != tuple(a.shape):
        raise ValueError(f"{name} solutions must have shape {list(a.shape)}, got {list(u.shape)}")
    return a.float(), None if u is None else u.float()


class ConstantForcing:
    """``f(x) = value`` as a point function ``[N, d] -> [N]`` (picklable, printable)."""

    def __init__(self, value: float) -> None:
        self.value = float(value)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full(x.shape[:1], self.value, dtype=x.dtype, device=x.device)

    def __repr__(self) -> str:
        return f"{self.value:g}"


@dataclass
class DGNOLoss:
    """The weak-form physics and the loss weights of :class:`DGNOTask` (plain numbers, so the
    settings travel in the saved model file: :meth:`to_dict` / :meth:`from_dict`).

    Args:
        forcing: the constant right-hand side ``f`` of ``-div(a grad u) = f`` (the PDE is a
            :class:`~sciml.physics.pdes.darcy.Darcy` whose coefficient comes from the data).
        radius: test-function radius ``R``.
        n_centres: centres per training step.
        quadrature_n, quadrature_angles: the polar rule (radii, angles) on each ball.
        smoothness: Wendland smoothness ``k`` (1: ``C^2``; with 4 radii the rule is exact for
            linear fluxes).
        kl_weight, coefficient_weight, pde_weight, constitutive_weight: the ``w`` of the loss.
        lookup: how the input coefficient is read at the quadrature nodes (``"nearest"``,
            ``"linear"``; default by medium).
        val_centres: centres of the (fixed) validation residual.
    """

    forcing: float = 10.0
    radius: float = 0.02
    n_centres: int = 64
    quadrature_n: int = 4
    quadrature_angles: int = 6
    smoothness: int = 1
    kl_weight: float = 0.1
    coefficient_weight: float = 1.0
    pde_weight: float = 1.0
    constitutive_weight: float = 1.0
    lookup: str | None = None
    val_centres: int = 128

    def __post_init__(self) -> None:
        if not (isinstance(self.radius, (int, float)) and 0 < self.radius < 0.5):
            raise ValueError(f"radius must be in (0, 0.5), got {self.radius!r}")
        for name in ("n_centres", "quadrature_n", "quadrature_angles", "val_centres"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if self.lookup not in (None, "nearest", "linear"):
            raise ValueError(f"lookup must be 'nearest', 'linear' or None, got {self.lookup!r}")

    @property
    def pde(self) -> Darcy:
        """The :class:`~sciml.physics.pdes.darcy.Darcy` PDE ``-div(a grad u) = f`` with the constant
        forcing ``f = self.forcing`` (the coefficient comes from the data)."""

        return Darcy(forcing=ConstantForcing(self.forcing))

    def weak_form(self) -> WeakForm:
        q = ball_quadrature(2, self.quadrature_n, n_angular=self.quadrature_angles)
        return WeakForm(self.pde, self.radius, Wendland(2, self.smoothness), q)

    def forcing_scale(self) -> float:
        return max(abs(self.forcing), 1e-12)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> DGNOLoss:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown DGNOLoss field(s) {sorted(unknown)}")
        return cls(**d)


def dgno_loss_terms(
    model: nn.Module,
    a: torch.Tensor,
    centres: torch.Tensor,
    weak: WeakForm,
    spec: DGNOLoss,
    *,
    sample: bool = True,
) -> dict[str, torch.Tensor]:
    """Per-item loss terms ``[B]`` of DGNO on coefficients ``a: [B, 1, *S]`` at shared
    ``centres: [M, 2]``: ``coefficient``, ``kl``, ``pde``, ``constitutive``, ``total``."""
    grid = model.grid.with_shape(a.shape[2:])
    mu, logvar = model.encode(a)
    beta = model.sample(mu, logvar) if sample else mu
    nll = model.coefficient_nll(beta, a)
    kl = gaussian_kl(mu, logvar) / grid.size
    b = a.shape[0]
    nodes = weak.nodes(centres)  # [M, Q, 2]
    m, q = nodes.shape[:2]
    out = model.decode_solution(beta, nodes.reshape(-1, 2), gradient=True)
    grad_u = out["grad_u"].reshape(b, m, q, 2)
    lookup = spec.lookup or ("nearest" if model.medium == "two-phase" else "linear")
    coef = sample_field(a, grid, nodes.reshape(1, -1, 2).expand(b, -1, -1), method=lookup)
    coef = coef.reshape(b, m, q)
    cb = centres.expand(b, m, 2)
    f_scale = spec.forcing_scale()
    if model.mixed:
        flux = out["flux"].reshape(b, m, q, 2)
        eq, const = weak.mixed(cb, flux, grad_u, coefficient=coef)
        const = const.mean(-1) / model.flux_scale**2
    else:
        eq = weak.primal(cb, grad_u, coefficient=coef)
        const = torch.zeros_like(nll)
    pde = (eq / f_scale).square().mean(-1)
    total = (
        spec.coefficient_weight * nll
        + spec.kl_weight * kl
        + spec.pde_weight * pde
        + spec.constitutive_weight * const
    )
    return {"total": total, "coefficient": nll, "kl": kl, "pde": pde, "constitutive": const}


class DGNOTask(Task):
    """Label-free training of :class:`~sciml.operators.point.dgno.DGNO` (see the module docstring).

    ``Trainer(model, config, task=DGNOTask(loss)).fit(train, val)`` with ``train`` the
    coefficient fields ``[N, 1, H, W]`` (or ``(a, u)`` pairs, whose ``u`` is ignored) and
    ``val`` likewise (its ``u``, if given, is only logged). Without ``val`` a split of
    ``config.val_fraction`` is held out of ``train``.
    """

    selection_metric = "val_loss"

    def __init__(self, loss: DGNOLoss) -> None:
        if not isinstance(loss, DGNOLoss):
            raise TypeError(f"loss must be a DGNOLoss, got {type(loss).__name__}")
        self.spec = loss
        self.weak = loss.weak_form()

    def setup(
        self,
        model: nn.Module,
        train: torch.Tensor | Sequence[torch.Tensor],
        val: torch.Tensor | Sequence[torch.Tensor] | None,
        *,
        config: TrainConfig,
        device: torch.device,
    ) -> nn.Module:
        """Hold the coefficients ``a: [N, 1, H, W]`` (``train``: ``a`` or ``(a, u)``) on
        ``device``; carve a seeded validation split when ``val`` is None; return ``model``
        (a :class:`~sciml.operators.point.dgno.DGNO`)."""

        if not isinstance(model, DGNO):
            raise TypeError(f"DGNOTask trains a DGNO model, got {type(model).__name__}")
        a, u = dgno_inputs(train, "train")
        av, uv = dgno_inputs(val, "val")
        if val is None:  # held out of train; its solutions (if any) are only logged
            keep, held = validation_split(a.shape[0], config)
            av, a = a[held], a[keep]
            uv = None if u is None or held.numel() == 0 else u[held]
        if a.shape[0] == 0:
            raise ValueError("train holds no coefficient fields")
        self.config, self.device = config, device
        self.a = a.to(device)
        self.av, self.uv = av, uv
        g = torch.Generator().manual_seed(config.seed + 777)
        self.val_centres = self.weak.sample_centres(self.spec.val_centres, generator=g)
        return model

    def num_train(self) -> int:
        return self.a.shape[0]

    def loss(
        self, net: nn.Module, idx: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Summed DGNO loss of the items ``idx: [b]`` at fresh centres, and its terms."""
        centres = self.weak.sample_centres(
            self.spec.n_centres, device=self.device, dtype=self.a.dtype
        )
        terms = dgno_loss_terms(net, self.a[idx], centres, self.weak, self.spec)
        logs = {k: v.detach().sum() for k, v in terms.items() if k != "total"}
        return terms["total"].sum(), logs

    @torch.no_grad()
    def _val_terms(self, module) -> dict[str, float]:
        sums: dict[str, float] = {}
        n = self.av.shape[0]
        centres = self.val_centres.to(self.device)
        bs = self.config.eval_batch_size
        for i in range(0, n, bs):  # forward-mode coordinate gradients: no autograd graph
            a = self.av[i : i + bs].to(self.device)
            terms = dgno_loss_terms(module, a, centres, self.weak, self.spec, sample=False)
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + float(v.sum())
        return {k: v / n for k, v in sums.items()}

    def validate(self, module: nn.Module) -> dict[str, float]:
        """``val_loss`` (selects), ``val_pde``, ``val_physics`` and, with solutions,
        ``val_l2`` on the held-out coefficients (fixed centres, posterior mean)."""
        if self.av.shape[0] == 0:
            return {"val_loss": math.nan}
        was = module.training
        module.eval()
        terms = self._val_terms(module)
        physics = self.spec.pde_weight * terms["pde"]
        physics += self.spec.constitutive_weight * terms["constitutive"]
        out = {"val_loss": terms["total"], "val_pde": terms["pde"], "val_physics": physics}
        if self.uv is not None:
            with torch.no_grad():
                preds = [
                    module(self.av[i : i + 50].to(self.device)).cpu()
                    for i in range(0, self.av.shape[0], 50)
                ]
            out["val_l2"] = float(relative_l2(torch.cat(preds), self.uv, reduction="none").mean())
        module.train(was)
        self._last_val = out
        return out

    def save_model(self, module: nn.Module, path: Path, extra: dict[str, Any]) -> None:
        """The registry-spec model file, with the loss settings and the validation physics
        level (what :func:`sciml.inverse.latent_inversion.invert_dgno` needs)."""
        val = getattr(self, "_last_val", {})
        extra = {
            **extra,
            "dgno_loss": self.spec.to_dict(),
            "val_physics": val.get("val_physics", math.nan),
        }
        super().save_model(module, path, extra)


def physics_std(extra: dict) -> float:
    """``sqrt(val_physics)`` from a saved DGNO model's ``extra`` (the physics tolerance of
    its inversions); ``ValueError`` when the file has none."""
    v = extra.get("val_physics") if isinstance(extra, dict) else None
    if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise ValueError(
            "the model file has no validation physics level ('val_physics'); train it with DGNOTask"
        )
    return math.sqrt(v)
