"""Linear latent directions: the baseline traversal ``z_{t+1} = z_t + eps * d_k / |d_k|``."""

from __future__ import annotations

import torch
from torch import nn

from sciml.traversal.base import Traversal, as_index

__all__ = ["LinearDirections"]


class LinearDirections(Traversal):
    """``K`` constant directions in latent space (GANSpace/SeFa/Voynov-Babenko style).

    Args:
        dim: latent dimension ``d``.
        num_directions: ``K``.
        step_size: ``eps``, the length of every step.
        directions: initial directions ``[K, d]`` (normalised; default random, seeded by the
            global torch generator).
        learnable: train the directions (with the same reconstructor as potential flows) or
            keep them fixed (closed-form directions, e.g. :func:`~sciml.traversal.sefa.sefa`).
    """

    def __init__(
        self,
        dim: int,
        num_directions: int,
        *,
        step_size: float = 0.5,
        directions: torch.Tensor | None = None,
        learnable: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(dim, int) or dim < 1:
            raise ValueError(f"dim must be a positive int, got {dim!r}")
        if not isinstance(num_directions, int) or num_directions < 1:
            raise ValueError(f"num_directions must be a positive int, got {num_directions!r}")
        if not step_size > 0:
            raise ValueError(f"step_size must be positive, got {step_size!r}")
        if directions is None:
            directions = torch.randn(num_directions, dim)
        if directions.shape != (num_directions, dim):
            raise ValueError(
                f"directions must be [{num_directions}, {dim}], got {list(directions.shape)}"
            )
        self.dim, self.num_directions, self.step_size = dim, num_directions, float(step_size)
        d = directions.detach().float().clone()
        if learnable:
            self.raw = nn.Parameter(d)
        else:
            self.register_buffer("raw", d)

    @property
    def directions(self) -> torch.Tensor:
        """Unit directions ``[K, d]``."""
        return self.raw / self.raw.norm(dim=1, keepdim=True).clamp_min(1e-12)

    def codes(self, z: torch.Tensor) -> torch.Tensor:
        """``[N, K]``: least-squares coordinates ``c`` of ``z ~ c D`` in the directions ``D``."""
        with torch.no_grad():
            return z @ torch.linalg.pinv(self.directions.to(z.dtype))

    def velocity(
        self, z: torch.Tensor, k: int | torch.Tensor, t: float, *, create_graph: bool = False
    ) -> torch.Tensor:
        k = as_index(k, z.shape[0], self.num_directions, z.device)
        v = self.step_size * self.directions.to(z.dtype)[k]
        return v if create_graph else v.detach()
