"""The fully convolutional network of the deep conjugate direction method (2-D and 3-D).

:class:`DCDMNet` maps a normalised residual field plus geometry channels to a search
direction field (an approximation of ``A^{-1} r`` up to scale), after Kaneda et al.,
"A Deep Conjugate Direction Method for Iteratively Solving Linear Systems", ICML 2023:
residual blocks at the grid resolution, one average-pooling level with more residual blocks,
upsampling and a skip connection, about 16 channels. Being fully convolutional, a model
trained at 64^3 runs unchanged at 128^3.

Two choices of ours beyond the paper:

* geometry channels: the fluid indicator and ``log10(a) / 3`` (variable coefficient), plus a
  one-cell frame around the box that tells the first convolution which sides are Dirichlet
  (frame value -1 in the fluid channel) and which are Neumann (0);
* the coarse-level residual blocks use dilated convolutions (dilation 1, 2, 4, 8, ...), which
  widens the receptive field to ~60 cells for little cost, since a conjugate-direction
  preconditioner must move information across the domain.

Shapes: ``r: [B, *shape]`` (residual field, zero in solid cells), ``geometry: [G, *(shape+2)]``
(from :func:`geometry_features`), output ``[B, *shape]`` (zero in solid cells).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["DCDMNet", "geometry_features", "GEOMETRY_CHANNELS"]

GEOMETRY_CHANNELS = 2
_SIDES = ("x-", "x+", "y-", "y+", "z-", "z+")


def geometry_features(
    active: torch.Tensor,
    walls: dict[str, str] | None = None,
    coefficient: torch.Tensor | None = None,
    *,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Geometry input channels ``[2, *(shape + 2)]`` (a one-cell frame around the box).

    Channel 0: 1 in fluid cells, 0 in solid cells; on the frame -1 next to a Dirichlet side,
    0 next to a Neumann side (``walls`` as in :func:`sciml.physics.elliptic.assemble_elliptic`,
    default all Dirichlet). Channel 1: ``log10(a) / 3`` in fluid cells (0 for ``a = 1``).

    Args:
        active: ``bool [*shape]``, True = fluid (an unknown).
        walls: side -> ``"dirichlet"`` / ``"neumann"``.
        coefficient: ``a > 0`` per cell ``[*shape]`` or None (= 1).
    """
    if not isinstance(active, torch.Tensor) or active.dtype != torch.bool:
        raise TypeError("active must be a bool tensor [*shape]")
    ndim = active.ndim
    if ndim not in (2, 3):
        raise ValueError(f"active must be 2-D or 3-D, got {ndim}-D")
    sides = _SIDES[: 2 * ndim]
    walls = {k: "dirichlet" for k in sides} | {k: v.lower() for k, v in (walls or {}).items()}
    fluid = active.to(dtype)
    f = F.pad(fluid, (1, 1) * ndim)
    for axis in range(ndim):
        for side, pos in (("-", 0), ("+", -1)):
            if walls["xyz"[axis] + side] == "dirichlet":
                idx = [slice(1, -1)] * ndim
                idx[axis] = pos
                f[tuple(idx)] = -1.0
    if coefficient is None:
        c = torch.zeros_like(fluid)
    else:
        a = torch.as_tensor(coefficient, dtype=torch.float64)
        if a.shape != active.shape:
            raise ValueError(
                f"coefficient must have shape {list(active.shape)}, got {list(a.shape)}"
            )
        c = torch.where(active, torch.log10(a.clamp_min(1e-30)) / 3.0, 0.0).to(dtype)
    c = F.pad(c, (1, 1) * ndim)
    return torch.stack([f, c])


class _ResBlock(nn.Module):
    def __init__(self, conv, channels: int, dilation: int = 1) -> None:
        super().__init__()
        self.c1 = conv(channels, channels, 3, padding=dilation, dilation=dilation)
        self.c2 = conv(channels, channels, 3, padding=dilation, dilation=dilation)
        self.act = nn.PReLU(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.c2(self.act(self.c1(x))))


class DCDMNet(nn.Module):
    """Residual -> search direction, fully convolutional.

    Args:
        ndim: 2 or 3.
        channels: feature channels (paper: 16).
        fine_blocks: residual blocks at full resolution before and after the coarse level.
        coarse_blocks: residual blocks at half resolution (dilations 1, 2, 4, 8, 1, 2, ...).
    """

    def __init__(
        self, ndim: int = 3, channels: int = 16, fine_blocks: int = 1, coarse_blocks: int = 4
    ) -> None:
        super().__init__()
        if ndim not in (2, 3):
            raise ValueError(f"ndim must be 2 or 3, got {ndim}")
        self.config = dict(
            ndim=ndim, channels=channels, fine_blocks=fine_blocks, coarse_blocks=coarse_blocks
        )
        self.ndim = ndim
        conv = nn.Conv3d if ndim == 3 else nn.Conv2d
        self.stem = conv(1 + GEOMETRY_CHANNELS, channels, 3, padding=0)
        self.stem_act = nn.PReLU(channels)
        self.fine_in = nn.Sequential(*[_ResBlock(conv, channels) for _ in range(fine_blocks)])
        self.coarse = nn.Sequential(
            *[_ResBlock(conv, channels, dilation=2 ** (i % 4)) for i in range(coarse_blocks)]
        )
        self.fine_out = nn.Sequential(*[_ResBlock(conv, channels) for _ in range(fine_blocks)])
        self.head = conv(channels, 1, 3, padding=1)
        self._pool = F.avg_pool3d if ndim == 3 else F.avg_pool2d

    def forward(self, r: torch.Tensor, geometry: torch.Tensor) -> torch.Tensor:
        """``r: [B, *shape]``, ``geometry: [G, *(shape+2)]`` -> direction ``[B, *shape]``."""
        nd = self.ndim
        if r.ndim != nd + 1:
            raise ValueError(f"r must be [B, *shape] with a {nd}-D shape, got {list(r.shape)}")
        shape = tuple(r.shape[1:])
        if geometry.ndim != nd + 1 or tuple(geometry.shape[1:]) != tuple(s + 2 for s in shape):
            raise ValueError(
                f"geometry must be [{GEOMETRY_CHANNELS}, *(shape+2)] = "
                f"{[GEOMETRY_CHANNELS, *(s + 2 for s in shape)]}, got {list(geometry.shape)}"
            )
        B = r.shape[0]
        g = geometry.to(r.dtype)
        x = torch.cat([F.pad(r, (1, 1) * nd)[:, None], g[None].expand(B, *g.shape)], dim=1)
        x = self.stem_act(self.stem(x))
        skip = self.fine_in(x)
        y = self._pool(skip, 2, ceil_mode=True)
        y = self.coarse(y)
        y = F.interpolate(y, size=shape, mode="nearest")
        x = self.fine_out(skip + y)
        out = self.head(x)[:, 0]
        fluid = (g[(0, *(slice(1, -1),) * nd)] > 0).to(out.dtype)
        return out * fluid
