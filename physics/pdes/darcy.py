"""Variable-coefficient elliptic (Darcy) equation ``-div(a grad u) = f``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from sciml.physics._pointwise import check_dim, evaluate, value_and_gradient
from sciml.physics.pdes.pde import PDE, PointFn

__all__ = ["Darcy"]


@dataclass
class Darcy(PDE):
    """``-div(a grad u) = f``, written pointwise as ``-(a Laplacian(u) + grad a . grad u) = f``.

    Args:
        coefficient: ``a(x: [N, dim]) -> [N]`` (> 0; its gradient is taken by autograd, so it
            may be an ``nn.Module`` to learn) or a float. For piecewise-constant coefficients on a
            grid use the conservative discretisations (:func:`sciml.physics.fd.div_a_grad`,
            :func:`sciml.physics.elliptic.assemble_elliptic`, :func:`sciml.physics.steppers.darcy.solve_darcy`).
        dim, forcing, exact, domain, boundary: as in :class:`~sciml.physics.pdes.poisson.Poisson`.
            The FNO benchmark uses ``f = 1`` and ``u = 0`` on the boundary of the unit square.
    """

    coefficient: PointFn | float = 1.0
    dim: int = 2
    time_dependent: ClassVar[bool] = False

    def __post_init__(self) -> None:
        check_dim("Darcy", self.dim, (1, 2, 3))

    @property
    def required_derivatives(self) -> tuple[str, ...]:
        return self.spatial_keys(1) + self.spatial_keys(2)

    def residual_from(
        self, u: torch.Tensor, d: dict[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        self._check_derivatives(d)
        a, grad_a = value_and_gradient(self.coefficient, x, self.dim)
        flux_div = a * self.laplacian(d)
        for i, letter in enumerate("xyz"[: self.dim]):
            flux_div = flux_div + grad_a[:, i] * d[letter]
        return -flux_div - self._forcing(x, u)

    def flux(
        self,
        grad_u: torch.Tensor,
        x: torch.Tensor,
        coefficient: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The flux ``a grad u`` of the divergence form ``-div(flux) = f`` (weak forms).

        Args:
            grad_u: ``[..., dim]`` gradients at the points ``x: [..., dim]``.
            coefficient: ``[...]`` values of ``a`` at ``x`` (e.g. read from a data set's grid,
                one field per sample); default ``self.coefficient`` evaluated at ``x``.

        Returns:
            ``[..., dim]``.
        """
        if coefficient is None:
            flat = x.reshape(-1, x.shape[-1])[:, : self.dim]
            coefficient = evaluate(self.coefficient, flat).reshape(x.shape[:-1])
        return coefficient.unsqueeze(-1) * grad_u
