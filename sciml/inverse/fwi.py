"""Full-waveform inversion (FWI) through the torch OpenFWI propagator, to refine a network's
velocity estimate with the physics.

Given observed shot gathers ``d_obs: [B, S, nt, R]``, FWI minimises the normalised data misfit

    J(v) = sum_b ||F(v_b) - d_obs_b||^2 / ||d_obs_b||^2

over the velocity ``v: [B, 1, nz, nx]``, where ``F`` is
:func:`sciml.physics.seismic.acoustic_fd.simulate_fd` (the scheme the data were made with) and the
gradient comes from autograd through the time stepping (checkpointed, so memory stays small).
The optimiser is Adam on the velocity in m/s (``lr`` is roughly the first step in m/s, the same
for every cell, which sidesteps the gradient's huge dynamic range between the shallow cells
beside the sources and the deep ones), with the velocity clipped to ``bounds`` after each step.
FWI needs a starting model that predicts the arrivals to within half a period (else it
"cycle-skips" into a wrong local minimum); a trained inverse network
(:class:`~sciml.operators.seismic.latent_unet.LatentUNet`, ...) provides one, and a few iterations then
correct what the network got wrong. :func:`linear_start` is the network-free fallback (a
1-D velocity increasing linearly with depth).

>>> import torch
>>> from sciml.physics.seismic import Survey
>>> from sciml.physics.seismic.velocity_models import openfwi_grid
>>> grid = openfwi_grid(24)
>>> survey = Survey.openfwi(grid, nt=300, n_sources=2)
>>> true = torch.full((1, 1, 24, 24), 2000.0); true[..., 10:, :] = 2500.0
>>> from sciml.physics.seismic.acoustic_fd import simulate_fd
>>> kw = dict(nbc=20, compile=False, convention="openfwi")
>>> obs = simulate_fd(true, grid, survey, **kw)
>>> res = fwi(obs, grid, survey, torch.full_like(true, 2000.0), iterations=3, lr=20.0, **kw)
>>> bool(res.misfit[-1] < 0.5 * res.misfit[0])
True
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from sciml.grid import Grid
from sciml.physics.seismic import Survey
from sciml.physics.seismic.acoustic_fd import simulate_fd

__all__ = ["FWIResult", "fwi", "data_misfit", "linear_start"]


@dataclass
class FWIResult:
    """Outcome of :func:`fwi`.

    Attributes:
        velocity: ``[B, 1, nz, nx]`` the final model (m/s).
        misfit: ``[iterations + 1]`` mean normalised misfit before each step and at the end.
        misfit_per_sample: ``[B]`` the final normalised misfit of each sample.
        seconds: wall-clock time of the iterations.
        history: optional per-iteration records (from ``callback``).
    """

    velocity: torch.Tensor
    misfit: list[float]
    misfit_per_sample: torch.Tensor
    seconds: float
    history: list = field(default_factory=list)


def data_misfit(pred: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
    """``[B]`` normalised squared misfits ``||pred - obs||^2 / ||obs||^2`` of ``[B, S, nt, R]``."""
    if pred.shape != observed.shape:
        raise ValueError(f"pred and observed must have one shape, got {list(pred.shape)}, "
                         f"{list(observed.shape)}")  # fmt: skip
    num = (pred - observed).square().flatten(1).sum(1)
    return num / observed.square().flatten(1).sum(1).clamp_min(1e-30)


def linear_start(
    shape: tuple[int, ...], v_top: float | torch.Tensor, v_bottom: float | torch.Tensor
) -> torch.Tensor:
    """A 1-D starting model ``[B, 1, nz, nx]`` growing linearly with depth from ``v_top`` to
    ``v_bottom`` (floats, or ``[B]`` tensors for one ramp per sample)."""
    if len(shape) != 4 or shape[1] != 1:
        raise ValueError(f"shape must be [B, 1, nz, nx], got {list(shape)}")
    b, _, nz, nx = shape
    top = torch.as_tensor(v_top, dtype=torch.float32).reshape(-1, 1, 1, 1).expand(b, 1, 1, 1)
    bot = torch.as_tensor(v_bottom, dtype=torch.float32).reshape(-1, 1, 1, 1).expand(b, 1, 1, 1)
    s = torch.linspace(0, 1, nz).reshape(1, 1, nz, 1)
    return (top + (bot - top) * s).expand(b, 1, nz, nx).contiguous()


def fwi(
    observed: torch.Tensor,
    grid: Grid,
    survey: Survey,
    initial: torch.Tensor,
    *,
    iterations: int = 10,
    lr: float = 20.0,
    bounds: tuple[float, float] = (1500.0, 4500.0),
    order: int = 8,
    nbc: int = 120,
    convention: str = "openfwi",
    damping_velocity: float | None = None,
    compile: bool | None = None,
    batch: int | None = None,
    callback: Callable[[int, torch.Tensor, torch.Tensor], None] | None = None,
) -> FWIResult:
    """Refine ``initial`` by ``iterations`` Adam steps on the data misfit (module docstring).

    Args:
        observed: ``[B, S, nt, R]`` shot gathers (the survey's convention).
        grid, survey: the acquisition; the propagator settings (``order``, ``nbc``,
            ``convention``) must be those the data were made with.
        initial: ``[B, 1, nz, nx]`` starting velocity (m/s), e.g. a network's estimate.
        iterations: optimisation steps; lr: Adam step size (m/s).
        bounds: velocities are clipped to this range after each step.
        damping_velocity: the absorbing layer's reference velocity, held fixed during the
            inversion (default: ``bounds[0]``, so the misfit is one smooth function of ``v``).
        compile: see :func:`~sciml.physics.seismic.acoustic_fd.simulate_fd`.
        batch: maps propagated (and back-propagated) at once; the maps are independent
            (per-map misfits, elementwise Adam and clipping), so any value gives the same
            result. Default: all on CUDA, one on the CPU, where the checkpointed time blocks of
            several 70x70 OpenFWI maps outgrow memory (measured peak: 2.0 GB for one map, 5.3 GB
            for two, over 24 GB for four).
        callback: ``callback(iteration, velocity, misfit_per_sample)`` after each evaluation.

    Returns:
        :class:`FWIResult`.
    """
    if not isinstance(observed, torch.Tensor) or observed.ndim != 4:
        raise ValueError(
            f"observed must be a tensor [B, S, nt, R], got {getattr(observed, 'shape', observed)}"
        )
    if not isinstance(initial, torch.Tensor) or initial.ndim != 4 or initial.shape[1] != 1:
        raise ValueError(
            f"initial must be a tensor [B, 1, nz, nx], got {getattr(initial, 'shape', initial)}"
        )
    if initial.shape[0] != observed.shape[0]:
        raise ValueError(f"initial has {initial.shape[0]} samples, observed {observed.shape[0]}")
    if not isinstance(iterations, int) or iterations < 0:
        raise ValueError(f"iterations must be an int >= 0, got {iterations!r}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    if not 0 < bounds[0] < bounds[1]:
        raise ValueError(f"bounds must be (min, max) with 0 < min < max, got {bounds!r}")
    if not torch.isfinite(observed).all():
        raise ValueError("observed contains non-finite values")
    if batch is not None and (not isinstance(batch, int) or batch < 1):
        raise ValueError(f"batch must be an int >= 1 or None, got {batch!r}")
    kw = dict(order=order, nbc=nbc, convention=convention, compile=compile,
              damping_velocity=damping_velocity or bounds[0])  # fmt: skip
    obs = observed.to(initial.device, torch.float32)
    v = initial.detach().float().clamp(*bounds).clone().requires_grad_(True)
    opt = torch.optim.Adam([v], lr=lr)
    misfits: list[float] = []
    history: list = []
    t0 = time.perf_counter()
    per = torch.full((obs.shape[0],), math.nan)
    n = obs.shape[0]
    step = batch or (n if v.device.type == "cuda" else 1)
    for it in range(iterations + 1):
        last = it == iterations
        opt.zero_grad(set_to_none=True)
        parts = []
        for i in range(0, n, step):  # independent maps: gradients of the chunks add up
            with torch.set_grad_enabled(not last):
                part = data_misfit(
                    simulate_fd(v[i : i + step], grid, survey, **kw), obs[i : i + step]
                )
            if not last:
                part.sum().backward()
            parts.append(part.detach())
        per = torch.cat(parts)
        misfits.append(float(per.mean()))
        if callback is not None:
            history.append(callback(it, v.detach().clone(), per.detach()))
        if last:
            break
        opt.step()
        with torch.no_grad():
            v.clamp_(*bounds)
    return FWIResult(v.detach(), misfits, per.detach().cpu(), time.perf_counter() - t0, history)
