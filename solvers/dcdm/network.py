"""The DCDM network: a multi-level, fully convolutional map from a residual to a search direction.

:class:`DCDMNet` approximates ``A^{-1} r`` (up to scale) for the Jacobi-scaled system
``D^(-1/2) A D^(-1/2)`` whose stencil it reads as geometry channels
(:func:`~sciml.solvers.dcdm.features.stencil_features`). Its shape is a multigrid V-cycle:

.. code-block:: text

    level 0 (n)     e0 = G ⊙ (w r)  (pointwise lift) ──────────── + ─► d0 = G ⊙ conv(.) ─► q
                        │ avg-pool 2                                ▲ gamma · nearest x2 (1x1 lift)
    level 1 (n/2)   e1 = G ⊙ conv(e0) ─────────────────────── + ─► d1 = G ⊙ conv(.)
                        │ ...                                       ▲ ...
    level L (<= 4)  eL ─────────────────────────────────────────► dL            (a few cells)

Levels are added until the coarsest has at most ``coarsest`` cells per side, so the number of
levels grows with ``log2 n``: the receptive field always spans the box, and one model serves
16^3 to 256^3, odd and non-power-of-two sizes included (pooling rounds up; upsampling returns
to the exact finer size). Levels 0 and 1 have their own weights; levels 2 and deeper share one
set (a recursive V-cycle), so the parameter count does not depend on ``n``.

Two design choices:

* **linear in the residual.** The residual path has no bias and no activation; the geometry
  enters through multiplicative gates ``G = 2 sigmoid(conv1x1(t))`` in ``(0, 2)``, computed
  by a separate, nonlinear geometry branch ``t`` (bounded SiLU/tanh convolutions on the
  stencil channels, pooled level by level). So ``f(c r) = c f(r)`` for every real ``c`` (the
  direction is a *linear* operator of the residual, spatially varying with the geometry, like
  the stencil-dependent kernels of multigrid), and the geometry branch runs once per system,
  not once per iteration (:meth:`DCDMNet.gates`).
* **level gain.** The coarse-level correction is multiplied by a learned gain ``gamma`` (the
  inverse of a Laplacian grows ~4x per coarsening; initialised at 4) before it joins the finer
  level.

Shapes: ``r: [B, 1, *shape]``, ``features: [1 or B, 2 + 2 ndim, *shape]``, output
``[B, 1, *shape]`` (zero in solid cells).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from sciml.solvers.dcdm.features import num_feature_channels

__all__ = ["DCDMNet", "Gates", "level_shapes"]


def _use_onednn(x: torch.Tensor) -> bool:
    return (
        x.device.type == "cpu" and x.dtype == torch.float32 and torch.backends.mkldnn.is_available()
    )


class _Conv3d(nn.Conv3d):
    """``nn.Conv3d`` that calls oneDNN directly for float32 CPU tensors.

    torch's dispatcher sends small single-sample 3-D convolutions to its slow reference kernel
    (10-20x slower here for channels-last inputs); the oneDNN kernel has autograd support too.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _use_onednn(x) and self.padding_mode == "zeros":
            return torch.mkldnn_convolution(
                x, self.weight, self.bias, self.padding, self.stride, self.dilation, self.groups
            )
        return super().forward(x)


class _Conv2d(nn.Conv2d):
    """``nn.Conv2d`` that calls oneDNN directly for float32 CPU tensors (see :class:`_Conv3d`)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _use_onednn(x) and self.padding_mode == "zeros":
            return torch.mkldnn_convolution(
                x, self.weight, self.bias, self.padding, self.stride, self.dilation, self.groups
            )
        return super().forward(x)


def level_shapes(shape: tuple[int, ...], coarsest: int = 4) -> list[tuple[int, ...]]:
    """Grid shapes of the V-cycle levels: halve (rounding up) until every side is <= coarsest."""
    shapes = [tuple(int(s) for s in shape)]
    while max(shapes[-1]) > coarsest:
        shapes.append(tuple((s + 1) // 2 for s in shapes[-1]))
    return shapes


class _GatedConvs(nn.Module):
    """``depth`` bias-free convolutions, each followed by a geometry gate (linear in x)."""

    def __init__(self, conv, c_in: int, c_out: int, depth: int, kernel: int = 3) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            [
                conv(c_in if i == 0 else c_out, c_out, kernel, padding=kernel // 2, bias=False)
                for i in range(depth)
            ]
        )

    def forward(self, x: torch.Tensor, gates: list[torch.Tensor]) -> torch.Tensor:
        for conv, g in zip(self.convs, gates):
            x = g * conv(x)
        return x


class _GeometryLevel(nn.Module):
    """Geometry embedding of one level and its gates (nonlinear in the stencil channels).

    The embedding is bounded (``tanh``) and so are the gates (``2 sigmoid``, in ``(0, 2)``):
    the shared deeper level is applied recursively, once per level, and an unbounded recursion
    would grow geometrically with the number of levels (i.e. with the grid size).
    """

    def __init__(self, conv, c_in: int, c_geo: int, gate_channels: list[int]) -> None:
        super().__init__()
        self.c1 = conv(c_in, c_geo, 3, padding=1)
        self.c2 = conv(c_geo, c_geo, 3, padding=1)
        self.heads = nn.ModuleList([conv(c_geo, c, 1) for c in gate_channels])
        for h in self.heads:  # gates start at 1: the network starts as a plain linear U-Net
            nn.init.zeros_(h.weight)
            nn.init.zeros_(h.bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        t = F.silu(self.c1(x))
        t = torch.tanh(self.c2(t) + t)
        return t, [2.0 * torch.sigmoid(h(t)) for h in self.heads]


class Gates:
    """The per-level gates and fluid mask of one geometry (computed once per system).

    Attributes:
        shapes: level grid shapes.
        enc, dec: per level, the encoder / decoder gate tensors ``[1 or B, C_l, *shape_l]``.
        mask: ``[1 or B, 1, *shape]`` fluid indicator of the finest level.
    """

    def __init__(self, shapes, enc, dec, mask) -> None:
        self.shapes, self.enc, self.dec, self.mask = shapes, enc, dec, mask

    def to(self, dtype: torch.dtype) -> Gates:
        """The gates cast to ``dtype`` (e.g. for a float64 residual)."""
        cast = [[g.to(dtype) for g in lv] for lv in self.enc]
        castd = [[g.to(dtype) for g in lv] for lv in self.dec]
        return Gates(self.shapes, cast, castd, self.mask.to(dtype))


class DCDMNet(nn.Module):
    """Residual -> search direction, multi-level and fully convolutional (see module docstring).

    Args:
        ndim: 2 or 3.
        channels: residual-path channels of level 0 and of levels >= 1.
        geometry_channels: geometry-branch channels of level 0 and of levels >= 1.
        depth: gated convolutions per encoder and per decoder block: level 0, level 1, deeper.
        coarsest: largest side of the coarsest level.
    """

    def __init__(
        self,
        ndim: int = 3,
        channels: tuple[int, int] = (8, 16),
        geometry_channels: tuple[int, int] = (8, 16),
        depth: tuple[int, int, int] = (1, 1, 2),
        coarsest: int = 4,
    ) -> None:
        super().__init__()
        if ndim not in (2, 3):
            raise ValueError(f"ndim must be 2 or 3, got {ndim}")
        if coarsest < 1:
            raise ValueError(f"coarsest must be >= 1, got {coarsest}")
        if len(channels) != 2 or len(geometry_channels) != 2 or len(depth) != 3:
            raise ValueError(
                "channels and geometry_channels need 2 entries (level 0, levels >= 1), depth 3 "
                f"(level 0, level 1, deeper); got {channels}, {geometry_channels}, {depth}"
            )
        c0, c = (int(v) for v in channels)
        g0, g = (int(v) for v in geometry_channels)
        depth = tuple(int(v) for v in depth)
        if min(c0, c, g0, g, *depth) < 1:
            raise ValueError("channels, geometry_channels and depth must be >= 1")
        self.config = dict(
            ndim=ndim, channels=[c0, c], geometry_channels=[g0, g], depth=list(depth),
            coarsest=coarsest,
        )  # fmt: skip
        self.spec = {"name": "dcdm-net", "kwargs": dict(self.config)}
        self.ndim = ndim
        self.coarsest = coarsest
        self._depth = depth
        self._width = (c0, c, c)
        conv = _Conv3d if ndim == 3 else _Conv2d
        nf = num_feature_channels(ndim)
        self._pool = F.avg_pool3d if ndim == 3 else F.avg_pool2d
        # residual path (linear): level 0, level 1, shared deeper levels
        ins = (1, c0, c)
        # level 0 lifts the residual pointwise (a 3x3x3 convolution of one channel is slow on
        # CPUs and the decoder's convolutions mix space at that level anyway)
        self.enc = nn.ModuleList(
            [
                _GatedConvs(conv, ins[i], self._width[i], depth[i], kernel=1 if i == 0 else 3)
                for i in range(3)
            ]
        )
        self.dec = nn.ModuleList(
            [_GatedConvs(conv, self._width[i], self._width[i], depth[i]) for i in range(3)]
        )
        self.lift = conv(c, c0, 1, bias=False)  # level-1 output -> level-0 channels
        self.head = conv(c0, 1, 1, bias=False)
        # geometry branch (nonlinear), same level structure; gates for enc and dec convs
        gin = (nf, g0 + nf, g + nf)
        gw = (g0, g, g)
        self.geo = nn.ModuleList(
            [
                _GeometryLevel(conv, gin[i], gw[i], [self._width[i]] * (2 * depth[i]))
                for i in range(3)
            ]
        )
        self.log_gain = nn.Parameter(torch.tensor(math.log(4.0)))
        if ndim == 3:  # channels-last convolutions are 1.5-2x faster on CPUs (oneDNN)
            self.to(memory_format=torch.channels_last_3d)

    @staticmethod
    def _slot(level: int) -> int:
        return min(level, 2)

    def gates(self, features: torch.Tensor) -> Gates:
        """Run the geometry branch: ``features [1 or B, 2 + 2 ndim, *shape]`` -> :class:`Gates`."""
        nd = self.ndim
        if features.ndim != nd + 2 or features.shape[1] != num_feature_channels(nd):
            raise ValueError(
                f"features must be [B, {num_feature_channels(nd)}, *shape] ({nd}-D), got "
                f"{list(features.shape)}"
            )
        shapes = level_shapes(tuple(features.shape[2:]), self.coarsest)
        enc, dec = [], []
        raw, t = features, None
        for level in range(len(shapes)):
            if level > 0:
                raw = self._pool(raw, 2, ceil_mode=True)
                inp = torch.cat([self._pool(t, 2, ceil_mode=True), raw], dim=1)
            else:
                inp = raw
            t, gs = self.geo[self._slot(level)](inp)
            k = self._depth[self._slot(level)]
            enc.append(gs[:k])
            dec.append(gs[k:])
        mask = (features[:, :1] > 0.5).to(features.dtype)
        return Gates(shapes, enc, dec, mask)

    def forward(
        self, r: torch.Tensor, features: torch.Tensor | None = None, *, gates: Gates | None = None
    ) -> torch.Tensor:
        """``r: [B, 1, *shape]`` (scaled residual) -> direction ``[B, 1, *shape]``.

        Pass the geometry as ``features`` (``[1 or B, C, *shape]``) or precomputed ``gates``.
        """
        nd = self.ndim
        if r.ndim != nd + 2 or r.shape[1] != 1:
            raise ValueError(f"r must be [B, 1, *shape] with a {nd}-D shape, got {list(r.shape)}")
        if gates is None:
            if features is None:
                raise ValueError("pass features or gates")
            gates = self.gates(features.to(r.dtype))
        if tuple(r.shape[2:]) != gates.shapes[0]:
            raise ValueError(
                f"r has grid shape {list(r.shape[2:])} but the geometry is {list(gates.shapes[0])}"
            )
        levels = len(gates.shapes)
        skips = []
        x = r * gates.mask
        for level in range(levels):
            if level > 0:
                x = self._pool(x, 2, ceil_mode=True)
            x = self.enc[self._slot(level)](x, gates.enc[level])
            if level == 0:
                x = x * gates.mask
            skips.append(x)
        gain = self.log_gain.exp()
        y = None
        for level in reversed(range(levels)):
            x = skips[level]
            if y is not None:
                if level == 0:
                    y = self.lift(y)
                x = x + gain * F.interpolate(y, size=gates.shapes[level], mode="nearest")
            y = self.dec[self._slot(level)](x, gates.dec[level])
        return self.head(y) * gates.mask
