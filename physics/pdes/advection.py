"""Linear advection ``u_t + beta . grad(u) = f``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import torch

from sciml.physics._pointwise import check_dim
from sciml.physics.pdes.pde import PDE

__all__ = ["Advection"]


@dataclass
class Advection(PDE):
    """``u_t + beta . grad(u) = f`` (``f = 0`` by default); points ``[N, dim + 1]``, time last.

    Args:
        velocity: ``beta``, a float (1-D, or the same on every axis) or one float per axis.
        dim, forcing, exact, initial, domain, boundary: as in :class:`~sciml.physics.pdes.heat.Heat`;
            default boundary ``"periodic"``.
    """

    velocity: float | tuple[float, ...] = 1.0
    dim: int = 1
    boundary: str = field(default="periodic", kw_only=True)
    time_dependent: ClassVar[bool] = True
    order: ClassVar[int] = 1

    def __post_init__(self) -> None:
        check_dim("Advection", self.dim, (1, 2, 3))
        beta = self.velocity
        beta = (float(beta),) * self.dim if isinstance(beta, (int, float)) else tuple(beta)
        if len(beta) != self.dim:
            raise ValueError(f"velocity must have {self.dim} entries, got {self.velocity!r}")
        self.velocity = beta

    @property
    def required_derivatives(self) -> tuple[str, ...]:
        return ("t",) + self.spatial_keys(1)

    def residual_from(
        self, u: torch.Tensor, d: dict[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        self._check_derivatives(d)
        r = d["t"]
        for b, letter in zip(self.velocity, "xyz"):
            r = r + b * d[letter]
        return r - self._forcing(x, u)
