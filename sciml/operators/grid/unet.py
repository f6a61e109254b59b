"""A plain U-Net for fields on 1-, 2- and 3-D grids (a baseline, and LSM's backbone).

The blocks here (:class:`ConvBlock`, :func:`conv`, :func:`norm_layer`, :func:`pad_to_multiple`,
:func:`coordinate_channels`) are shared with :mod:`sciml.operators.grid.lsm`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sciml.grid import Grid

__all__ = ["UNet", "ConvBlock"]

_INTERP = {1: "linear", 2: "bilinear", 3: "trilinear"}


def conv(ndim: int, c_in: int, c_out: int, kernel: int = 3, bias: bool = True) -> nn.Module:
    """``Conv{ndim}d`` with 'same' padding."""
    return getattr(nn, f"Conv{ndim}d")(c_in, c_out, kernel, padding=kernel // 2, bias=bias)


def norm_layer(ndim: int, channels: int, norm: str) -> nn.Module:
    """``"batch"`` -> BatchNorm, ``"instance"`` -> InstanceNorm (affine), ``"none"`` -> Identity."""
    if norm == "batch":
        return getattr(nn, f"BatchNorm{ndim}d")(channels)
    if norm == "instance":
        return getattr(nn, f"InstanceNorm{ndim}d")(channels, affine=True)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"norm must be 'batch', 'instance' or 'none', got {norm!r}")


class ConvBlock(nn.Sequential):
    """(conv 3 -> norm -> GELU) x 2 on ``[B, C_in, *S] -> [B, C_out, *S]``."""

    def __init__(self, ndim: int, c_in: int, c_out: int, norm: str = "batch") -> None:
        bias = norm == "none"
        super().__init__(
            conv(ndim, c_in, c_out, bias=bias),
            norm_layer(ndim, c_out, norm),
            nn.GELU(),
            conv(ndim, c_out, c_out, bias=bias),
            norm_layer(ndim, c_out, norm),
            nn.GELU(),
        )


def coordinate_channels(x: torch.Tensor) -> torch.Tensor:
    """Unit-box vertex coordinates of ``x: [B, C, *S]`` as ``[B, ndim, *S]`` (from :class:`Grid`)."""
    shape = tuple(x.shape[2:])
    grid = Grid(tuple(max(n, 2) for n in shape))
    coords = grid.coords(device=x.device, dtype=x.dtype)
    coords = coords[(slice(None),) + tuple(slice(0, n) for n in shape)]
    return coords.unsqueeze(0).expand(x.shape[0], *coords.shape)


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, ...]]:
    """Zero-pad the spatial axes of ``x: [B, C, *S]`` at their high ends to a multiple.

    Returns the padded tensor and the original spatial shape (to crop back).
    """
    shape = tuple(x.shape[2:])
    pads: list[int] = []
    for n in reversed(shape):  # F.pad lists the last axis first
        pads += [0, (-n) % multiple]
    if any(pads):
        x = F.pad(x, pads)
    return x, shape


def crop(x: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """Crop the spatial axes of ``x: [B, C, *S']`` back to ``shape``."""
    return x[(slice(None), slice(None)) + tuple(slice(0, n) for n in shape)]


def check_input(x: torch.Tensor, in_channels: int, ndim: int, name: str = "x") -> None:
    """Clear error unless ``x`` is ``[B, in_channels, *S]`` with ``len(S) == ndim``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor [B, C, *S], got {type(x)}")
    if x.ndim != ndim + 2 or x.shape[1] != in_channels:
        raise ValueError(
            f"{name} must have shape [B, {in_channels}, *S] with {ndim} spatial axes, "
            f"got {list(x.shape)}"
        )


class UNet(nn.Module):
    """U-Net ``[B, in_channels, *S] -> [B, out_channels, *S]`` on a 1-, 2- or 3-D grid.

    Lift (with unit-box coordinate channels) -> ``levels`` x (max-pool 2, ConvBlock, channels
    x2, the bottleneck keeping the last encoder level's ``width * 2**(levels-1)``) -> decoder
    (interpolate to the skip's size, concatenate the skip, ConvBlock halving the channels) ->
    2-layer pointwise projection.
    Any input size works: the grid is zero-padded to a multiple of ``2**levels`` and cropped back.

    Args:
        in_channels, out_channels: channels of input and output fields.
        width: channels at the finest level.
        ndim: number of spatial axes (1, 2 or 3).
        levels: number of down-samplings.
        norm: ``"batch"``, ``"instance"`` or ``"none"``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        width: int = 32,
        ndim: int = 2,
        levels: int = 4,
        norm: str = "batch",
        projection: int = 128,
    ) -> None:
        super().__init__()
        _check_common(in_channels, out_channels, width, ndim, levels)
        self.in_channels, self.out_channels, self.ndim, self.levels = (
            in_channels,
            out_channels,
            ndim,
            levels,
        )
        self.channels = level_channels(width, levels)
        self.lift = ConvBlock(ndim, in_channels + ndim, width, norm)
        self.down = nn.ModuleList(
            ConvBlock(ndim, self.channels[i], self.channels[i + 1], norm) for i in range(levels)
        )
        up, h = [], self.channels[-1]
        for i in reversed(range(levels)):  # decoder halves channels on the way up
            c_out = self.channels[max(i - 1, 0)]
            up.append(ConvBlock(ndim, h + self.channels[i], c_out, norm))
            h = c_out
        self.up = nn.ModuleList(up)
        self.project = nn.Sequential(
            conv(ndim, width, projection, 1), nn.GELU(), conv(ndim, projection, out_channels, 1)
        )

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = [self.lift(torch.cat([x, coordinate_channels(x)], dim=1))]
        for block in self.down:
            feats.append(block(_pool(feats[-1])))
        return feats

    def decode(self, feats: list[torch.Tensor]) -> torch.Tensor:
        h = feats[-1]
        for block, skip in zip(self.up, reversed(feats[:-1])):
            h = F.interpolate(h, size=skip.shape[2:], mode=_INTERP[self.ndim], align_corners=False)
            h = block(torch.cat([h, skip], dim=1))
        return self.project(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x: [B, in_channels, *S] -> [B, out_channels, *S]``."""
        check_input(x, self.in_channels, self.ndim)
        x, shape = pad_to_multiple(x, 2**self.levels)
        return crop(self.decode(self.encode(x)), shape)


def level_channels(width: int, levels: int) -> list[int]:
    """Channels per level: ``width * 2**i`` for the encoder, the bottleneck repeats the last."""
    chans = [width * 2**i for i in range(levels)]
    return chans + [chans[-1]]


def _pool(x: torch.Tensor) -> torch.Tensor:
    return getattr(F, f"max_pool{x.ndim - 2}d")(x, 2)


def _check_common(in_channels, out_channels, width, ndim, levels) -> None:
    for name, v in (("in_channels", in_channels), ("out_channels", out_channels), ("width", width)):
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    if ndim not in (1, 2, 3):
        raise ValueError(f"ndim must be 1, 2 or 3, got {ndim!r}")
    if not isinstance(levels, int) or not 0 <= levels <= 6:
        raise ValueError(f"levels must be an int in [0, 6], got {levels!r}")


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (complex parameters count two reals)."""
    return sum(
        p.numel() * (2 if p.is_complex() else 1) for p in model.parameters() if p.requires_grad
    )
