"""Losses for training a search direction without solving anything.

* :func:`energy_loss` (used for training): the fraction of the A-norm error left after the
  best step in ``span{q, z}`` with ``z = D^-1 r`` (the Jacobi direction DCDM's safeguard also
  offers),

  .. math::

      L = 1 - \\frac{(z \\cdot r)^2 / z^T A z + (\\tilde q \\cdot r)^2 / \\tilde q^T A \\tilde q}
                    {e \\cdot r},
      \\qquad \\tilde q = q - \\frac{q^T A z}{z^T A z} z,

  for a residual ``r = A e`` whose error ``e`` is known (training draws ``e`` first, or takes
  ``e_k = x* - x_k`` from a DCDM run on ``b = A x*``). ``L`` is in ``[0, 1]``; it is the
  squared convergence factor of one iteration, so the network learns to remove what Jacobi
  cannot: the smooth, long-range part of the error.
* :func:`residual_loss`: the paper's ``||b - (q.b / q.Aq) A q||^2 / ||b||^2`` (Kaneda et al.,
  ICML 2023, eq. 5): the residual after one exact line search along ``q``.

Both are invariant to the scale (and sign) of ``q``.
"""

from __future__ import annotations

import torch

__all__ = ["energy_loss", "residual_loss"]


def _check(name_shapes: dict[str, torch.Tensor]) -> None:
    shapes = {k: tuple(v.shape) for k, v in name_shapes.items()}
    first = next(iter(shapes.values()))
    if len(first) != 2 or any(s != first for s in shapes.values()):
        listing = ", ".join(f"{k}: {list(s)}" for k, s in shapes.items())
        raise ValueError(f"{', '.join(shapes)} must all be [B, n]; got {listing}")


def energy_loss(
    q: torch.Tensor,
    Aq: torch.Tensor,
    r: torch.Tensor,
    e: torch.Tensor,
    z: torch.Tensor,
    Az: torch.Tensor,
) -> torch.Tensor:
    """Per-sample A-norm error fraction left after the best step in ``span{q, z}``: ``[B]``.

    Args:
        q, Aq: direction and ``A q``, ``[B, n]`` (gradients flow through them).
        r, e: residual and error, ``r = A e``, ``[B, n]``.
        z, Az: the second candidate (Jacobi: ``D^-1 r``) and ``A z``, ``[B, n]``.
    """
    _check({"q": q, "Aq": Aq, "r": r, "e": e, "z": z, "Az": Az})
    q, Aq = q.double(), Aq.double()
    r, e, z, Az = r.double(), e.double(), z.double(), Az.double()
    zAz = (z * Az).sum(-1).clamp_min(1e-300)
    coef = (q * Az).sum(-1) / zAz
    qt = q - coef[:, None] * z
    Aqt = Aq - coef[:, None] * Az
    qAq = (qt * Aqt).sum(-1)
    tiny = 1e-30 * (q * Aq).sum(-1).abs() + 1e-300
    gain = (z * r).sum(-1) ** 2 / zAz + (qt * r).sum(-1) ** 2 / (qAq + tiny)
    return 1.0 - gain / (e * r).sum(-1).clamp_min(1e-300)


def residual_loss(q: torch.Tensor, b: torch.Tensor, Aq: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ``||b - (q.b / q.Aq) A q||^2 / ||b||^2`` (``q, b, Aq: [B, n]``)."""
    _check({"q": q, "b": b, "Aq": Aq})
    qb = (q * b).sum(-1)
    qAq = (q * Aq).sum(-1)
    alpha = qb / torch.where(qAq.abs() > 0, qAq, torch.ones_like(qAq))
    res = b - alpha[:, None] * Aq
    return (res.square().sum(-1) / b.square().sum(-1)).mean()
