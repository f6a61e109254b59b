"""Viscous Burgers equation ``u_t + (u . grad) u - nu Laplacian(u) = 0`` in 1-D and 2-D."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import torch

from sciml.physics._pointwise import check_dim
from sciml.physics.pdes.pde import PDE

__all__ = ["Burgers"]


@dataclass
class Burgers(PDE):
    """Viscous Burgers; points ``[N, dim + 1]`` with time last.

    * ``dim=1``: ``u_t + u u_x - nu u_xx = f`` with scalar ``u: [N]``.
    * ``dim=2``: the vector form ``u_t + (u . grad) u - nu Laplacian(u) = f`` with
      ``u: [N, 2]`` (velocity components); the residual is ``[N, 2]``.

    Args:
        nu: viscosity.
        dim: 1 or 2.
        forcing, exact, initial, domain, boundary: as in :class:`~sciml.physics.pdes.heat.Heat`;
            default boundary ``"periodic"``.
    """

    nu: float = 0.01
    dim: int = 1
    boundary: str = field(default="periodic", kw_only=True)
    time_dependent: ClassVar[bool] = True

    def __post_init__(self) -> None:
        check_dim("Burgers", self.dim, (1, 2))

    @property
    def channels(self) -> int:  # type: ignore[override]
        return 1 if self.dim == 1 else 2

    @property
    def required_derivatives(self) -> tuple[str, ...]:
        return ("t",) + self.spatial_keys(1) + self.spatial_keys(2)

    def residual_from(
        self, u: torch.Tensor, d: dict[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        self._check_derivatives(d)
        if self.dim == 1:
            return d["t"] + u * d["x"] - self.nu * d["xx"] - self._forcing(x, u)
        if u.ndim != 2 or u.shape[1] != 2:
            raise ValueError(f"2-D Burgers needs u: [N, 2] (velocity), got {list(u.shape)}")
        adv = u[:, :1] * d["x"] + u[:, 1:] * d["y"]
        return d["t"] + adv - self.nu * (d["xx"] + d["yy"]) - self._forcing(x, u)
