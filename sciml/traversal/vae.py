"""A convolutional variational autoencoder (Kingma & Welling 2014) for small images."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["ConvVAE"]

_LIKELIHOODS = ("bernoulli", "gaussian")


def _downsamplings(size: int) -> int:
    n = 0
    while size % 2 ** (n + 1) == 0 and size // 2 ** (n + 1) >= 4:
        n += 1
    return n


class ConvVAE(nn.Module):
    """``q(z|x) = N(mu(x), diag sigma^2(x))``, ``p(z) = N(0, I)``, ``p(x|z)`` per pixel.

    The encoder halves the resolution with stride-2 convolutions (as long as the side stays an
    integer >= 4), the decoder mirrors it with transposed convolutions. No normalisation
    layers: a frozen VAE behaves the same in train and eval mode.

    Args:
        channels: image channels ``C``.
        size: image side ``H = W``.
        latent: latent dimension ``d``.
        width: channels of the first conv layer (doubling at each downsampling).
        likelihood: ``"bernoulli"`` (logits; the right model for binary images such as
            dSprites) or ``"gaussian"`` (mean ``out`` itself and a learned per-channel scale,
            at least 0.01; a proper density for continuous intensities, used by the
            likelihood bound).
        scale: for ``"gaussian"``: a fixed pixel standard deviation instead of the learned
            one. A learned scale lets the likelihood improve by shrinking the noise rather
            than by using the code (on coloured digits it collapsed the posterior to ~1 nat
            per frame); a fixed one weighs reconstruction against the KL once and for all.

    Shapes: ``x: [N, C, H, W]`` in ``[0, 1]``; ``z: [N, d]``.
    """

    def __init__(
        self,
        channels: int = 1,
        size: int = 32,
        latent: int = 8,
        *,
        width: int = 32,
        likelihood: str = "bernoulli",
        scale: float | None = None,
    ) -> None:
        super().__init__()
        for name, v in (("channels", channels), ("latent", latent), ("width", width)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if not isinstance(size, int) or size < 8:
            raise ValueError(f"size must be an int >= 8, got {size!r}")
        if likelihood not in _LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {_LIKELIHOODS}, got {likelihood!r}")
        self.channels, self.size, self.latent, self.likelihood = channels, size, latent, likelihood
        n = _downsamplings(size)
        self.base = size // 2**n
        enc: list[nn.Module] = []
        c_in, c = channels, width
        chans = []
        for _ in range(n):
            enc += [nn.Conv2d(c_in, c, 4, stride=2, padding=1), nn.SiLU()]
            chans.append(c)
            c_in, c = c, min(2 * c, 4 * width)
        self.encoder = nn.Sequential(*enc, nn.Flatten())
        feat = c_in * self.base**2
        self.to_stats = nn.Linear(feat, 2 * latent)
        self.from_z = nn.Sequential(nn.Linear(latent, feat), nn.SiLU())
        dec: list[nn.Module] = []
        rev = chans[::-1]
        for i, c_hi in enumerate(rev):
            c_lo = rev[i + 1] if i + 1 < len(rev) else width
            dec += [nn.ConvTranspose2d(c_hi, c_lo, 4, stride=2, padding=1), nn.SiLU()]
        dec.append(nn.Conv2d(width, channels, 3, padding=1))
        self.decoder = nn.Sequential(*dec)
        self._top = c_in
        if scale is not None and not (isinstance(scale, (int, float)) and scale > 0):
            raise ValueError(f"scale must be a positive number or None, got {scale!r}")
        init = torch.full((channels,), math.log(0.1 if scale is None else float(scale)))
        if scale is None:
            self.log_scale = nn.Parameter(init)
        else:
            self.register_buffer("log_scale", init)
        self.spec = {
            "name": "conv-vae",
            "kwargs": {
                "channels": channels,
                "size": size,
                "latent": latent,
                "width": width,
                "likelihood": likelihood,
                "scale": scale,
            },
        }

    def _check(self, x: torch.Tensor) -> None:
        if x.ndim != 4 or tuple(x.shape[1:]) != (self.channels, self.size, self.size):
            raise ValueError(
                f"x must be [N, {self.channels}, {self.size}, {self.size}], got {list(x.shape)}"
            )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x: [N, C, H, W]`` -> ``(mu, logvar)``, each ``[N, d]``."""
        self._check(x)
        mu, logvar = self.to_stats(self.encoder(x)).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``z: [N, d]`` -> the decoder's raw output ``[N, C, H, W]`` (Bernoulli logits, or the
        Gaussian mean)."""
        if z.ndim != 2 or z.shape[1] != self.latent:
            raise ValueError(f"z must be [N, {self.latent}], got {list(z.shape)}")
        h = self.from_z(z).reshape(-1, self._top, self.base, self.base)
        return self.decoder(h)

    def mean_image(self, z: torch.Tensor) -> torch.Tensor:
        """The decoded image ``E[x|z]`` ``[N, C, H, W]`` (the generator; in ``[0, 1]`` for
        Bernoulli pixels, about so for Gaussian ones: clamp it for display)."""
        out = self.decode(z)
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out

    def log_likelihood(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """``log p(x|z)`` ``[N]`` (nats) from the decoder output ``out`` for ``z``."""
        if self.likelihood == "bernoulli":
            ll = -F.binary_cross_entropy_with_logits(out, x, reduction="none")
        else:
            scale = self.log_scale.clamp(min=math.log(0.01)).exp()[None, :, None, None]
            # an unbounded mean: a sigmoid mean with a squared error stalls where it saturates
            # (a plain autoencoder on coloured digits stayed above the mean image's error)
            ll = torch.distributions.Normal(out, scale).log_prob(x)
        return ll.flatten(1).sum(1)

    @staticmethod
    def kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """``KL(q(z|x) || N(0, I))`` ``[N]``."""
        return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)

    @staticmethod
    def sample(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """A reparameterised draw ``z = mu + sigma * eps`` ``[N, d]``."""
        return mu + (0.5 * logvar).exp() * torch.randn_like(mu)

    def elbo_terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """One-sample ELBO pieces per image: ``rec = -log p(x|z)`` and ``kl``, each ``[N]``,
        plus ``z`` ``[N, d]`` (the draw) and ``mu``."""
        mu, logvar = self.encode(x)
        z = self.sample(mu, logvar)
        return {
            "rec": -self.log_likelihood(x, self.decode(z)),
            "kl": self.kl(mu, logvar),
            "z": z,
            "mu": mu,
        }

    def forward(self, x: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
        """Per-image loss ``-log p(x|z) + beta KL`` ``[N]`` (``beta = 1``: the negative ELBO)."""
        t = self.elbo_terms(x)
        return t["rec"] + beta * t["kl"]
