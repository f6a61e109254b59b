"""Amortised Gaussian posterior ``q(beta | a) = N(mu(a), diag sigma^2(a))`` of a grid field.

The encoder of :class:`~sciml.operators.point.dgno.DGNO`: a field ``a: [B, C, *S]`` (2-D) is read
at fixed sensors (resampled to ``sensor_shape`` when its grid differs), passed through a small
CNN (three stride-2 3x3 convolutions, as in the DGNO paper) or an MLP on the flattened field,
and mapped to the mean and log-variance of a ``latent``-dimensional Gaussian.

>>> enc = FieldEncoder(latent=8, sensor_shape=(29, 29), channels=16)
>>> mu, logvar = enc(torch.randn(3, 1, 29, 29))
>>> mu.shape, logvar.shape
(torch.Size([3, 8]), torch.Size([3, 8]))
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from sciml.grid import Grid

__all__ = ["FieldEncoder", "gaussian_kl"]

_KINDS = ("cnn", "mlp")


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, diag exp(logvar)) || N(0, I))`` per row: ``[B, m] -> [B]``."""
    return 0.5 * (mu.square() + logvar.exp() - 1 - logvar).sum(-1)


class FieldEncoder(nn.Module):
    """``a: [B, in_channels, *S] -> (mu, logvar)``, each ``[B, latent]``.

    Args:
        latent: dimension ``m`` of the latent code.
        sensor_shape: the 2-D grid the encoder reads (on the unit box unless ``bounds``).
        in_channels: channels of the field.
        kind: ``"cnn"`` or ``"mlp"``.
        channels: convolution channels (``cnn``) or hidden width (``mlp``).
        hidden: width of the fully connected layers after the convolutions.
    """

    def __init__(
        self,
        latent: int,
        sensor_shape: Sequence[int] = (29, 29),
        *,
        in_channels: int = 1,
        kind: str = "cnn",
        channels: int = 64,
        hidden: int = 256,
        bounds: Sequence[Sequence[float]] | None = None,
    ) -> None:
        super().__init__()
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
        for name, v in (("latent", latent), ("channels", channels), ("hidden", hidden)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        self.sensors = Grid(
            tuple(sensor_shape), bounds=tuple(map(tuple, bounds)) if bounds else None
        )
        if self.sensors.ndim != 2:
            raise ValueError(f"sensor_shape must be 2-D, got {tuple(sensor_shape)}")
        self.latent, self.in_channels = latent, in_channels
        act = nn.SiLU
        if kind == "cnn":
            layers, size = [], list(self.sensors.shape)
            c = in_channels
            for _ in range(3):
                layers += [nn.Conv2d(c, channels, 3, stride=2, padding=1), act()]
                c = channels
                size = [math.floor((s - 1) / 2) + 1 for s in size]
            self.features = nn.Sequential(*layers, nn.Flatten())
            flat = channels * size[0] * size[1]
        else:
            flat = in_channels * self.sensors.size
            self.features = nn.Sequential(nn.Flatten(), nn.Linear(flat, channels), act())
            flat = channels
        self.head = nn.Sequential(
            nn.Linear(flat, hidden), act(), nn.Linear(hidden, hidden // 2), act(),
            nn.Linear(hidden // 2, 2 * latent),
        )  # fmt: skip

    def forward(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``a: [B, in_channels, *S]`` -> ``(mu, logvar)``, ``[B, latent]`` each."""
        s = self.sensors
        if not isinstance(a, torch.Tensor) or a.ndim != 4 or a.shape[1] != self.in_channels:
            raise ValueError(
                f"a must have shape [B, {self.in_channels}, H, W], got "
                f"{list(getattr(a, 'shape', [type(a).__name__]))}"
            )
        if tuple(a.shape[2:]) != s.shape:
            a = s.with_shape(a.shape[2:]).resample(a, s)
        out = self.head(self.features(a))
        mu, logvar = out.chunk(2, dim=-1)
        return mu, logvar.clamp(-12.0, 6.0)
