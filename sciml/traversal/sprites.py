"""A dSprites-style image set rendered procedurally (no download): five known factors.

dSprites (Matthey et al. 2017) shows one white shape on black and varies five independent
factors over a full grid: shape (square, ellipse, heart), scale, orientation, x and y. Its
factors are known, so disentanglement can be measured (MIG, DCI). This module renders the same
kind of set from implicit shape functions with anti-aliasing (``supersample`` x
``supersample`` sub-pixels), at any size, in a few seconds, bit-for-bit reproducibly.

One deliberate difference: dSprites turns every shape through a full circle, so a square at
0 and 90 degrees (an ellipse at 0 and 180) are the same image and the orientation factor is
not identifiable from the pixels. Here the default orientation range is ``[0, pi/4)``, where
every shape's orientation is visible (a square's symmetry period is ``pi/2``).

>>> s = sprites(10, size=16, seed=0)
>>> tuple(s.images.shape), tuple(s.factors.shape), s.names
((10, 1, 16, 16), (10, 5), ('shape', 'scale', 'orientation', 'x', 'y'))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["SHAPES", "FACTORS", "SpriteSet", "render_sprites", "sprites", "sprite_grid_values"]

SHAPES = ("square", "ellipse", "heart")
FACTORS = ("shape", "scale", "orientation", "x", "y")
_DEFAULT_SIZES = (3, 6, 8, 16, 16)


def _inside(shape: int, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Indicator of one shape in its own frame (``u`` right, ``v`` up, unit radius)."""
    if shape == 0:  # square of side 1.6 (half-diagonal 1.13)
        return torch.maximum(u.abs(), v.abs()) <= 0.8
    if shape == 1:  # ellipse with axes 1 and 0.5
        return u**2 + (2.0 * v) ** 2 <= 1.0
    hu, hv = 1.15 * u, 1.15 * v + 0.15  # the classic heart curve, centred, within r <= 1.1
    return (hu**2 + hv**2 - 1.0) ** 3 - hu**2 * hv**3 <= 0.0


_EXTENT = 1.15  # every shape lies within this many radii of its centre


def render_sprites(
    shape: torch.Tensor,
    scale: torch.Tensor,
    orientation: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    size: int = 32,
    supersample: int = 4,
    radius: float = 0.16,
    chunk: int = 2048,
) -> torch.Tensor:
    """Render sprites: ``[N]`` factor values -> images ``[N, 1, size, size]`` in ``[0, 1]``.

    Each shape is rasterised only in the square patch of pixels that can contain it (then
    placed in its image), one shape kind at a time.

    Args:
        shape: ``LongTensor [N]`` index into :data:`SHAPES`.
        scale: ``[N]`` relative size (1 = a shape of radius ``radius * size``).
        orientation: ``[N]`` angle in radians (counter-clockwise on screen).
        x, y: ``[N]`` centre in ``[0, 1]`` (x to the right, y down, like dSprites' posX/posY).
        size: image side in pixels.
        supersample: anti-aliasing sub-pixels per side (1 = binary images).
        radius: shape radius at scale 1, as a fraction of ``size``.
        chunk: images rendered at a time (bounds the memory).
    """
    n = shape.shape[0]
    for name, t in (("scale", scale), ("orientation", orientation), ("x", x), ("y", y)):
        if t.shape != (n,):
            raise ValueError(f"{name} must have shape [{n}] like shape, got {list(t.shape)}")
    if n and (int(shape.min()) < 0 or int(shape.max()) >= len(SHAPES)):
        raise ValueError(f"shape ids must be in [0, {len(SHAPES)})")
    if not isinstance(size, int) or size < 4 or supersample < 1:
        raise ValueError(f"need size >= 4 and supersample >= 1, got {size}, {supersample}")
    ss = supersample
    out = torch.zeros(n, size + 2, size + 2)  # one pixel of margin each side, cropped below
    half = math.ceil(_EXTENT * radius * float(scale.max()) * size) + 1 if n else 1
    p = 2 * half  # patch side in pixels
    offs = torch.arange(p * ss, dtype=torch.float32)  # sub-pixel index within the patch
    for kind in range(len(SHAPES)):
        sel = (shape == kind).nonzero()[:, 0]
        for i in range(0, sel.numel(), chunk):
            b = sel[i : i + chunk]
            cx, cy = x[b].float() * size, y[b].float() * size  # centre in pixels
            x0 = torch.floor(cx).long() - half + 1  # first patch column (image pixels)
            y0 = torch.floor(cy).long() - half + 1
            sub = (offs[None] + 0.5) / ss  # [1, p * ss] sub-pixel centres, patch pixel units
            px = (x0[:, None].float() + sub - cx[:, None])[:, None, :]  # [B, 1, P]
            py = (y0[:, None].float() + sub - cy[:, None])[:, :, None]  # [B, P, 1]
            r = (radius * size * scale[b].float())[:, None, None]
            c = torch.cos(orientation[b].float())[:, None, None]
            s = torch.sin(orientation[b].float())[:, None, None]
            u = (c * px - s * py) / r  # image y points down: v = -(rotated y)
            v = -(s * px + c * py) / r
            patch = _inside(kind, u, v).float().reshape(-1, p, ss, p, ss).mean(dim=(2, 4))
            rows = (y0[:, None] + torch.arange(p)[None] + 1).clamp(0, size + 1)  # [B, p]
            cols = (x0[:, None] + torch.arange(p)[None] + 1).clamp(0, size + 1)
            out[b[:, None, None], rows[:, :, None], cols[:, None, :]] = patch
    return out[:, None, 1:-1, 1:-1].contiguous()


def sprite_grid_values(
    sizes: tuple[int, int, int, int, int] = _DEFAULT_SIZES,
    *,
    scale_range: tuple[float, float] = (0.5, 1.0),
    orientation_range: tuple[float, float] = (0.0, math.pi / 4),
    position_range: tuple[float, float] = (0.2, 0.8),
) -> list[torch.Tensor]:
    """The value of every level of each factor: ``[shape ids, scales, angles, xs, ys]``.

    Orientation levels divide ``orientation_range`` into ``sizes[2]`` equal steps (end
    excluded); scale and position levels span their ranges end points included.
    """
    if len(sizes) != 5 or min(sizes) < 1 or sizes[0] > len(SHAPES):
        raise ValueError(f"sizes must be 5 positive ints with sizes[0] <= 3, got {sizes}")
    a0, a1 = orientation_range
    return [
        torch.arange(sizes[0]),
        torch.linspace(*scale_range, sizes[1]),
        a0 + (a1 - a0) * torch.arange(sizes[2]) / sizes[2],
        torch.linspace(*position_range, sizes[3]),
        torch.linspace(*position_range, sizes[4]),
    ]


@dataclass
class SpriteSet:
    """Images and their factors.

    Attributes:
        images: ``[N, 1, size, size]`` float in ``[0, 1]``.
        factors: ``LongTensor [N, 5]`` level of each factor (:data:`FACTORS`).
        values: ``[N, 5]`` the factor values (shape id, scale, radians, x, y).
        sizes: number of levels of each factor.
        names: :data:`FACTORS`.
    """

    images: torch.Tensor
    factors: torch.Tensor
    values: torch.Tensor
    sizes: tuple[int, ...]
    names: tuple[str, ...] = FACTORS

    def __len__(self) -> int:
        return self.images.shape[0]


def sprites(
    n: int | None = None,
    *,
    size: int = 32,
    sizes: tuple[int, int, int, int, int] = _DEFAULT_SIZES,
    seed: int = 0,
    supersample: int = 4,
    factors: torch.Tensor | None = None,
) -> SpriteSet:
    """A dSprites-style set.

    Args:
        n: number of images drawn uniformly (seeded) from the factor grid; ``None`` = the whole
            grid (``prod(sizes)`` images, ``3 * 6 * 8 * 16 * 16 = 36864`` by default).
        size: image side in pixels.
        sizes: levels of (shape, scale, orientation, x, y).
        seed: seed of the draw.
        supersample: anti-aliasing (1 = binary images like dSprites).
        factors: explicit factor levels ``LongTensor [N, 5]`` instead of a draw.
    """
    grid = sprite_grid_values(sizes)
    card = torch.tensor(sizes)
    if factors is None:
        if n is None:
            mesh = torch.meshgrid(*[torch.arange(s) for s in sizes], indexing="ij")
            factors = torch.stack([m.reshape(-1) for m in mesh], 1)
        else:
            if not isinstance(n, int) or n < 1:
                raise ValueError(f"n must be a positive int or None, got {n!r}")
            g = torch.Generator().manual_seed(seed)
            factors = (torch.rand(n, 5, generator=g) * card).long()
    if factors.ndim != 2 or factors.shape[1] != 5 or factors.dtype != torch.long:
        raise ValueError("factors must be a LongTensor [N, 5]")
    if ((factors < 0) | (factors >= card)).any():
        raise ValueError(f"factor levels must lie below sizes={tuple(sizes)}")
    values = torch.stack([grid[j][factors[:, j]].float() for j in range(5)], 1)
    images = render_sprites(
        factors[:, 0],
        values[:, 1],
        values[:, 2],
        values[:, 3],
        values[:, 4],
        size=size,
        supersample=supersample,
    )
    return SpriteSet(images, factors, values, tuple(int(s) for s in sizes))
