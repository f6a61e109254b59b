"""Acoustic (scalar) wave equation ``u_tt - c^2 Laplacian(u) = f``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import torch

from sciml.physics._pointwise import check_any_dim, evaluate
from sciml.physics.pdes.pde import PDE, PointFn

__all__ = ["AcousticWave"]


@dataclass
class AcousticWave(PDE):
    """``u_tt - c(x)^2 Laplacian(u) = f``; points ``[N, dim + 1]`` with time last.

    This is the constant-density acoustic equation deepwave's ``scalar`` propagator solves
    (:mod:`sciml.physics.seismic` runs it on a grid with sources, receivers and absorbing
    boundaries).

    Args:
        velocity: wave speed ``c``: a float, a 0-d tensor (a learnable ``nn.Parameter``: the
            wave speed of a latent potential flow) or ``c(x: [N, dim]) -> [N]``.
        dim: spatial dimension, any ``>= 1`` (grid residuals and deepwave need ``<= 3``;
            above 3 the autograd residual reads the whole Laplacian ``"lap"``).
        forcing, exact, initial, domain, boundary: as in :class:`~sciml.physics.pdes.heat.Heat`;
            default boundary ``"absorbing"``.
    """

    velocity: PointFn | float | torch.Tensor = 1.0
    dim: int = 2
    boundary: str = field(default="absorbing", kw_only=True)
    time_dependent: ClassVar[bool] = True

    def __post_init__(self) -> None:
        check_any_dim("AcousticWave", self.dim)

    @property
    def required_derivatives(self) -> tuple[str, ...]:
        return ("tt",) + self.laplacian_keys()

    def residual_from(
        self, u: torch.Tensor, d: dict[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        self._check_derivatives(d)
        c = evaluate(self.velocity, x[:, : self.dim]).reshape(u.shape)
        return d["tt"] - c**2 * self.laplacian(d) - self._forcing(x, u)
