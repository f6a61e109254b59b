"""Hamilton-Jacobi equation of potential flows ``u_t + |grad u|^2 / 2 = 0``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from sciml.physics._pointwise import check_dim
from sciml.physics.pde import PDE, PointFn

__all__ = ["HamiltonJacobi"]


@dataclass
class HamiltonJacobi(PDE):
    """``u_t + |grad u|^2 / 2 = f`` (``f = 0``: the inviscid Burgers / optimal-transport
    potential of latent potential flows); points ``[N, dim + 1]`` with time last.

    Args:
        dim: spatial dimension (1..3).
        forcing, exact, initial, domain, boundary: as in :class:`~sciml.physics.heat.Heat`.
    """

    dim: int = 2
    forcing: PointFn | None = None
    exact: PointFn | None = None
    initial: PointFn | None = None
    domain: tuple[tuple[float, float], ...] | None = None
    boundary: str = "none"
    time_dependent: ClassVar[bool] = True

    def __post_init__(self) -> None:
        check_dim("HamiltonJacobi", self.dim, (1, 2, 3))

    @property
    def required_derivatives(self) -> tuple[str, ...]:
        return ("t",) + self.spatial_keys(1)

    def residual_from(self, u: torch.Tensor, d: dict[str, torch.Tensor], x: torch.Tensor):
        self._check_derivatives(d)
        grad2 = sum(d[a] ** 2 for a in "xyz"[: self.dim])
        return d["t"] + 0.5 * grad2 - self._forcing(x, u)
