"""The Metropolis-adjusted Langevin algorithm (MALA) for batches of independent chains.

Proposal ``x' = x + eps grad log p(x) + sqrt(2 eps) xi`` (a Langevin step), accepted with the
Metropolis-Hastings probability, so the chains sample ``p`` exactly (no discretisation bias).
Each chain adapts its own step size during burn-in towards the acceptance rate 0.574 (optimal
for MALA in high dimension; Roberts & Rosenthal 1998) and keeps it fixed afterwards.

``log_prob`` maps ``x: [K, m]`` to ``[K]`` (the chains are a batch: one network call serves
all of them).

>>> torch.manual_seed(0)  # doctest: +ELLIPSIS
<torch._C.Generator object at ...>
>>> res = mala(lambda x: -0.5 * (x / 2).square().sum(-1), torch.zeros(16, 2), steps=600)
>>> round(float(res.samples.reshape(-1, 2).std()), 1)     # the target's std is 2
2.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

__all__ = ["MALAResult", "mala"]


@dataclass
class MALAResult:
    """Samples ``[S, K, m]`` kept after burn-in (every ``thin``-th step of each of ``K``
    chains), the final states ``[K, m]``, the post-burn-in acceptance rate and the step sizes
    ``[K]``."""

    samples: torch.Tensor
    last: torch.Tensor
    accept_rate: float
    step_size: torch.Tensor


def _value_and_grad(log_prob, x):
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        lp = log_prob(x)
        (g,) = torch.autograd.grad(lp.sum(), x)
    return lp.detach(), g.detach()


def mala(
    log_prob: Callable[[torch.Tensor], torch.Tensor],
    x0: torch.Tensor,
    *,
    steps: int,
    step_size: float = 1e-2,
    burn_in: int | None = None,
    thin: int = 1,
    target_accept: float = 0.574,
    generator: torch.Generator | None = None,
) -> MALAResult:
    """Run ``K = x0.shape[0]`` MALA chains for ``steps`` steps.

    Args:
        log_prob: ``[K, m] -> [K]``, the unnormalised log density (differentiable).
        x0: ``[K, m]`` starting points.
        steps: total steps per chain (burn-in included).
        step_size: initial ``eps``.
        burn_in: adaptation steps whose samples are dropped (default ``steps // 2``).
        thin: keep every ``thin``-th sample after burn-in.
        generator: for the proposals and the accept/reject draws.
    """
    if x0.ndim != 2:
        raise ValueError(f"x0 must have shape [K, m] (K chains), got {list(x0.shape)}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if not step_size > 0:
        raise ValueError(f"step_size must be positive, got {step_size!r}")
    burn_in = steps // 2 if burn_in is None else burn_in
    if not 0 <= burn_in < steps:
        raise ValueError(f"burn_in must be in [0, steps), got {burn_in}")
    k = x0.shape[0]
    x = x0.detach().clone()
    lp, g = _value_and_grad(log_prob, x)
    log_eps = torch.full((k,), math.log(step_size), dtype=x.dtype, device=x.device)
    kept, accepted, proposed = [], 0.0, 0

    def noise(shape: torch.Size) -> torch.Tensor:
        return torch.randn(shape, generator=generator, dtype=x.dtype).to(x.device)

    for t in range(steps):
        eps = log_eps.exp().unsqueeze(-1)
        prop = x + eps * g + torch.sqrt(2 * eps) * noise(x.shape)
        lp_p, g_p = _value_and_grad(log_prob, prop)
        fwd = -(prop - x - eps * g).square().sum(-1) / (4 * eps[:, 0])
        bwd = -(x - prop - eps * g_p).square().sum(-1) / (4 * eps[:, 0])
        log_alpha = (lp_p - lp + bwd - fwd).nan_to_num(nan=-math.inf)
        u = torch.rand(k, generator=generator, dtype=x.dtype).to(x.device)
        accept = torch.log(u) < log_alpha
        x = torch.where(accept[:, None], prop, x)
        lp = torch.where(accept, lp_p, lp)
        g = torch.where(accept[:, None], g_p, g)
        alpha = log_alpha.clamp(max=0).exp()
        if t < burn_in:  # Robbins-Monro on each chain's log step size
            log_eps = log_eps + (alpha - target_accept) / math.sqrt(t + 1)
        else:
            accepted += float(alpha.sum())
            proposed += k
            if (t - burn_in) % thin == 0:
                kept.append(x.clone())
    samples = torch.stack(kept) if kept else x.unsqueeze(0)
    return MALAResult(samples, x, accepted / max(proposed, 1), log_eps.exp())
