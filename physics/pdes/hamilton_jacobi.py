"""Hamilton-Jacobi equation of potential flows ``u_t + |grad u|^2 / 2 = 0``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import torch

from sciml.physics._pointwise import check_any_dim
from sciml.physics.pdes.pde import PDE

__all__ = ["HamiltonJacobi"]


@dataclass
class HamiltonJacobi(PDE):
    """``u_t + |grad u|^2 / 2 = f`` (``f = 0``: the inviscid Burgers / optimal-transport
    potential of latent potential flows); points ``[N, dim + 1]`` with time last.

    Args:
        dim: spatial dimension, any ``>= 1``. For ``dim <= 3`` the residual reads the axis keys
            ``"x", "y", "z"``; above it reads the whole gradient ``"grad"`` (latent spaces).
        forcing, exact, initial, domain, boundary: as in :class:`~sciml.physics.pdes.heat.Heat`.
    """

    dim: int = 2
    boundary: str = field(default="none", kw_only=True)
    time_dependent: ClassVar[bool] = True
    order: ClassVar[int] = 1

    def __post_init__(self) -> None:
        check_any_dim("HamiltonJacobi", self.dim)

    @property
    def required_derivatives(self) -> tuple[str, ...]:
        return ("t",) + self.gradient_keys()

    def residual_from(
        self, u: torch.Tensor, d: dict[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        self._check_derivatives(d)
        return d["t"] + 0.5 * self.gradient_norm2(d) - self._forcing(x, u)
