"""Traversal quality: how much the intended factor changes per step while the others stay."""

from __future__ import annotations

from collections.abc import Callable

import torch
from scipy.optimize import linear_sum_assignment

from sciml.traversal.base import Traversal

__all__ = ["factor_changes", "traversal_quality"]


@torch.no_grad()
def factor_changes(
    traversal: Traversal,
    generator: Callable[[torch.Tensor], torch.Tensor],
    oracle: Callable[[torch.Tensor], torch.Tensor],
    z0: torch.Tensor,
    steps: int,
    *,
    categorical: tuple[int, ...] = (),
    bidirectional: bool = True,
) -> torch.Tensor:
    """Mean absolute change of each factor per step of each traversal: ``[K, F]``.

    Every code of ``z0: [N, d]`` is moved ``steps`` steps by each traversal; the first and last
    frames are decoded by ``generator`` and measured by ``oracle`` (``images -> [M, F]``
    factor estimates in comparable units, e.g.
    :class:`~sciml.traversal.sprite_oracle.SpriteOracle`); the change per step is
    ``|f(x_T) - f(x_0)| / T`` (the net change: measurement noise enters once, not once per
    step). Columns in ``categorical`` count a change when the category differs. With
    ``bidirectional`` the mirrored path ``2 z0 - z_T`` is measured too (a traversal is used
    both ways).
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    f0 = oracle(generator(z0))  # [N, F]
    rows = []
    for k in range(traversal.num_directions):
        end = traversal.trajectory(z0, k, steps)[-1]  # [N, d]
        ends = torch.cat([end, 2 * z0 - end]) if bidirectional else end
        f1 = oracle(generator(ends))
        start = torch.cat([f0, f0]) if bidirectional else f0
        delta = (f1 - start).abs() / steps
        for j in categorical:
            delta[:, j] = (f1[:, j] != start[:, j]).float() / steps
        rows.append(delta.mean(0))
    return torch.stack(rows)


def traversal_quality(changes: torch.Tensor) -> dict[str, object]:
    """Score a ``[K, F]`` change matrix (:func:`factor_changes`).

    Each traversal is assigned its own factor (Hungarian matching that maximises the total
    share of change in the assigned factors). For a traversal ``k`` with factor ``j``, the
    *purity* is ``changes[k, j] / sum_f changes[k, f]`` (1 = only its factor moves) and the
    *rate* is ``changes[k, j]`` (how far its factor moves per step).

    Returns:
        ``{"quality": mean purity, "rate": mean rate, "purity": [K], "factor": [K]}``
        (traversals left without a factor when ``K > F`` score purity 0).
    """

    c = changes.double().clamp_min(0)
    share = c / c.sum(1, keepdim=True).clamp_min(1e-12)
    rows, cols = linear_sum_assignment(-share.numpy())
    k = c.shape[0]
    purity = torch.zeros(k, dtype=torch.float64)
    rate = torch.zeros(k, dtype=torch.float64)
    factor = torch.full((k,), -1, dtype=torch.long)
    for r, j in zip(rows, cols):
        purity[r], rate[r], factor[r] = share[r, j], c[r, j], int(j)
    return {
        "quality": float(purity.mean()),
        "rate": float(rate.mean()),
        "purity": purity,
        "factor": factor,
    }
