"""Fixed quadrature rules on the reference unit ball (interval in 1-D, disk in 2-D).

A local weak form integrates over many small balls ``B(c, R)``; mapping ``x = c + R xi`` puts
every ball on the same reference ball, so one rule serves all of them:
``int_{B(c,R)} g dx = R^d sum_q w_q g(c + R xi_q)``.

* ``kind="polar"`` (default): Gauss-Legendre in the radius (with the Jacobian ``r`` folded into
  the weights) times the trapezoidal rule in the angle. It integrates ``r^m cos(j theta)``
  exactly for ``m <= 2 n_radial - 2`` and ``|j| < n_angular``, and Wendland test functions are
  polynomials in ``r``, so smooth integrands converge spectrally as the rule is refined.
* ``kind="grid"``: the points of an ``n x n`` uniform grid on ``[-1, 1]^2`` that fall inside the
  open disk, equal weights (the rule of the DGNO/ParticleWNN code; first order, for comparison).

In 1-D both kinds are Gauss-Legendre on ``[-1, 1]``. Weights sum to the ball's volume
(``pi`` for the disk).

>>> q = ball_quadrature(2, n=4)
>>> q.nodes.shape, round(float(q.weights.sum()), 12)
(torch.Size([40, 2]), 3.14159265359)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["BallQuadrature", "ball_quadrature"]


@dataclass(frozen=True)
class BallQuadrature:
    """Nodes ``[Q, d]`` in the unit ball and weights ``[Q]`` (summing to its volume), float64."""

    nodes: torch.Tensor
    weights: torch.Tensor
    kind: str

    @property
    def dim(self) -> int:
        return self.nodes.shape[1]

    @property
    def size(self) -> int:
        return self.nodes.shape[0]

    def to(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> BallQuadrature:
        """The same rule with nodes and weights moved to ``device``/``dtype``."""
        return BallQuadrature(
            self.nodes.to(device=device, dtype=dtype),
            self.weights.to(device=device, dtype=dtype),
            self.kind,
        )


def ball_quadrature(
    dim: int, n: int = 6, *, kind: str = "polar", n_angular: int | None = None
) -> BallQuadrature:
    """A quadrature rule on the unit ball of ``R^dim`` (``dim`` 1 or 2).

    Args:
        n: radial Gauss points (``polar``), Gauss points (1-D), or grid points per axis
            (``grid``).
        kind: ``"polar"`` or ``"grid"`` (see the module docstring).
        n_angular: angles of the polar rule (default ``2 n + 2``, exact for the same
            polynomial degree in both directions).
    """
    if dim not in (1, 2):
        raise ValueError(f"dim must be 1 or 2 (3-D balls are not implemented), got {dim!r}")
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if kind not in ("polar", "grid"):
        raise ValueError(f"kind must be 'polar' or 'grid', got {kind!r}")
    if dim == 1:
        x, w = np.polynomial.legendre.leggauss(n)
        return BallQuadrature(torch.tensor(x)[:, None], torch.tensor(w), kind)
    if kind == "grid":
        t = np.linspace(-1.0, 1.0, n)
        xx, yy = np.meshgrid(t, t, indexing="ij")
        inside = xx**2 + yy**2 < 1.0 - 1e-12
        nodes = np.stack([xx[inside], yy[inside]], axis=1)
        if len(nodes) == 0:
            raise ValueError(f"n={n} puts no grid point inside the unit disk; use n >= 3")
        weights = np.full(len(nodes), math.pi / len(nodes))
        return BallQuadrature(torch.tensor(nodes), torch.tensor(weights), kind)
    m = 2 * n + 2 if n_angular is None else n_angular
    if not isinstance(m, int) or m < 1:
        raise ValueError(f"n_angular must be a positive int, got {n_angular!r}")
    x, w = np.polynomial.legendre.leggauss(n)
    r, wr = 0.5 * (x + 1.0), 0.5 * w * 0.5 * (x + 1.0)  # on [0, 1], Jacobian r folded in
    theta = 2 * math.pi * (np.arange(m) + 0.5) / m
    rr, tt = np.meshgrid(r, theta, indexing="ij")
    nodes = np.stack([(rr * np.cos(tt)).ravel(), (rr * np.sin(tt)).ravel()], axis=1)
    weights = (wr[:, None] * np.full(m, 2 * math.pi / m)[None, :]).ravel()
    return BallQuadrature(torch.tensor(nodes), torch.tensor(weights), kind)
