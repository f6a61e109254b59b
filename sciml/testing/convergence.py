"""Observed order of convergence: the one helper every convergence test and tutorial uses.

A method of order ``p`` has errors ``e(h) ~ C h^p``; the observed order is the slope of
``log e`` against ``log h``, fitted by least squares over all refinements (with two
refinements it is ``log(e0 / e1) / log(h0 / h1)``). STYLE.md: convergence is measured, not
eyeballed. This module needs only numpy (no pytest), so tutorials may import it.

>>> observed_order([4e-2, 1e-2, 2.5e-3], [0.1, 0.05, 0.025])   # errors ~ h^2
2.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["observed_order"]


def observed_order(errors: Sequence[float], hs: Sequence[float]) -> float:
    """Least-squares slope of ``log(errors)`` against ``log(hs)``.

    Args:
        errors: errors at each resolution (positive, finite).
        hs: the matching step sizes (grid spacing, time step; positive). Any quantity
            proportional to ``h`` gives the same slope (``1 / n`` for ``n`` points).

    Returns:
        the observed order, rounded to 12 digits (float round-off of the fit).

    Raises:
        ValueError: mismatched lengths, fewer than two points, non-positive or non-finite
            values, or all ``hs`` equal.
    """
    e = np.asarray(errors, dtype=np.float64).reshape(-1)
    h = np.asarray(hs, dtype=np.float64).reshape(-1)
    if e.shape != h.shape or e.size < 2:
        raise ValueError(f"errors and hs must have the same length >= 2, got {e.size} and {h.size}")
    for name, v in (("errors", e), ("hs", h)):
        if not (np.isfinite(v).all() and (v > 0).all()):
            raise ValueError(f"{name} must be positive and finite, got {v.tolist()}")
    if np.ptp(np.log(h)) == 0:
        raise ValueError(f"hs must not all be equal, got {h.tolist()}")
    slope = float(np.polyfit(np.log(h), np.log(e), 1)[0])
    return round(slope, 12) if math.isfinite(slope) else slope
