"""Scoring a trained seismic imaging model: predictions in the published normalisations and
GFI's metrics (MAE / RMSE / SSIM) per direction, on physical-unit test pairs."""

from __future__ import annotations

import torch
from torch import nn

from sciml.operators.seismic.normalization import SeismicNormalization, imaging_metrics

__all__ = ["imaging_scores", "predict_imaging", "time_stride"]


def time_stride(model: nn.Module, nt: int) -> int:
    """How many data samples per model time sample (models may train on decimated gathers)."""
    enc = getattr(model, "seis_encoder", None)
    model_nt = getattr(enc, "nt", None) or getattr(model, "nt", None)
    if model_nt is None or nt % model_nt:
        raise ValueError(
            f"the model reads {model_nt} time samples; the data have {nt} (not a multiple)"
        )
    return nt // model_nt


@torch.no_grad()
def predict_imaging(
    model: nn.Module,
    norm: SeismicNormalization,
    x: torch.Tensor,
    direction: str,
    *,
    device: torch.device | str = "cpu",
    batch: int = 16,
) -> torch.Tensor:
    """Physical-unit input ``x`` (velocity [N, 1, nz, nx] for ``"forward"``, gathers
    [N, S, nt, R] for ``"inverse"``) -> the model's normalised prediction (CPU, float32)."""
    model = model.to(device).eval()
    xin = norm.velocity(x) if direction == "forward" else norm.seismic(x)
    out = [
        model(xin[i : i + batch].to(device), direction=direction).float().cpu()
        for i in range(0, x.shape[0], batch)
    ]
    return torch.cat(out)


def imaging_scores(
    model: nn.Module,
    norm: SeismicNormalization,
    directions: tuple[str, ...],
    velocity: torch.Tensor,
    seismic: torch.Tensor,
    *,
    device: torch.device | str = "cpu",
) -> dict[str, float]:
    """``{"<direction>_mae", "_rmse", "_ssim"}`` of every served direction on the pairs
    ``(velocity [N, 1, nz, nx] m/s, seismic [N, S, nt, R])``, in the normalised units of the
    GFI tables (velocity min-max to [-1, 1], seismic z-score). Gathers at a higher time rate
    than the model reads are decimated to its rate first."""
    seismic = seismic[:, :, :: time_stride(model, seismic.shape[2])]
    out = {}
    for d in directions:
        pred = predict_imaging(
            model, norm, velocity if d == "forward" else seismic, d, device=device
        )
        target = norm.seismic(seismic) if d == "forward" else norm.velocity(velocity)
        out.update({f"{d}_{k}": v for k, v in imaging_metrics(pred, target.float()).items()})
    return out
