"""Fokker-Planck equation ``p_t + div(p b) - D Laplacian(p) = 0``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import torch

from sciml.physics._pointwise import check_any_dim, field_and_divergence
from sciml.physics.pdes.pde import PDE, PointFn

__all__ = ["FokkerPlanck"]


def _ornstein_uhlenbeck(x: torch.Tensor) -> torch.Tensor:
    return -x


@dataclass
class FokkerPlanck(PDE):
    """Density ``p`` of ``dX = b(X) dt + sqrt(2 D) dW``: ``p_t + div(p b) - D Laplacian(p) = f``.

    Points ``[N, dim + 1]`` with time last. ``div(p b)`` is expanded to
    ``b . grad p + p div b`` with ``div b`` by autograd (``b`` may be an ``nn.Module``; a
    potential flow uses ``b = -grad V``).

    Args:
        drift: ``b(x: [N, dim]) -> [N, dim]``; default the Ornstein-Uhlenbeck drift ``-x``.
        diffusion: ``D``.
        dim: spatial dimension, any ``>= 1`` (``dim > 3`` reads ``"grad"`` and ``"lap"``).
        forcing, exact, initial, domain, boundary: as in :class:`~sciml.physics.pdes.heat.Heat`;
            default boundary ``"decay"`` (p -> 0 far away).
    """

    drift: PointFn = _ornstein_uhlenbeck
    diffusion: float = 1.0
    dim: int = 1
    boundary: str = field(default="decay", kw_only=True)
    time_dependent: ClassVar[bool] = True

    def __post_init__(self) -> None:
        check_any_dim("FokkerPlanck", self.dim)

    @property
    def required_derivatives(self) -> tuple[str, ...]:
        return ("t",) + self.gradient_keys() + self.laplacian_keys()

    def residual_from(
        self, u: torch.Tensor, d: dict[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        self._check_derivatives(d)
        b, div_b = field_and_divergence(self.drift, x, self.dim)
        if self.dim > 3:
            transport = u * div_b + (b * d["grad"]).sum(-1)
        else:
            transport = u * div_b
            for i, letter in enumerate("xyz"[: self.dim]):
                transport = transport + b[:, i] * d[letter]
        return d["t"] + transport - self.diffusion * self.laplacian(d) - self._forcing(x, u)
