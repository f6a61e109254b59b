"""Velocity-domain encoder and decoder of the GFI framework (Gupta et al., ICLR 2025).

With a latent grid as large as the map (GFI's default "latent 70"), the velocity codec is a
per-pixel network: five 1x1 convolution blocks ``1 -> 8 -> 16 -> 32 -> 64 -> C`` (convolution
-> BatchNorm -> LeakyReLU(0.2)), then a bilinear resize when the latent grid has another
size (the Invertible X-Net's U-Net needs sides divisible by ``2**(levels-1)``, e.g. 64).
The decoder mirrors it and ends with a plain 1x1 convolution to one channel (normalised
velocity, ``[-1, 1]`` for ``[1500, 4500]`` m/s).

>>> import torch
>>> enc, dec = VelocityEncoder(latent_channels=16, latent_size=(64, 64)), VelocityDecoder(
...     latent_channels=16, latent_size=(64, 64))
>>> z = enc(torch.randn(2, 1, 70, 70))
>>> tuple(z.shape), tuple(dec(z).shape)
((2, 16, 64, 64), (2, 1, 70, 70))
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["VelocityEncoder", "VelocityDecoder"]

_WIDTHS = (8, 16, 32, 64)


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 1), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2))


def _pair(name: str, v) -> tuple[int, int]:
    v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(v) != 2 or not all(isinstance(n, int) and n >= 1 for n in v):
        raise ValueError(f"{name} must be a positive int or a pair of them, got {v!r}")
    return v


class VelocityEncoder(nn.Module):
    """``[B, 1, *size] -> [B, latent_channels, *latent_size]`` (1x1 convolution blocks).

    Args:
        size: velocity map size ``(nz, nx)`` (default 70 x 70).
        latent_channels: ``C`` of the latent grid.
        latent_size: latent grid size (default: ``size``).
        widths: channels of the first four blocks.
    """

    def __init__(
        self,
        size: tuple[int, int] | int = (70, 70),
        *,
        latent_channels: int = 128,
        latent_size: tuple[int, int] | int | None = None,
        widths: tuple[int, ...] = _WIDTHS,
    ) -> None:
        super().__init__()
        self.size = _pair("size", size)
        self.latent_size = _pair("latent_size", latent_size or self.size)
        if not isinstance(latent_channels, int) or latent_channels < 1:
            raise ValueError(f"latent_channels must be a positive int, got {latent_channels!r}")
        chans = (1, *widths, latent_channels)
        self.layers = nn.Sequential(*(_block(a, b) for a, b in zip(chans[:-1], chans[1:])))

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        """``v: [B, 1, nz, nx] -> [B, C, h, w]``."""
        if v.ndim != 4 or tuple(v.shape[1:]) != (1, *self.size):
            raise ValueError(f"velocity must be [B, 1, {self.size[0]}, {self.size[1]}], "
                             f"got {list(v.shape)}")  # fmt: skip
        z = self.layers(v)
        if self.latent_size != self.size:
            z = F.interpolate(z, size=self.latent_size, mode="bilinear", align_corners=False)
        return z


class VelocityDecoder(nn.Module):
    """``[B, latent_channels, *latent_size] -> [B, 1, *size]`` (mirror of the encoder)."""

    def __init__(
        self,
        size: tuple[int, int] | int = (70, 70),
        *,
        latent_channels: int = 128,
        latent_size: tuple[int, int] | int | None = None,
        widths: tuple[int, ...] = _WIDTHS,
    ) -> None:
        super().__init__()
        self.size = _pair("size", size)
        self.latent_size = _pair("latent_size", latent_size or self.size)
        if not isinstance(latent_channels, int) or latent_channels < 1:
            raise ValueError(f"latent_channels must be a positive int, got {latent_channels!r}")
        self.latent_channels = latent_channels
        chans = (latent_channels, *reversed(widths))
        self.layers = nn.Sequential(*(_block(a, b) for a, b in zip(chans[:-1], chans[1:])))
        self.out = nn.Conv2d(chans[-1], 1, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``z: [B, C, h, w] -> [B, 1, nz, nx]``."""
        if z.ndim != 4 or z.shape[1] != self.latent_channels:
            raise ValueError(
                f"latent must be [B, {self.latent_channels}, h, w], got {list(z.shape)}"
            )
        if tuple(z.shape[2:]) != self.size:
            z = F.interpolate(z, size=self.size, mode="bilinear", align_corners=False)
        return self.out(self.layers(z))
