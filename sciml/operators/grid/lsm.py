"""Latent Spectral Models (LSM; Wu, Hu, Luo, Wang, Long, ICML 2023), for 1-, 2- and 3-D grids.

Idea (re-implemented from the paper, not from its code): a U-Net backbone whose skip features
and bottleneck each pass through a *neural spectral block*:

1. the feature map ``[B, C, *S]`` is cut into patches (more patches at fine levels, one patch
   at coarse ones), so attention stays local and cheap;
2. **latent tokens attend to pixels**: ``T`` learnable tokens per head query the pixels of each
   patch (keys/values from a linear map of the pixel features), compressing a patch of ``N``
   pixels into ``T`` latent vectors;
3. **latent spectral transform**: each token's features ``z`` are expanded in a fixed sine/cosine
   basis, ``sin(w_k z), cos(w_k z)`` with ``w_k = pi k / K`` (``k = 0..K-1``), and a learned
   linear map of those ``2K`` coefficients (per head, mixing features) is added to ``z`` --
   a neural operator on the latent space built from trigonometric basis functions;
4. **pixels attend back** to the transformed tokens, and the result is added to the features.

Unlike the published code, patch counts and padding are derived from the input shape at every
call (so the same model runs at any resolution), nothing assumes CUDA, and attention uses
``F.scaled_dot_product_attention`` (fused kernels on GPU, plain math on CPU).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from sciml.operators.grid.unet import (
    UNet,
    _check_common,
    check_input,
    crop,
    level_channels,
    pad_to_multiple,
)

__all__ = ["LSM", "NeuralSpectralBlock", "patch_counts"]


def patch_counts(patches: int | tuple[int, ...], ndim: int, levels: int) -> list[tuple[int, ...]]:
    """Patch counts per axis at each level ``0..levels``: halved per level, at least 1."""
    p0 = (patches,) * ndim if isinstance(patches, int) else tuple(patches)
    if len(p0) != ndim or any(int(p) < 1 for p in p0):
        raise ValueError(f"patches must be a positive int or {ndim} positive ints, got {patches!r}")
    return [tuple(max(1, int(p) // 2**lvl) for p in p0) for lvl in range(levels + 1)]


def pad_multiple(counts: list[tuple[int, ...]], levels: int) -> int:
    """Smallest ``m`` such that a size divisible by ``m`` pools ``levels`` times and splits
    into the patch counts of every level."""
    m = 2**levels
    for lvl, pc in enumerate(counts):
        for p in pc:
            m = math.lcm(m, p * 2**lvl)
    return m


def patchify(x: torch.Tensor, counts: tuple[int, ...]) -> torch.Tensor:
    """``[B, C, *S] -> [B * P, N, C]`` with ``P = prod(counts)`` patches of ``N`` pixels."""
    b, c, *shape = x.shape
    nd = len(shape)
    split = [b, c]
    for n, p in zip(shape, counts):
        split += [p, n // p]
    x = x.reshape(split)
    # axes: 0 b, 1 c, then (2 + 2i) patch index i, (3 + 2i) pixel-in-patch index i
    perm = [0] + [2 + 2 * i for i in range(nd)] + [3 + 2 * i for i in range(nd)] + [1]
    x = x.permute(perm)
    return x.reshape(b * math.prod(counts), -1, c)


def unpatchify(p: torch.Tensor, counts: tuple[int, ...], shape: tuple[int, ...]) -> torch.Tensor:
    """Inverse of :func:`patchify`: ``[B * P, N, C] -> [B, C, *shape]``."""
    nd = len(shape)
    c = p.shape[-1]
    sizes = [n // q for n, q in zip(shape, counts)]
    x = p.reshape(-1, *counts, *sizes, c)
    perm = [0, 1 + 2 * nd]
    for i in range(nd):
        perm += [1 + i, 1 + nd + i]
    return x.permute(perm).reshape(x.shape[0], c, *shape)


class NeuralSpectralBlock(nn.Module):
    """One neural spectral block on ``[B, C, *S]`` (see the module docstring).

    Args:
        channels: ``C``; must be divisible by ``heads``.
        heads: attention heads (each works on ``C / heads`` features).
        tokens: latent tokens per head.
        basis: number ``K`` of frequencies in the sine/cosine expansion.
    """

    def __init__(self, channels: int, heads: int = 8, tokens: int = 4, basis: int = 12) -> None:
        super().__init__()
        if channels % heads:
            raise ValueError(f"channels ({channels}) must be divisible by heads ({heads})")
        if tokens < 1 or basis < 1:
            raise ValueError(f"tokens and basis must be >= 1, got {tokens}, {basis}")
        self.heads, self.dim = heads, channels // heads
        d = self.dim
        self.norm = nn.LayerNorm(channels)
        self.latent = nn.Parameter(torch.randn(heads, tokens, d) / math.sqrt(d))
        self.to_kv = nn.Linear(channels, 2 * channels)
        self.to_q = nn.Linear(channels, channels)
        self.register_buffer("freqs", math.pi * torch.arange(basis) / basis, persistent=False)
        self.spectral = nn.Parameter(torch.randn(heads, d, d, 2 * basis) / (d * 2 * basis))
        self.out = nn.Linear(channels, channels)

    def _heads(self, t: torch.Tensor) -> torch.Tensor:  # [M, N, C] -> [M, h, N, d]
        return t.reshape(t.shape[0], t.shape[1], self.heads, self.dim).transpose(1, 2)

    def latent_transform(self, z: torch.Tensor) -> torch.Tensor:
        """``z: [M, h, T, d]`` -> ``z + sum_k W_k [sin(w_k z), cos(w_k z)]``, same shape."""
        # tiny tensors: computed in float32 even under bf16 autocast (sin/cos of bf16 args
        # would lose the basis' accuracy)
        with torch.autocast(z.device.type, enabled=False):
            dtype = torch.promote_types(z.dtype, torch.float32)
            zf = z.to(dtype)
            arg = zf.unsqueeze(-1) * self.freqs.to(dtype)
            basis = torch.cat([torch.sin(arg), torch.cos(arg)], dim=-1)  # [M, h, T, d, 2K]
            out = zf + torch.einsum("mhtik,hiok->mhto", basis, self.spectral.to(dtype))
        return out.to(z.dtype)

    def forward(self, x: torch.Tensor, counts: tuple[int, ...]) -> torch.Tensor:
        """``x: [B, C, *S]`` with ``S`` divisible by ``counts`` -> ``[B, C, *S]``."""
        shape = tuple(x.shape[2:])
        p = self.norm(patchify(x, counts))  # [M, N, C]
        k, v = (self._heads(t) for t in self.to_kv(p).chunk(2, dim=-1))
        q = self.latent.to(p.dtype).unsqueeze(0).expand(p.shape[0], -1, -1, -1)
        z = F.scaled_dot_product_attention(q, k, v)  # tokens attend to pixels: [M, h, T, d]
        z = self.latent_transform(z)
        back = F.scaled_dot_product_attention(self._heads(self.to_q(p)), z, z)  # [M, h, N, d]
        back = back.transpose(1, 2).reshape(p.shape)
        return x + unpatchify(self.out(back), counts, shape)


class LSM(nn.Module):
    """Latent Spectral Model ``[B, in_channels, *S] -> [B, out_channels, *S]``.

    A :class:`~sciml.operators.grid.unet.UNet` backbone (``levels`` down-samplings, channels
    ``width * 2**i``) whose ``levels + 1`` feature maps (skips and bottleneck) each pass through
    a :class:`NeuralSpectralBlock` before decoding. The input is zero-padded at the high ends to
    a size that pools ``levels`` times and splits into the patches of every level, and cropped
    back at the end, so any grid size works (85x85, 64x64, 33x47, ...).

    Args:
        in_channels, out_channels: channels of input and output fields.
        width: channels at the finest level (published LSM: 64 for Darcy, 2D).
        ndim: number of spatial axes (1, 2 or 3).
        levels: number of down-samplings of the U-Net.
        heads: attention heads in every spectral block (must divide ``width``).
        tokens: latent tokens per head.
        basis: sine/cosine frequencies of the latent spectral transform.
        patches: patch count per axis at the finest level (an int or one per axis);
            halved at each coarser level, never below 1.
        norm: ``"batch"`` or ``"instance"`` (or ``"none"``) in the convolution blocks.
        projection: hidden channels of the output projection.

    >>> m = LSM(1, 1, width=8, heads=2, levels=2)
    >>> m(torch.randn(2, 1, 21, 13)).shape
    torch.Size([2, 1, 21, 13])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        width: int = 32,
        ndim: int = 2,
        levels: int = 4,
        heads: int = 8,
        tokens: int = 4,
        basis: int = 12,
        patches: int | tuple[int, ...] = 4,
        norm: str = "batch",
        projection: int = 128,
    ) -> None:
        super().__init__()
        _check_common(in_channels, out_channels, width, ndim, levels)
        if not isinstance(heads, int) or heads < 1 or width % heads:
            raise ValueError(f"heads must be a positive int dividing width={width}, got {heads!r}")
        self.in_channels, self.out_channels, self.ndim, self.levels = (
            in_channels,
            out_channels,
            ndim,
            levels,
        )
        self.counts = patch_counts(patches, ndim, levels)
        self.multiple = pad_multiple(self.counts, levels)
        self.backbone = UNet(
            in_channels,
            out_channels,
            width=width,
            ndim=ndim,
            levels=levels,
            norm=norm,
            projection=projection,
        )
        self.spectral = nn.ModuleList(
            NeuralSpectralBlock(c, heads, tokens, basis) for c in level_channels(width, levels)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x: [B, in_channels, *S] -> [B, out_channels, *S]``."""
        check_input(x, self.in_channels, self.ndim)
        x, shape = pad_to_multiple(x, self.multiple)
        feats = self.backbone.encode(x)
        feats = [blk(f, c) for blk, f, c in zip(self.spectral, feats, self.counts)]
        return crop(self.backbone.decode(feats), shape)
