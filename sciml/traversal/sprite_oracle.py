"""Reading the factors back from sprite images: the known renderer, inverted.

Traversal quality asks how much each factor changes along a traversal, so the factors of
*generated* images must be measured. The renderer is known, so no classifier is trained:

* position: the intensity centroid (continuous, exact for a rendered sprite);
* scale: ``sqrt(mass / mass at scale 1)`` of the matched shape (area grows as scale^2);
* shape and orientation: the nearest of the centred templates of every (shape, scale,
  orientation) level, after moving the image's centroid to the centre (sub-pixel shift).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from sciml.traversal.sprites import _DEFAULT_SIZES, render_sprites, sprite_grid_values

__all__ = ["SpriteOracle"]


class SpriteOracle:
    """Factor estimates of dSprites-style images, in units of each factor's range.

    Args:
        size: image side (as rendered by :func:`~sciml.traversal.sprites.sprites`).
        sizes: the factor levels of the set.

    Calling it on images ``[N, 1, H, W]`` returns ``[N, 5]``: the shape id, then scale,
    orientation, x and y mapped to ``[0, 1]`` over their ranges (continuous for scale, x, y;
    the nearest level for orientation).

    Attributes:
        categorical: the columns holding category ids (the shape), compared by equality.
    """

    categorical = (0,)

    def __init__(self, size: int = 32, sizes: tuple[int, ...] = _DEFAULT_SIZES) -> None:
        self.size, self.sizes = size, tuple(sizes)
        grid = sprite_grid_values(self.sizes)
        self.grid = grid
        mesh = torch.meshgrid(*[torch.arange(s) for s in self.sizes[:3]], indexing="ij")
        self.levels = torch.stack([m.reshape(-1) for m in mesh], 1)  # [T, 3]
        n = self.levels.shape[0]
        t = render_sprites(
            self.levels[:, 0],
            grid[1][self.levels[:, 1]],
            grid[2][self.levels[:, 2]],
            torch.full((n,), 0.5),
            torch.full((n,), 0.5),
            size=size,
        )
        self.templates = t.reshape(n, -1)  # [T, H*W]
        unit = render_sprites(
            torch.arange(self.sizes[0]),
            torch.ones(self.sizes[0]),
            torch.zeros(self.sizes[0]),
            torch.full((self.sizes[0],), 0.5),
            torch.full((self.sizes[0],), 0.5),
            size=size,
            supersample=8,
        )
        self.unit_mass = unit.flatten(1).sum(1)  # [shapes]

    @torch.no_grad()
    def __call__(self, images: torch.Tensor, *, batch_size: int = 512) -> torch.Tensor:
        if images.ndim != 4 or tuple(images.shape[1:]) != (1, self.size, self.size):
            raise ValueError(
                f"images must be [N, 1, {self.size}, {self.size}], got {list(images.shape)}"
            )
        out = []
        for i in range(0, images.shape[0], batch_size):
            out.append(self._estimate(images[i : i + batch_size].float().cpu()))
        return torch.cat(out)

    def _estimate(self, x: torch.Tensor) -> torch.Tensor:
        n, s = x.shape[0], self.size
        img = x[:, 0].clamp(0, 1)
        mass = img.sum((1, 2)).clamp_min(1e-6)
        coord = (torch.arange(s, dtype=torch.float32) + 0.5) / s
        cx = (img.sum(1) * coord).sum(1) / mass  # [N] in [0, 1]
        cy = (img.sum(2) * coord).sum(1) / mass
        # shift the centroid to the centre (sub-pixel, bilinear)
        theta = torch.zeros(n, 2, 3)
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0
        theta[:, 0, 2] = 2 * (cx - 0.5)
        theta[:, 1, 2] = 2 * (cy - 0.5)
        g = F.affine_grid(theta, [n, 1, s, s], align_corners=False)
        centred = F.grid_sample(x.clamp(0, 1), g, align_corners=False).flatten(1)
        d = torch.cdist(centred, self.templates)  # [N, T]
        best = self.levels[d.argmin(1)]  # [N, 3]
        shape = best[:, 0]
        scale = torch.sqrt(mass / self.unit_mass[shape])
        s0, s1 = float(self.grid[1][0]), float(self.grid[1][-1])
        p0, p1 = float(self.grid[3][0]), float(self.grid[3][-1])
        no = self.sizes[2]
        return torch.stack(
            [
                shape.float(),
                (scale - s0) / max(s1 - s0, 1e-12),
                best[:, 2].float() / max(no - 1, 1),
                (cx - p0) / (p1 - p0),
                (cy - p0) / (p1 - p0),
            ],
            1,
        )
