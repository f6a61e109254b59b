"""Steady Allen-Cahn equation in the GP-HM paper's form ``Laplacian(u) + u(u^2 - 1) = f``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from sciml.physics._pointwise import check_dim
from sciml.physics.pdes.pde import PDE

__all__ = ["AllenCahn"]


@dataclass
class AllenCahn(PDE):
    """``diffusion * Laplacian(u) + u (u^2 - 1) = f`` (``diffusion = 1`` is the form of Xu et
    al., "Solving high frequency and multi-scale PDEs with Gaussian processes", ICLR 2024).

    Args:
        diffusion: coefficient of the Laplacian (``epsilon^2`` in other papers).
        dim, forcing, exact, domain, boundary: as in :class:`~sciml.physics.pdes.poisson.Poisson`.
    """

    diffusion: float = 1.0
    dim: int = 2
    time_dependent: ClassVar[bool] = False

    def __post_init__(self) -> None:
        check_dim("AllenCahn", self.dim, (1, 2, 3))

    @property
    def required_derivatives(self) -> tuple[str, ...]:
        return self.spatial_keys(2)

    def residual_from(
        self, u: torch.Tensor, d: dict[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        self._check_derivatives(d)
        return self.diffusion * self.laplacian(d) + u * (u**2 - 1) - self._forcing(x, u)
