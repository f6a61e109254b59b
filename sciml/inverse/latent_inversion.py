"""Latent-space inversion with a trained DGNO: from sparse noisy ``u`` to ``a`` and its spread.

The decoders of a trained :class:`~sciml.operators.point.dgno.DGNO` are frozen; the unknown is the
latent code ``beta``. Its posterior combines

* the data: ``y_k = u(x_k; beta) + sigma_k eps_k`` (the observations' noise model);
* the physics as a *virtual observation*: the weak-form residuals of the PDE with the
  coefficient ``E[a | beta]`` and the solution (and flux) decoded from the same ``beta``
  should be as small as they are on training data: ``R(beta) ~ N(0, physics_std^2)`` with
  ``R`` the DGNO training loss's physics terms at fixed centres and ``physics_std^2`` their
  validation level (stored with the trained model);
* the prior of the latent space, ``N(0, I)`` (the VAE prior the encoder was trained against):

``log p(beta | y) = -1/2 sum_k ((u(x_k) - y_k) / sigma_k)^2 - w R(beta) / (2 physics_std^2)
- |beta|^2 / 2 + const``.

Sampling: ``chains`` starting points from the prior are optimised to posterior modes (Adam,
with the noise annealed from the data's own size down to ``sigma``: a continuation through
smoother posteriors);
modes whose density is below ``e^{-drop}`` times the best are dropped (negligible mass);
``method="langevin"`` then runs MALA chains (:func:`~sciml.inverse.langevin.mala`) from the
modes, ``method="ensemble"`` keeps the modes. Every latent sample is pushed through the
coefficient decoder *including its own likelihood* (Bernoulli phases, or the Gaussian of
``log a``), so the coefficient's posterior predictive has a mean, a pointwise standard
deviation and a 95% band (2.5% and 97.5% quantiles).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from sciml.grid import Grid
from sciml.inverse.langevin import mala
from sciml.inverse.observations import Observations
from sciml.operators.model_file import load_operator
from sciml.operators.point.dgno import DGNO
from sciml.operators.point.dgno_task import DGNOLoss, physics_std

if TYPE_CHECKING:
    from sciml.operators.point.dgno import DGNO
    from sciml.operators.point.dgno_task import DGNOLoss

__all__ = ["LatentPosterior", "invert_dgno", "band_coverage", "load_dgno_run", "save_posterior"]


@dataclass
class LatentPosterior:
    """Posterior summaries on ``grid`` (fields ``[*grid.shape]``, float32 on the CPU).

    Attributes:
        beta: latent samples ``[S, m]``.
        a_mean, a_std, a_lower, a_upper: the coefficient's posterior mean, pointwise standard
            deviation and 95% band.
        u_mean, u_std: the solution's posterior mean and spread.
        p_high: probability of the high phase (two-phase media; else ``None``).
        a_samples: a few coefficient samples ``[s, *grid.shape]`` (for pictures).
        info: diagnostics (``accept_rate``, ``kept_modes``, ``chi2_per_obs``, ``seconds``, ...).
    """

    grid: Grid
    beta: torch.Tensor
    a_mean: torch.Tensor
    a_std: torch.Tensor
    a_lower: torch.Tensor
    a_upper: torch.Tensor
    u_mean: torch.Tensor
    u_std: torch.Tensor
    p_high: torch.Tensor | None
    a_samples: torch.Tensor
    info: dict = field(default_factory=dict)

    def coverage(self, a_true: torch.Tensor) -> float:
        """Fraction of grid points whose true coefficient lies inside the 95% band."""
        return band_coverage(self.a_lower, self.a_upper, a_true)

    def relative_error(self, a_true: torch.Tensor) -> float:
        """``|a_mean - a_true| / |a_true|`` (L2 over the grid)."""
        a_true = torch.as_tensor(a_true, dtype=self.a_mean.dtype).reshape(self.a_mean.shape)
        return float((self.a_mean - a_true).norm() / a_true.norm())


def band_coverage(lower: torch.Tensor, upper: torch.Tensor, truth: torch.Tensor) -> float:
    """Fraction of entries with ``lower <= truth <= upper`` (shapes must agree)."""
    truth = torch.as_tensor(truth, dtype=lower.dtype).reshape(lower.shape)
    tol = 1e-6 * (1 + truth.abs())
    inside = (truth >= lower - tol) & (truth <= upper + tol)
    return float(inside.double().mean())


def _physics_misfit(model, beta, centres, loss) -> torch.Tensor:
    """The DGNO training loss's physics terms ``[K]`` with the *decoded* coefficient."""
    weak = loss.weak_form()
    nodes = weak.nodes(centres)
    m, q = nodes.shape[:2]
    k = beta.shape[0]
    flat = nodes.reshape(-1, 2)
    out = model.decode_solution(beta, flat, gradient=True)
    grad_u = out["grad_u"].reshape(k, m, q, 2)
    coef = model.coefficient_mean(beta, flat).reshape(k, m, q)
    cb = centres.expand(k, m, 2)
    f_scale = loss.forcing_scale()
    if model.mixed:
        eq, const = weak.mixed(cb, out["flux"].reshape(k, m, q, 2), grad_u, coefficient=coef)
        const = const.mean(-1) / model.flux_scale**2
    else:
        eq = weak.primal(cb, grad_u, coefficient=coef)
        const = torch.zeros(k, dtype=beta.dtype, device=beta.device)
    return loss.pde_weight * (eq / f_scale).square().mean(-1) + loss.constitutive_weight * const


def invert_dgno(
    model: DGNO,
    obs: Observations,
    loss: DGNOLoss,
    *,
    physics_std: float,
    physics_weight: float = 1.0,
    grid: Grid | None = None,
    method: str = "langevin",
    chains: int = 8,
    map_steps: int = 300,
    lr: float = 0.05,
    sample_steps: int = 200,
    thin: int = 2,
    centres: int = 128,
    drop: float = 10.0,
    seed: int = 0,
    draws: int = 8,
) -> LatentPosterior:
    """Sample the posterior of DGNO's latent code given ``obs`` (see the module docstring).

    Args:
        model: a trained :class:`~sciml.operators.point.dgno.DGNO` (frozen here).
        obs: observations of ``u`` (points inside the model's domain).
        loss: the :class:`~sciml.operators.point.dgno_task.DGNOLoss` it was trained with (weak form,
            weights).
        physics_std: the physics misfit's typical size on training data (its validation
            value's square root; :func:`sciml.operators.point.dgno_task.physics_std` reads it from a
            saved model).
        physics_weight: ``w`` (0 ignores the physics).
        grid: where to summarise ``a`` and ``u`` (default the model's input grid).
        method: ``"langevin"`` (MALA from the modes) or ``"ensemble"`` (the modes).
        chains, map_steps, lr: the mode search (Adam with cosine decay, one chain per prior
            draw).
        sample_steps, thin: MALA steps per chain (half burn-in) and thinning.
        centres: test-function centres of the physics term (fixed Latin hypercube).
        drop: modes more than ``drop`` nats below the best are discarded.
        draws: decoder-likelihood draws per latent sample (for the bands).
    """

    if not isinstance(model, DGNO):
        raise TypeError(f"model must be a DGNO, got {type(model).__name__}")
    if not isinstance(obs, Observations):
        raise TypeError(f"obs must be Observations, got {type(obs).__name__}")
    if method not in ("langevin", "ensemble"):
        raise ValueError(f"method must be 'langevin' or 'ensemble', got {method!r}")
    if not physics_std > 0 or not physics_weight >= 0:
        raise ValueError(
            f"physics_std must be > 0 and physics_weight >= 0, got {physics_std}, {physics_weight}"
        )
    if obs.dim != 2:
        raise ValueError(f"observations must be 2-D points for this model, got d={obs.dim}")
    obs.check_inside(model.grid.bounds, name="observation points")
    t0 = time.perf_counter()
    grid = model.grid if grid is None else grid
    params = list(model.parameters())
    device = params[0].device
    dtype = params[0].dtype
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    was_training = model.training
    model.eval()
    g = torch.Generator().manual_seed(seed)
    pts = obs.points.to(device=device, dtype=dtype)
    y = obs.values.to(device=device, dtype=dtype)
    sig = obs.noise_std.to(device=device, dtype=dtype)
    weak = loss.weak_form()
    fixed = weak.sample_centres(centres, generator=g, device=device, dtype=dtype)
    scale = physics_weight / (2 * physics_std**2)

    def log_post(beta: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        u = model.decode_solution(beta, pts)["u"]
        lp = -0.5 * ((u - y) / (sig * temperature)).square().sum(-1) - 0.5 * beta.square().sum(-1)
        if physics_weight > 0:
            lp = lp - scale * _physics_misfit(model, beta, fixed, loss)
        return lp

    # the mode search anneals the noise from the data's own size down to sigma (continuation:
    # a sharp likelihood is reached through smoother ones, which avoids poor local modes)
    t_start = max(1.0, float(y.square().mean().sqrt() / sig.mean()))
    anneal = max(1, int(0.7 * map_steps))

    try:
        beta = torch.randn(chains, model.latent, generator=g, dtype=dtype).to(device)
        beta.requires_grad_(True)
        opt = torch.optim.Adam([beta], lr=lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(map_steps, 1))
        for step in range(map_steps):
            temperature = t_start ** max(0.0, 1.0 - step / anneal)
            opt.zero_grad()
            (-log_post(beta, temperature).sum()).backward()
            opt.step()
            sched.step()
        beta = beta.detach()
        with torch.no_grad():
            lp_modes = log_post(beta)
        keep = lp_modes >= lp_modes.max() - drop
        modes = beta[keep]
        info = {
            "chains": chains,
            "kept_modes": int(keep.sum()),
            "best_log_post": float(lp_modes.max()),
        }
        if method == "langevin":
            res = mala(log_post, modes, steps=sample_steps, step_size=1e-3, thin=thin, generator=g)
            samples = res.samples.reshape(-1, model.latent)
            info["accept_rate"] = res.accept_rate
        else:
            samples = modes
        with torch.no_grad():
            u_obs = model.decode_solution(samples, pts)["u"]
            info["chi2_per_obs"] = float(((u_obs - y) / sig).square().mean())
            post = _summaries(model, samples, grid, draws, g)
    finally:
        for p, f in zip(params, flags):
            p.requires_grad_(f)
        model.train(was_training)
    info["seconds"] = time.perf_counter() - t0
    post.info.update(info)
    return post


@torch.no_grad()
def _summaries(model, samples: torch.Tensor, grid: Grid, draws: int, g) -> LatentPosterior:
    pts = grid.points(samples.device, samples.dtype)
    us, outs = [], []
    for chunk in samples.split(64):
        us.append(model.decode_solution(chunk, pts)["u"])
        outs.append(model.coefficient_output(chunk, pts))
    u = torch.cat(us)  # [S, P]
    out = torch.cat(outs)
    shape = grid.shape
    if model.medium == "two-phase":
        lo, hi = model.low, model.high
        p = torch.sigmoid(out)  # each sample's Bernoulli probability of the high phase
        p_high = p.mean(0)
        a_mean = lo + (hi - lo) * p_high
        a_std = (hi - lo) * (p_high * (1 - p_high)).sqrt()
        # quantiles of the two-point predictive distribution
        a_lower = torch.where(p_high > 0.975, hi, lo)
        a_upper = torch.where(p_high < 0.025, lo, hi)
        a_samples = lo + (hi - lo) * (torch.rand(p[:4].shape, generator=g) < p[:4].cpu()).to(p)
    else:
        s = model.log_sigma.exp()
        eps = torch.randn(draws, *out.shape, generator=g, dtype=out.dtype).to(out.device)
        log_a = (out.unsqueeze(0) + s * eps).reshape(-1, out.shape[-1])
        a = log_a.exp()
        a_mean, a_std = a.mean(0), a.std(0) if a.shape[0] > 1 else torch.zeros_like(a[0])
        q = torch.tensor([0.025, 0.975], dtype=a.dtype, device=a.device)
        a_lower, a_upper = torch.quantile(a, q, dim=0)
        a_samples, p_high = a[:4], None

    def f(t: torch.Tensor) -> torch.Tensor:
        return t.reshape(*t.shape[:-1], *shape).float().cpu()

    return LatentPosterior(
        grid=grid,
        beta=samples.float().cpu(),
        a_mean=f(a_mean),
        a_std=f(a_std),
        a_lower=f(a_lower),
        a_upper=f(a_upper),
        u_mean=f(u.mean(0)),
        u_std=f(u.std(0) if u.shape[0] > 1 else torch.zeros_like(u[0])),
        p_high=None if p_high is None else f(p_high),
        a_samples=f(a_samples),
        info={"samples": int(samples.shape[0])},
    )


def load_dgno_run(
    run_dir: str | Path, *, device: torch.device | str = "cpu"
) -> tuple[DGNO, DGNOLoss, float]:
    """``(model, loss, physics_std)`` from a DGNO run folder (its ``model.pt``, written by the
    Trainer with :class:`~sciml.operators.point.dgno_task.DGNOTask`) or that model file itself
    (a zoo model, say).""

    Errors a user can cause (missing folder or file, another model, a file without the DGNO
    settings) are one-line ``FileNotFoundError`` / ``ValueError`` naming the path.
    """

    run = Path(run_dir)
    if run.is_file():
        path = run
    elif not run.is_dir():
        raise FileNotFoundError(f"run folder {str(run)!r} does not exist")
    else:
        path = run / "model.pt"
    if not path.is_file():
        raise FileNotFoundError(f"run folder {str(run)!r} has no model.pt (train it first)")
    model, extra = load_operator(path, map_location=device)
    if not isinstance(model, DGNO):
        raise ValueError(f"{str(path)!r} holds a {type(model).__name__}, not a DGNO model")
    if not isinstance(extra.get("dgno_loss"), dict):
        raise ValueError(f"{str(path)!r} has no DGNO loss settings ('dgno_loss' in extra)")
    try:
        loss = DGNOLoss.from_dict(extra["dgno_loss"])
        std = physics_std(extra)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{str(path)!r}: {exc}") from None
    return model, loss, std


def save_posterior(
    post: LatentPosterior, path: str | Path, *, obs: Observations | None = None
) -> None:
    """Write the posterior fields (and the observation points) as ``.npz`` arrays."""

    arrays = {
        "a_mean": post.a_mean.numpy(),
        "a_std": post.a_std.numpy(),
        "a_lower": post.a_lower.numpy(),
        "a_upper": post.a_upper.numpy(),
        "u_mean": post.u_mean.numpy(),
        "u_std": post.u_std.numpy(),
        "a_samples": post.a_samples.numpy(),
        "beta": post.beta.numpy(),
        "grid_shape": np.asarray(post.grid.shape),
        "grid_bounds": np.asarray(post.grid.bounds),
    }
    if post.p_high is not None:
        arrays["p_high"] = post.p_high.numpy()
    if obs is not None:
        arrays["obs_points"] = obs.points.numpy()
        arrays["obs_values"] = obs.values.numpy()
        arrays["obs_noise_std"] = obs.noise_std.numpy()
    np.savez(path, **arrays)
