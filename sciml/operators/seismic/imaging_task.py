"""Training task for seismic imaging models (velocity <-> shot gathers) in the one Trainer.

:class:`SeismicImagingTask` trains any model with a ``directions`` attribute and
``forward(x, direction)`` (:class:`~sciml.operators.seismic.latent_unet.LatentUNet`,
:class:`~sciml.operators.seismic.xnet.InvertibleXNet`, :class:`~sciml.operators.seismic.inversionnet.InversionNet`,
:class:`~sciml.operators.seismic.fno.SeismicFNO`) on pairs ``(velocity [N, 1, nz, nx] m/s,
seismic [N, S, nt, R])``, in the published normalisations
(:class:`~sciml.operators.seismic.normalization.SeismicNormalization`).

Loss per item and direction (GFI, with SSIM in place of the VGG perceptual term, which needs
downloaded ImageNet weights):

    L_dir = w_dir * ( |pred - y|_1 + |pred - y|_2^2 + w_ssim * (1 - SSIM(pred/2+.5, y/2+.5)) )

(pixel means). With ``cycle_weight > 0`` (models serving both directions) the cycle terms
``L(inverse(forward(v)), v) + L(forward(inverse(p)), p)`` (L1 + L2) join, ramped up linearly over
``cycle_warmup`` epochs. ``unpaired_fraction`` makes the run semi-supervised: a seeded fraction
of the training items loses its pairing -- their velocity and seismic data enter the cycle
terms only. Validation: the MAE (normalised scale) of each trained direction; their sum,
``"val"``, selects ``model.pt``. The model file stores the normalisation in its ``extra``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from sciml.io import FileFormatError
from sciml.operators.model_file import load_operator
from sciml.operators.seismic.normalization import SeismicNormalization, imaging_metrics
from sciml.train.data import as_tensors
from sciml.train.ssim import ssim
from sciml.train.task import Task, check_finite, use_bf16, validation_split

if TYPE_CHECKING:
    from pathlib import Path

    from sciml.train.trainer import TrainConfig

__all__ = ["SeismicImagingTask", "pairs", "load_imaging_model"]

_DIRS = ("forward", "inverse")


def pairs(data: Any, name: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """``(velocity [N, 1, nz, nx], seismic [N, S, nt, R])`` float32 from a pair of tensors, a
    dict with ``"velocity"`` and ``"seismic"``, or a seismic data-set file's
    :class:`~sciml.datasets.GridDataset` (inputs = velocity, outputs = gathers)."""
    if isinstance(data, dict):
        if not {"velocity", "seismic"} <= set(data):
            raise ValueError(f"{name} must hold 'velocity' and 'seismic', got {sorted(data)}")
        data = (torch.as_tensor(data["velocity"]), torch.as_tensor(data["seismic"]))
    v, p = as_tensors(data, name)
    if v.ndim != 4 or v.shape[1] != 1 or p.ndim != 4:
        raise ValueError(
            f"{name} must be velocity [N, 1, nz, nx] and seismic [N, S, nt, R], got "
            f"{list(v.shape)} and {list(p.shape)}"
        )
    return v, p


class SeismicImagingTask(Task):
    """See the module docstring.

    Args:
        normalization: fixed normalisation; default: velocity ``[1500, 4500]`` m/s and the
            seismic mean/std of the training split.
        directions: the supervised directions (default: all the model serves).
        forward_weight, inverse_weight: ``w_dir`` (GFI's X-Net: 10 and 1).
        ssim_weight: ``w_ssim``.
        cycle_weight: weight of the cycle-consistency terms (0: off).
        cycle_warmup: epochs of linear ramp-up of the cycle weight.
        unpaired_fraction: fraction of training items used unpaired (cycle terms only).
        seed: seeds the choice of unpaired items (a validation set carved from ``train`` uses
            :func:`sciml.train.task.validation_split`, seeded by the config, as every task).
    """

    selection_metric = "val"

    def __init__(
        self,
        *,
        normalization: SeismicNormalization | None = None,
        directions: tuple[str, ...] | None = None,
        forward_weight: float = 1.0,
        inverse_weight: float = 1.0,
        ssim_weight: float = 0.1,
        cycle_weight: float = 0.0,
        cycle_warmup: int = 0,
        unpaired_fraction: float = 0.0,
        seed: int = 0,
        time_stride: int = 1,
    ) -> None:
        if not isinstance(time_stride, int) or time_stride < 1:
            raise ValueError(f"time_stride must be an int >= 1, got {time_stride!r}")
        if directions is not None and (not directions or set(directions) - set(_DIRS)):
            raise ValueError(f"directions must be a subset of {_DIRS}, got {directions!r}")
        for name, w in (("forward_weight", forward_weight), ("inverse_weight", inverse_weight),
                        ("ssim_weight", ssim_weight), ("cycle_weight", cycle_weight)):  # fmt: skip
            if not (isinstance(w, (int, float)) and w >= 0):
                raise ValueError(f"{name} must be a number >= 0, got {w!r}")
        if not 0 <= unpaired_fraction < 1:
            raise ValueError(f"unpaired_fraction must be in [0, 1), got {unpaired_fraction!r}")
        if not isinstance(cycle_warmup, int) or cycle_warmup < 0:
            raise ValueError(f"cycle_warmup must be an int >= 0, got {cycle_warmup!r}")
        self.normalization = normalization
        self.requested = tuple(directions) if directions is not None else None
        self.weights = {"forward": float(forward_weight), "inverse": float(inverse_weight)}
        self.ssim_weight = float(ssim_weight)
        self.cycle_weight = float(cycle_weight)
        self.cycle_warmup = cycle_warmup
        self.unpaired_fraction = float(unpaired_fraction)
        self.seed = seed
        self.time_stride = time_stride
        self.epoch = 0

    # ------------------------------------------------------------------ setup
    def setup(
        self, model: nn.Module, train: Any, val: Any, *, config: TrainConfig, device: torch.device
    ) -> nn.Module:
        """Hold normalised ``(velocity [N, 1, nz, nx], seismic [N, S, nt, R])`` pairs on ``device``
        (a seeded validation split when ``val`` is None), mark the unpaired items; return
        ``model`` itself."""
        served = tuple(getattr(model, "directions", ()))
        if not served or set(served) - set(_DIRS):
            raise ValueError(f"model must declare directions (a subset of {_DIRS}), got {served!r}")
        self.directions = self.requested or served
        if set(self.directions) - set(served):
            raise ValueError(f"the model serves {served}, not {self.directions}")
        if self.cycle_weight > 0 and set(served) != set(_DIRS):
            raise ValueError("cycle_weight > 0 needs a model serving both directions")
        if self.unpaired_fraction > 0 and self.cycle_weight == 0:
            raise ValueError("unpaired_fraction > 0 needs cycle_weight > 0 (unpaired items "
                             "enter the cycle terms only)")  # fmt: skip
        self.config, self.device = config, device
        v, p = pairs(train, "train")
        if self.time_stride > 1:  # every k-th time sample (15 Hz data hold nothing above ~50 Hz)
            p = p[:, :, :: self.time_stride].contiguous()
            val = (
                None
                if val is None
                else (pairs(val, "val")[0], pairs(val, "val")[1][:, :, :: self.time_stride])
            )
        if val is None:  # the one seeded carve every task uses (config.seed, val_fraction)
            ti, vi = validation_split(v.shape[0], config)
            vv, pv = v[vi], p[vi]
            v, p = v[ti], p[ti]
        else:
            vv, pv = pairs(val, "val")
        for t, name in ((v, "training velocity"), (p, "training seismic data"),
                        (vv, "validation velocity"), (pv, "validation seismic data")):  # fmt: skip
            check_finite(t, name)
        if self.normalization is None:
            self.normalization = SeismicNormalization.fit(p)
        nrm = self.normalization
        self.v, self.p = nrm.velocity(v).to(device), nrm.seismic(p).to(device)
        self.vv, self.pv = nrm.velocity(vv), nrm.seismic(pv)
        g = torch.Generator().manual_seed(self.seed + 999)
        n = self.v.shape[0]
        paired = torch.ones(n, dtype=torch.bool)
        n_unpaired = int(round(self.unpaired_fraction * n))
        paired[torch.randperm(n, generator=g)[:n_unpaired]] = False
        self.paired = paired.to(device)
        return model

    def num_train(self) -> int:
        return self.v.shape[0]

    # ------------------------------------------------------------------ loss
    def _item_loss(self, pred: torch.Tensor, target: torch.Tensor, use_ssim: bool) -> torch.Tensor:
        err = (pred.float() - target).flatten(1)
        loss = err.abs().mean(1) + err.square().mean(1)
        if use_ssim and self.ssim_weight > 0:
            s = ssim(pred.float() / 2 + 0.5, target / 2 + 0.5, reduction="none")
            loss = loss + self.ssim_weight * (1 - s)
        return loss  # [b]

    def cycle_factor(self) -> float:
        """The cycle weight in the current epoch (linear warm-up)."""
        if self.cycle_warmup == 0:
            return self.cycle_weight
        return self.cycle_weight * min(1.0, (self.epoch + 1) / self.cycle_warmup)

    def loss(self, net: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        """Summed MAE + MSE (+ SSIM) of each served direction over items ``idx: [b]``, plus the
        cycle terms when the cycle weight is on; logs per-direction sums."""
        v, p, paired = self.v[idx], self.p[idx], self.paired[idx].float()
        total = torch.zeros(idx.numel(), device=v.device)
        logs: dict[str, torch.Tensor] = {}
        cycle = self.cycle_factor()
        amp = use_bf16(self.config, self.device)
        inputs = {"forward": v, "inverse": p}
        targets = {"forward": p, "inverse": v}
        preds = {}
        for d in _DIRS:
            if d in self.directions or cycle > 0:
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=amp):
                    preds[d] = net(inputs[d], direction=d)
            if d in self.directions:
                item = self._item_loss(preds[d], targets[d], True) * paired
                total = total + self.weights[d] * item
                logs[f"loss_{d}"] = item.detach().sum()
        if cycle > 0:
            back = {"forward": "inverse", "inverse": "forward"}
            for d in _DIRS:  # d's prediction fed back through the other direction
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=amp):
                    rec = net(preds[d], direction=back[d])
                item = self._item_loss(rec, inputs[d], False)
                total = total + cycle * item
                logs[f"cycle_{d}"] = item.detach().sum()
        return total.sum(), logs

    def end_epoch(self, module, epoch: int) -> None:
        self.epoch = epoch

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch = int(state.get("epoch", 0))

    # ------------------------------------------------------------------ validation
    @torch.no_grad()
    def predict(self, module: nn.Module, x: torch.Tensor, direction: str) -> torch.Tensor:
        """Normalised predictions for normalised inputs ``x`` in batches (on CPU)."""
        was_training = module.training
        module.eval()
        bs = self.config.eval_batch_size
        amp = use_bf16(self.config, self.device)
        out = []
        for i in range(0, x.shape[0], bs):
            xb = x[i : i + bs].to(self.device)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=amp):
                out.append(module(xb, direction=direction).float().cpu())
        module.train(was_training)
        return torch.cat(out)

    def validate(self, module: nn.Module) -> dict[str, float]:
        """Validation MAE and SSIM per direction; ``"val"`` is the sum of the MAEs."""
        if self.vv.shape[0] == 0:
            return {"val": math.nan}
        res, total = {}, 0.0
        inputs = {"forward": self.vv, "inverse": self.pv}
        targets = {"forward": self.pv, "inverse": self.vv}
        for d in self.directions:
            m = imaging_metrics(self.predict(module, inputs[d], d), targets[d])
            res[f"val_{d}_mae"], res[f"val_{d}_ssim"] = m["mae"], m["ssim"]
            total += m["mae"]
        res["val"] = total
        return res

    def save_model(self, module: nn.Module, path: Path, extra: dict[str, Any]) -> None:
        """The model file with the normalisation and the served directions in its extras."""
        extra = {
            "normalization": self.normalization.to_dict(),
            "directions": list(self.directions),
            **extra,
        }
        super().save_model(module, path, extra)


def load_imaging_model(
    path, map_location: str | torch.device = "cpu"
) -> tuple[nn.Module, SeismicNormalization, tuple[str, ...]]:
    """A model file written by :class:`SeismicImagingTask` (``model.pt``): ``(model in eval
    mode, its normalisation, its trained directions)``. Reads with ``weights_only=True``;
    a file without the seismic fields is refused with an error naming the file and field."""

    model, extra = load_operator(path, map_location)
    if not isinstance(extra.get("normalization"), dict):
        raise FileFormatError(
            f"model file {str(path)!r}: field 'extra.normalization' is missing (not a seismic "
            "imaging model trained by SeismicImagingTask)"
        )
    try:
        norm = SeismicNormalization.from_dict(extra["normalization"])
    except (TypeError, ValueError) as exc:
        raise FileFormatError(
            f"model file {str(path)!r}: field 'extra.normalization': {exc}"
        ) from None
    dirs = tuple(extra.get("directions") or getattr(model, "directions", ()))
    if not dirs or set(dirs) - set(_DIRS):
        raise FileFormatError(f"model file {str(path)!r}: field 'extra.directions' is invalid")
    return model, norm, dirs
