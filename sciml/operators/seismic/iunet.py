"""An invertible U-Net (after Etmann, Ke and Schoenlieb, "iUNets", 2020), our implementation.

``[B, C, H, W] -> [B, C, H, W]``, bijective, with an exact :meth:`InvertibleUNet.inverse`.
Level ``i`` (``C_i = C * 2**i`` channels at ``H / 2**i``) applies ``blocks`` invertible layers
(an orthogonal 1x1 channel mixing then an additive coupling); on the way down the first half
of the channels is kept as the level's skip and the other half goes through an invertible
orthogonal downsampling (2x2 blocks -> 4x channels); on the way up a second, separately
learned, invertible upsampling brings the coarse features back, they are concatenated with
the skip and ``blocks`` more layers follow. Every piece is volume-preserving, so the network
is too (``log |det J| = 0``): a U-Net's multi-scale receptive field with an exact inverse.
It runs in float32 (or float64) even under bf16 autocast, so the inverse stays exact.

>>> import torch
>>> net = InvertibleUNet(8, levels=3, blocks=2).double()
>>> for p in net.parameters():
...     _ = torch.nn.init.normal_(p, std=0.1)
>>> x = torch.randn(2, 8, 16, 16, dtype=torch.float64)
>>> float((net.inverse(net(x)) - x).abs().max()) < 1e-10
True
"""

from __future__ import annotations

import torch
from torch import nn

from sciml.operators.seismic.invertible_layers import (
    AdditiveCoupling,
    InvertibleDownsampling,
    OrthogonalMixing,
)

__all__ = ["InvertibleUNet", "InvertibleSequence"]

_LOW = (torch.float16, torch.bfloat16)


class InvertibleSequence(nn.ModuleList):
    """Invertible layers applied in order; ``inverse`` undoes them in reverse order."""

    volume_preserving = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self:
            x = layer(x)
        return x

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        for layer in reversed(self):
            y = layer.inverse(y)
        return y


def _layers(channels: int, blocks: int, seed: int) -> InvertibleSequence:
    mods = []
    for k in range(blocks):
        mods += [OrthogonalMixing(channels, seed=seed + k), AdditiveCoupling(channels)]
    return InvertibleSequence(mods)


class InvertibleUNet(nn.Module):
    """Invertible U-Net ``[B, C, H, W] -> [B, C, H, W]`` (see the module docstring).

    Args:
        channels: ``C`` (even, at least 2).
        levels: resolution levels (``H`` and ``W`` must be divisible by ``2**(levels - 1)``).
        blocks: invertible layers (mixing + coupling) per level and side.
    """

    volume_preserving = True

    def __init__(self, channels: int, *, levels: int = 4, blocks: int = 4) -> None:
        super().__init__()
        if not isinstance(channels, int) or channels < 2 or channels % 2:
            raise ValueError(f"channels must be an even int >= 2, got {channels!r}")
        if not isinstance(levels, int) or not 1 <= levels <= 6:
            raise ValueError(f"levels must be an int in [1, 6], got {levels!r}")
        if not isinstance(blocks, int) or blocks < 1:
            raise ValueError(f"blocks must be a positive int, got {blocks!r}")
        self.channels, self.levels = channels, levels
        chans = [channels * 2**i for i in range(levels)]
        self.chans = chans
        self.down_layers = nn.ModuleList(_layers(c, blocks, 100 * i) for i, c in enumerate(chans))
        self.up_layers = nn.ModuleList(
            _layers(c, blocks, 100 * i + 50) for i, c in enumerate(chans[:-1])
        )
        self.downsample = nn.ModuleList(InvertibleDownsampling(c // 2) for c in chans[:-1])
        self.upsample = nn.ModuleList(InvertibleDownsampling(c // 2) for c in chans[:-1])

    def _check(self, x: torch.Tensor, name: str) -> None:
        m = 2 ** (self.levels - 1)
        if x.ndim != 4 or x.shape[1] != self.channels or x.shape[2] % m or x.shape[3] % m:
            raise ValueError(
                f"{name} must be [B, {self.channels}, H, W] with H, W divisible by {m}, "
                f"got {list(x.shape)}"
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x: [B, C, H, W] -> [B, C, H, W]`` (float32 at least, also under autocast)."""
        self._check(x, "x")
        with torch.autocast(x.device.type, enabled=False):
            return self._forward(x.float() if x.dtype in _LOW else x)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """``y: [B, C, H, W] -> x`` with ``forward(x) == y`` (exact up to round-off)."""
        self._check(y, "y")
        with torch.autocast(y.device.type, enabled=False):
            return self._inverse(y.float() if y.dtype in _LOW else y)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i in range(self.levels - 1):
            x = self.down_layers[i](x)
            half = self.chans[i] // 2
            skips.append(x[:, :half])
            x = self.downsample[i](x[:, half:])
        x = self.down_layers[-1](x)
        for i in reversed(range(self.levels - 1)):
            x = torch.cat([skips[i], self.upsample[i].inverse(x)], dim=1)
            x = self.up_layers[i](x)
        return x

    def _inverse(self, y: torch.Tensor) -> torch.Tensor:
        skips = []
        for i in range(self.levels - 1):
            y = self.up_layers[i].inverse(y)
            half = self.chans[i] // 2
            skips.append(y[:, :half])
            y = self.upsample[i](y[:, half:])
        y = self.down_layers[-1].inverse(y)
        for i in reversed(range(self.levels - 1)):
            y = torch.cat([skips[i], self.downsample[i].inverse(y)], dim=1)
            y = self.down_layers[i].inverse(y)
        return y
