"""Importance-weighted log-likelihood bound of a VAE (Burda, Grosse & Salakhutdinov 2016)."""

from __future__ import annotations

import math

import torch

from sciml.traversal.vae import ConvVAE

__all__ = ["iw_log_likelihood"]


@torch.no_grad()
def iw_log_likelihood(
    vae: ConvVAE,
    x: torch.Tensor,
    *,
    samples: int = 100,
    batch_size: int = 64,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x)``, ``z_k ~ q(z|x)``, per image ``[N]`` (nats).

    A lower bound of ``log p(x)`` that tightens as ``K = samples`` grows (``K = 1`` is the ELBO).
    It needs the decoder's true density: use ``likelihood="gaussian"`` for continuous
    intensities (the Bernoulli "likelihood" of non-binary pixels is not a density).
    Divide by ``C H W log 2`` for bits per dimension.
    """
    if not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be a positive int, got {samples!r}")
    dev = next(vae.parameters()).device
    out = []
    for i in range(0, x.shape[0], batch_size):
        xb = x[i : i + batch_size].to(dev)
        b = xb.shape[0]
        mu, logvar = vae.encode(xb)
        std = (0.5 * logvar).exp()
        chunk = max(1, 4096 // b)  # samples decoded together: at most ~4096 images at once
        logw = []
        for s0 in range(0, samples, chunk):
            m = min(chunk, samples - s0)
            eps = torch.randn((m, *mu.shape), generator=generator, device="cpu").to(dev, mu.dtype)
            z = mu + std * eps  # [m, B, d]
            log_q = (-0.5 * eps**2 - 0.5 * logvar - 0.5 * math.log(2 * math.pi)).sum(-1)
            log_p = (-0.5 * z**2 - 0.5 * math.log(2 * math.pi)).sum(-1)
            out_z = vae.decode(z.reshape(m * b, -1))
            xr = xb.expand(m, *xb.shape).reshape(m * b, *xb.shape[1:])
            log_x = vae.log_likelihood(xr, out_z).reshape(m, b)
            logw.append(log_x + log_p - log_q)
        lw = torch.cat(logw)  # [K, B]
        out.append((torch.logsumexp(lw, 0) - math.log(samples)).cpu())
    return torch.cat(out)
