"""Poisson equation ``-Laplacian(u) = f``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from sciml.physics._pointwise import check_dim
from sciml.physics.pdes.pde import PDE

__all__ = ["Poisson"]


@dataclass
class Poisson(PDE):
    """``-Laplacian(u) = f`` on ``domain`` (default unit box), ``dim`` in 1..3.

    Args:
        dim: spatial dimension.
        forcing: ``f(x: [N, dim]) -> [N]``; None = 0.
        exact: optional exact solution ``u(x: [N, dim]) -> [N]``.
        domain: ``((lo, hi), ...)`` per axis; None = unit box.
        boundary: boundary condition kind, ``"dirichlet"`` (u = exact, or 0) or ``"periodic"``.
    """

    dim: int = 2
    time_dependent: ClassVar[bool] = False

    def __post_init__(self) -> None:
        check_dim("Poisson", self.dim, (1, 2, 3))

    @property
    def required_derivatives(self) -> tuple[str, ...]:
        return self.spatial_keys(2)

    def residual_from(
        self, u: torch.Tensor, d: dict[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        self._check_derivatives(d)
        return -self.laplacian(d) - self._forcing(x, u)

    def flux(
        self, grad_u: torch.Tensor, x: torch.Tensor, coefficient: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The flux ``grad u`` of the divergence form ``-div(flux) = f`` (weak forms);
        ``coefficient`` (``[...]``), when given, multiplies it."""
        return grad_u if coefficient is None else coefficient.unsqueeze(-1) * grad_u
