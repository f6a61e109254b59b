"""Hamilton-Jacobi equation of potential flows ``u_t + |grad u|^2 / 2 = 0``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import torch

from sciml.physics.pde import PDE

__all__ = ["HamiltonJacobi"]


@dataclass
class HamiltonJacobi(PDE):
    """``u_t + |grad u|^2 / 2 = f`` (``f = 0``: the inviscid Burgers / optimal-transport
    potential of latent potential flows); points ``[N, dim + 1]`` with time last.

    Args:
        dim: spatial dimension, any ``>= 1``. For ``dim <= 3`` the residual reads the axis keys
            ``"x", "y", "z"``; above it reads the whole gradient ``"grad"`` (latent spaces).
        forcing, exact, initial, domain, boundary: as in :class:`~sciml.physics.heat.Heat`.
    """

    dim: int = 2
    boundary: str = field(default="none", kw_only=True)
    time_dependent: ClassVar[bool] = True
    order: ClassVar[int] = 1

    def __post_init__(self) -> None:
        if not (isinstance(self.dim, int) and self.dim >= 1):
            raise ValueError(f"HamiltonJacobi: dim must be an integer >= 1, got {self.dim!r}")

    @property
    def required_derivatives(self) -> tuple[str, ...]:
        return ("t",) + (self.spatial_keys(1) if self.dim <= 3 else ("grad",))

    def residual_from(self, u: torch.Tensor, d: dict[str, torch.Tensor], x: torch.Tensor):
        self._check_derivatives(d)
        if self.dim > 3:
            grad2 = (d["grad"] ** 2).sum(-1)
        else:
            grad2 = sum(d[a] ** 2 for a in "xyz"[: self.dim])
        return d["t"] + 0.5 * grad2 - self._forcing(x, u)
