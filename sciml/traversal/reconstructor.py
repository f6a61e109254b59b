"""The reconstructor: tells from two consecutive frames of a traversal which one it was."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Reconstructor"]


class Reconstructor(nn.Module):
    """Classifier of traversal pairs ``(x_t, x_{t+1}) -> logits [N, K]``.

    The disentanglement constraint of Voynov & Babenko (2020), used by Song et al. (2023): if a
    network can tell which of the ``K`` traversals produced a pair of outputs, the traversals
    change different things.

    Args:
        shape: shape of one output of the generator: ``(C, H, W)`` images (a small CNN on the
            channel-wise concatenation of the pair, like the paper's VAE setting) or ``(D,)``
            vectors (an MLP on the concatenation).
        num_directions: ``K``.
        width: channels of the first conv layer / hidden units of the MLP.
    """

    def __init__(self, shape: tuple[int, ...], num_directions: int, *, width: int = 32) -> None:
        super().__init__()
        shape = tuple(int(s) for s in shape)
        if len(shape) not in (1, 3) or min(shape) < 1:
            raise ValueError(f"shape must be (C, H, W) or (D,), got {shape}")
        if not isinstance(num_directions, int) or num_directions < 2:
            raise ValueError(f"num_directions must be an int >= 2, got {num_directions!r}")
        self.shape, self.num_directions = shape, num_directions
        if len(shape) == 1:
            self.net = nn.Sequential(
                nn.Linear(2 * shape[0], width),
                nn.GELU(),
                nn.Linear(width, width),
                nn.GELU(),
                nn.Linear(width, num_directions),
            )
        else:
            c = shape[0]
            self.net = nn.Sequential(
                nn.Conv2d(2 * c, width, 3, stride=2, padding=1),
                nn.GELU(),
                nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
                nn.GELU(),
                nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1),
                nn.GELU(),
                nn.AdaptiveAvgPool2d(1),
                nn.Flatten(),
                nn.Linear(2 * width, num_directions),
            )

    def forward(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        """``x0, x1: [N, *shape]`` -> logits ``[N, K]``."""
        if x0.shape != x1.shape or tuple(x0.shape[1:]) != self.shape:
            raise ValueError(
                f"x0 and x1 must both be [N, {', '.join(map(str, self.shape))}], got "
                f"{list(x0.shape)} and {list(x1.shape)}"
            )
        return self.net(torch.cat([x0, x1], dim=1))
