"""Compactly supported radial test functions for local weak forms (Wendland CSRBFs).

Wendland's functions ``phi_{l,k}(r)`` are polynomials on ``0 <= r <= 1``, zero for ``r >= 1``,
``C^{2k}`` across ``r = 1`` and positive definite in ``R^d`` for ``l = floor(d/2) + k + 1``
(Wendland 1995). Scaled to a ball of radius ``R`` around a centre ``c``,
``v(x) = phi(|x - c| / R)`` vanishes with its first ``2k`` derivatives on the sphere, which is
what a local weak form needs: integrating by parts on the ball leaves no boundary term.

Normalised to ``phi(0) = 1``:

* ``k = 1``: ``phi = (1 - r)^(l+1) ((l+1) r + 1)``,
  ``phi' = -(l+1)(l+2) r (1 - r)^l``;
* ``k = 2`` (default; the choice of ParticleWNN/DGNO): ``phi = (1 - r)^(l+2) ((l+1)(l+3) r^2 +
  3(l+2) r + 3) / 3``, ``phi' = -(l+3)(l+4) r (1 - r)^(l+1) (1 + (l+1) r) / 3``.

``phi'(r)`` has a factor ``r``, so the gradient ``grad_xi phi = phi'(r) xi / r`` is written
without the division (smooth at the centre).

>>> w = Wendland(dim=2)
>>> xi = torch.tensor([[0.0, 0.0], [0.5, 0.0], [1.0, 0.0]], dtype=torch.float64)
>>> w.value(xi).tolist()
[1.0, 0.10807291666666667, 0.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["Wendland"]


@dataclass(frozen=True)
class Wendland:
    """Wendland's ``C^{2k}`` radial function on the unit ball of ``R^dim``.

    Args:
        dim: space dimension (1, 2 or 3).
        smoothness: ``k`` (1 or 2).

    Attributes:
        l: the exponent ``floor(dim / 2) + k + 1``.
        continuity: ``2k``: derivatives of this order vanish on the unit sphere.
    """

    dim: int = 2
    smoothness: int = 2

    def __post_init__(self) -> None:
        if self.dim not in (1, 2, 3):
            raise ValueError(f"dim must be 1, 2 or 3, got {self.dim!r}")
        if self.smoothness not in (1, 2):
            raise ValueError(f"smoothness must be 1 or 2, got {self.smoothness!r}")

    @property
    def l(self) -> int:  # noqa: E743
        return self.dim // 2 + self.smoothness + 1

    @property
    def continuity(self) -> int:
        return 2 * self.smoothness

    def _check(self, xi: torch.Tensor) -> None:
        if not isinstance(xi, torch.Tensor) or xi.shape[-1:] != (self.dim,):
            raise ValueError(
                f"xi must be a tensor [..., {self.dim}] of reference coordinates, got "
                f"{getattr(xi, 'shape', type(xi))}"
            )

    def value(self, xi: torch.Tensor) -> torch.Tensor:
        """``phi(|xi|)`` for reference points ``xi: [..., dim]`` -> ``[...]`` (0 outside)."""
        self._check(xi)
        r = xi.norm(dim=-1)
        s = (1 - r).clamp_min(0)
        l = self.l  # noqa: E741
        if self.smoothness == 1:
            return s ** (l + 1) * ((l + 1) * r + 1)
        return s ** (l + 2) * ((l + 1) * (l + 3) * r**2 + 3 * (l + 2) * r + 3) / 3

    def gradient(self, xi: torch.Tensor) -> torch.Tensor:
        """``grad_xi phi`` at ``xi: [..., dim]`` -> ``[..., dim]`` (0 outside the ball)."""
        self._check(xi)
        r = xi.norm(dim=-1)
        s = (1 - r).clamp_min(0)
        l = self.l  # noqa: E741
        if self.smoothness == 1:
            g = -(l + 1) * (l + 2) * s**l
        else:
            g = -(l + 3) * (l + 4) * s ** (l + 1) * (1 + (l + 1) * r) / 3
        return g.unsqueeze(-1) * xi
