"""Heat / diffusion equation ``u_t - kappa Laplacian(u) = f``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from sciml.physics._pointwise import check_any_dim
from sciml.physics.pdes.pde import PDE

__all__ = ["Heat"]


@dataclass
class Heat(PDE):
    """``u_t - kappa Laplacian(u) = f``; points ``[N, dim + 1]`` with time last.

    Args:
        kappa: diffusivity.
        dim: spatial dimension, any ``>= 1`` (grid residuals need ``<= 3``; above 3 the
            autograd residual reads the whole Laplacian ``"lap"``: latent spaces).
        forcing: ``f(x: [N, dim + 1]) -> [N]``; None = 0.
        exact, initial: optional exact solution ``u(x: [N, dim + 1])`` and initial condition
            ``u0(x: [N, dim])``.
        domain, boundary: spatial box and boundary kind (``"dirichlet"``/``"periodic"``).
    """

    kappa: float = 1.0
    dim: int = 1
    time_dependent: ClassVar[bool] = True

    def __post_init__(self) -> None:
        check_any_dim("Heat", self.dim)

    @property
    def required_derivatives(self) -> tuple[str, ...]:
        return ("t",) + self.laplacian_keys()

    def residual_from(
        self, u: torch.Tensor, d: dict[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        self._check_derivatives(d)
        return d["t"] - self.kappa * self.laplacian(d) - self._forcing(x, u)
