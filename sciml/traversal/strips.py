"""Frames of latent traversals, arranged as image strips (tensors; writing files is the CLI's)."""

from __future__ import annotations

import torch

from sciml.traversal.model import TraversalModel

__all__ = ["traversal_frames", "strip_grid"]


@torch.no_grad()
def traversal_frames(
    model: TraversalModel, z0: torch.Tensor, steps: int, *, bidirectional: bool = True
) -> torch.Tensor:
    """Decoded frames of every traversal from every start: ``[K, N, F, C, H, W]``.

    ``F = 2 * steps + 1`` with ``bidirectional`` (the mirrored path ``2 z0 - z_s`` first, then
    ``z0``, then the path itself: the traversal run backwards and forwards), else
    ``steps + 1``.

    Args:
        model: a trained :class:`TraversalModel`.
        z0: ``[N, d]`` starting codes.
        steps: flow steps each way.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    out = []
    for k in range(model.traversal.num_directions):
        traj = model.traversal.trajectory(z0, k, steps)  # [T + 1, N, d]
        if bidirectional:
            back = (2 * z0[None] - traj[1:]).flip(0)
            traj = torch.cat([back, traj])
        f, n = traj.shape[:2]
        img = model.generator(traj.reshape(f * n, -1))
        out.append(img.reshape(f, n, *img.shape[1:]).transpose(0, 1))
    return torch.stack(out)


def strip_grid(frames: torch.Tensor, *, pad: int = 1) -> torch.Tensor:
    """Tile ``[rows, cols, C, H, W]`` into one image ``[C, rows (H + pad) - pad, ...]``."""
    if frames.ndim != 5:
        raise ValueError(f"frames must be [rows, cols, C, H, W], got {list(frames.shape)}")
    r, c, ch, h, w = frames.shape
    canvas = torch.ones(ch, r * (h + pad) - pad, c * (w + pad) - pad)
    for i in range(r):  # a loop over rows and columns of a picture, not samples
        for j in range(c):
            canvas[:, i * (h + pad) : i * (h + pad) + h, j * (w + pad) : j * (w + pad) + w] = (
                frames[i, j]
            )
    return canvas
