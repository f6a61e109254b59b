"""Network estimate, then physics: a seismic imaging model's velocity refined by FWI.

:func:`refine_with_fwi` takes a trained inverse model (its file from
:class:`~sciml.operators.seismic.imaging_task.SeismicImagingTask`), observed gathers and the
acquisition, predicts the velocity, and runs :func:`~sciml.inverse.fwi.fwi` from that estimate
(and, for comparison, from a network-free linear-in-depth start). With the true velocity at
hand it reports MAE and SSIM (published normalisation) before and after, the data misfits and
the cost. :func:`acquisition_from_meta` rebuilds the grid, survey and propagator settings of a
``seismic-<family>`` data-set file, so FWI uses exactly the scheme that made the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from sciml.grid import Grid
from sciml.inverse.fwi import fwi, linear_start
from sciml.operators.seismic.evaluation import time_stride
from sciml.operators.seismic.normalization import SeismicNormalization, imaging_metrics
from sciml.physics.seismic import Survey
from sciml.physics.seismic.velocity_models import openfwi_grid

__all__ = ["RefinementResult", "acquisition_from_meta", "refine_with_fwi", "time_stride"]

_KEYS = ("resolution", "spacing", "n_sources", "nt", "dt", "freq", "peak_time", "order", "nbc",
         "convention", "v_min", "v_max")  # fmt: skip


@dataclass
class RefinementResult:
    """Velocities ``[B, 1, nz, nx]`` (m/s) and a report (floats, lists; JSON-ready)."""

    network: torch.Tensor
    refined: torch.Tensor
    linear: torch.Tensor | None = None
    report: dict = field(default_factory=dict)


def acquisition_from_meta(meta: dict, *, path: str = "data file") -> tuple[Grid, Survey, dict]:
    """``(grid, survey, propagator kwargs)`` of a ``seismic-<family>`` data set's metadata."""

    params = meta.get("params")
    if not isinstance(params, dict) or any(k not in params for k in _KEYS):
        raise ValueError(
            f"{path}: recipe {meta.get('recipe')!r} is not an OpenFWI-scheme seismic recipe "
            f"(field 'params' lacks {[k for k in _KEYS if k not in (params or {})]}); generate "
            "the data with a seismic-<family> recipe, e.g. seismic-curvevel-b"
        )
    grid = openfwi_grid(int(params["resolution"]), float(params["spacing"]))
    survey = Survey.openfwi(
        grid, n_sources=int(params["n_sources"]), nt=int(params["nt"]), dt=float(params["dt"]),
        freq=float(params["freq"]), max_vel=float(params["v_max"]),
        peak_time=float(params["peak_time"]),
    )  # fmt: skip
    kw = dict(order=int(params["order"]), nbc=int(params["nbc"]),
              convention=str(params["convention"]),
              bounds=(float(params["v_min"]), float(params["v_max"])))  # fmt: skip
    return grid, survey, kw


@torch.no_grad()
def _predict_velocity(model, norm, observed, stride, device, batch: int = 16):
    model = model.to(device).eval()
    q = norm.seismic(observed[:, :, ::stride])
    out = [model(q[i : i + batch].to(device), direction="inverse").float().cpu()
           for i in range(0, q.shape[0], batch)]  # fmt: skip
    return norm.velocity_from(torch.cat(out))


def refine_with_fwi(
    model: nn.Module,
    normalization: SeismicNormalization,
    observed: torch.Tensor,
    grid: Grid,
    survey: Survey,
    *,
    true_velocity: torch.Tensor | None = None,
    iterations: int = 10,
    lr: float = 20.0,
    linear: bool = True,
    device: str | torch.device = "cpu",
    **propagator,
) -> RefinementResult:
    """Network estimate of ``observed: [B, S, nt, R]``, refined by ``iterations`` FWI steps.

    ``propagator``: ``order``, ``nbc``, ``convention``, ``bounds`` (see
    :func:`~sciml.inverse.fwi.fwi`; :func:`acquisition_from_meta` gives them for a data file).
    ``linear=True`` also runs FWI from a linear-in-depth start (from the network estimate's
    mean top-row to mean bottom-row velocity) for comparison.
    """
    if "inverse" not in getattr(model, "directions", ()):
        raise ValueError("model must serve the inverse direction (seismic -> velocity)")
    bounds = propagator.get("bounds", (normalization.v_min, normalization.v_max))
    stride = time_stride(model, observed.shape[2])
    v_net = _predict_velocity(model, normalization, observed, stride, device).clamp(*bounds)
    starts = {"network": v_net}
    if linear:
        starts["linear"] = linear_start(
            tuple(v_net.shape), v_net[:, 0, 0].mean(1), v_net[:, 0, -1].mean(1)
        )
    report: dict = {"samples": observed.shape[0], "iterations": iterations, "lr": lr}
    final = {}
    for label, start in starts.items():
        res = fwi(observed.to(device), grid, survey, start.to(device), iterations=iterations,
                  lr=lr, **propagator)  # fmt: skip
        final[label] = res.velocity.cpu()
        entry = {"misfit": res.misfit, "seconds": res.seconds}
        if true_velocity is not None:
            t = normalization.velocity(true_velocity)
            before = imaging_metrics(normalization.velocity(start), t)
            after = imaging_metrics(normalization.velocity(final[label]), t)
            entry.update(mae_before=before["mae"], mae_after=after["mae"],
                         ssim_before=before["ssim"], ssim_after=after["ssim"])  # fmt: skip
        report[label] = entry
    return RefinementResult(v_net, final["network"], final.get("linear"), report)
