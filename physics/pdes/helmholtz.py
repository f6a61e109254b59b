"""Helmholtz equation ``-Laplacian(u) - k^2 u = f``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from sciml.physics._pointwise import check_dim
from sciml.physics.pdes.pde import PDE

__all__ = ["Helmholtz"]


@dataclass
class Helmholtz(PDE):
    """``-Laplacian(u) - k^2 u = f`` (wavenumber ``k``), ``dim`` in 1..3.

    Args:
        wavenumber: ``k``.
        dim, forcing, exact, domain, boundary: as in :class:`~sciml.physics.pdes.poisson.Poisson`.
    """

    wavenumber: float = 1.0
    dim: int = 2
    time_dependent: ClassVar[bool] = False

    def __post_init__(self) -> None:
        check_dim("Helmholtz", self.dim, (1, 2, 3))

    @property
    def required_derivatives(self) -> tuple[str, ...]:
        return self.spatial_keys(2)

    def residual_from(
        self, u: torch.Tensor, d: dict[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        self._check_derivatives(d)
        return -self.laplacian(d) - self.wavenumber**2 * u - self._forcing(x, u)
