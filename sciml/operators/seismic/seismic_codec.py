"""Seismic-domain encoder and decoder of the GFI framework (Gupta et al., ICLR 2025).

Shot gathers ``[B, S, nt, R]`` (shots as channels, time, receivers) are encoded by
convolutions along **time only** (kernels ``(k, 1)``), which shorten the time axis while
keeping one column per receiver, and a final bilinear resize to the latent grid:
``[B, S, 1000, 70] -> [B, C, 70, 70]`` with the default five layers
(time 1000 -> 334 -> 165 -> 82 -> 78 -> 74 -> 70). The decoder mirrors the stack with
transposed time convolutions, a last ``(7, 3)`` convolution and a resize back to
``[B, S, nt, R]``. Conv blocks are convolution -> BatchNorm -> LeakyReLU(0.2) (GFI's decoder uses
Tanh activations; LeakyReLU trained faster here).

>>> import torch
>>> enc, dec = SeismicEncoder(latent_channels=16), SeismicDecoder(latent_channels=16)
>>> z = enc(torch.randn(2, 5, 1000, 70))
>>> tuple(z.shape), tuple(dec(z).shape)
((2, 16, 70, 70), (2, 5, 1000, 70))
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SeismicEncoder", "SeismicDecoder", "TIME_LAYERS"]

#: ``(kernel, stride, padding)`` along time of the five encoder layers (GFI's latent-70 setup)
TIME_LAYERS: tuple[tuple[int, int, int], ...] = (
    (7, 3, 3),
    (7, 2, 1),
    (5, 2, 1),
    (5, 1, 0),
    (5, 1, 0),
)
_WIDTHS = (8, 16, 32, 64)


def _check_sizes(**sizes) -> None:
    for name, v in sizes.items():
        if isinstance(v, tuple):
            ok = len(v) == 2 and all(isinstance(n, int) and n >= 1 for n in v)
        else:
            ok = isinstance(v, int) and v >= 1
        if not ok:
            raise ValueError(f"{name} must be a positive int (or a pair for sizes), got {v!r}")


def encoded_time(nt: int, layers=TIME_LAYERS) -> int:
    """Length of the time axis after the encoder's convolutions (before the resize)."""
    for k, s, p in layers:
        nt = (nt + 2 * p - k) // s + 1
        if nt < 1:
            raise ValueError(f"nt is too short for the encoder's time convolutions ({layers})")
    return nt


def _block(conv: nn.Module, c_out: int) -> nn.Sequential:
    return nn.Sequential(conv, nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2))


class SeismicEncoder(nn.Module):
    """``[B, shots, nt, receivers] -> [B, latent_channels, *latent_size]`` (time-only convs).

    Args:
        shots: number of shots (input channels).
        nt: time samples; receivers: receivers per shot.
        latent_channels: ``C`` of the latent grid.
        latent_size: ``(h, w)`` of the latent grid (default ``(70, 70)``).
        widths: channels of the first four layers (the fifth has ``latent_channels``).
    """

    def __init__(
        self,
        shots: int = 5,
        nt: int = 1000,
        receivers: int = 70,
        *,
        latent_channels: int = 128,
        latent_size: tuple[int, int] = (70, 70),
        widths: tuple[int, ...] = _WIDTHS,
    ) -> None:
        super().__init__()
        latent_size = tuple(latent_size)
        _check_sizes(shots=shots, nt=nt, receivers=receivers, latent_channels=latent_channels,
                     latent_size=latent_size)  # fmt: skip
        if len(widths) != len(TIME_LAYERS) - 1:
            raise ValueError(f"widths must have {len(TIME_LAYERS) - 1} entries, got {widths!r}")
        self.shots, self.nt, self.receivers = shots, nt, receivers
        self.latent_size = latent_size
        self.time_out = encoded_time(nt)
        chans = (shots, *widths, latent_channels)
        self.layers = nn.Sequential(
            *(
                _block(nn.Conv2d(chans[i], chans[i + 1], (k, 1), (s, 1), (p, 0)), chans[i + 1])
                for i, (k, s, p) in enumerate(TIME_LAYERS)
            )
        )

    def forward(self, p: torch.Tensor) -> torch.Tensor:
        """``p: [B, shots, nt, receivers] -> [B, C, h, w]``."""
        if p.ndim != 4 or tuple(p.shape[1:]) != (self.shots, self.nt, self.receivers):
            raise ValueError(
                f"seismic data must be [B, {self.shots}, {self.nt}, {self.receivers}], "
                f"got {list(p.shape)}"
            )
        z = self.layers(p)
        return F.interpolate(z, size=self.latent_size, mode="bilinear", align_corners=False)


class SeismicDecoder(nn.Module):
    """``[B, latent_channels, *latent_size] -> [B, shots, nt, receivers]`` (mirror of
    :class:`SeismicEncoder`: transposed time convolutions, then a ``(7, 3)`` convolution)."""

    def __init__(
        self,
        shots: int = 5,
        nt: int = 1000,
        receivers: int = 70,
        *,
        latent_channels: int = 128,
        latent_size: tuple[int, int] = (70, 70),
        widths: tuple[int, ...] = _WIDTHS,
    ) -> None:
        super().__init__()
        latent_size = tuple(latent_size)
        _check_sizes(shots=shots, nt=nt, receivers=receivers, latent_channels=latent_channels,
                     latent_size=latent_size)  # fmt: skip
        if len(widths) != len(TIME_LAYERS) - 1:
            raise ValueError(f"widths must have {len(TIME_LAYERS) - 1} entries, got {widths!r}")
        self.shots, self.nt, self.receivers = shots, nt, receivers
        self.latent_channels, self.latent_size = latent_channels, latent_size
        self.time_in = encoded_time(nt)
        chans = (latent_channels, *reversed(widths))
        self.layers = nn.Sequential(
            *(
                _block(
                    nn.ConvTranspose2d(chans[i], chans[i + 1], (k, 1), (s, 1), (p, 0)),
                    chans[i + 1],
                )
                for i, (k, s, p) in enumerate(reversed(TIME_LAYERS[1:]))
            ),
            _block(nn.ConvTranspose2d(chans[-1], chans[-1], (7, 1), (3, 1), (3, 0)), chans[-1]),
        )
        self.out = nn.Conv2d(chans[-1], shots, (7, 3), padding=(3, 1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``z: [B, C, h, w] -> [B, shots, nt, receivers]``."""
        if z.ndim != 4 or z.shape[1] != self.latent_channels:
            raise ValueError(
                f"latent must be [B, {self.latent_channels}, h, w], got {list(z.shape)}"
            )
        h = F.interpolate(z, size=(self.time_in, self.receivers), mode="bilinear",
                          align_corners=False)  # fmt: skip
        h = self.out(self.layers(h))
        return F.interpolate(h, size=(self.nt, self.receivers), mode="bilinear",
                             align_corners=False)  # fmt: skip
