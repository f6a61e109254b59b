"""Choosing a penalty weight on validation data (pure functions; no torch).

A sweep trains one model per penalty weight and measures, on the validation split, its error
(lower is better) and the NFE of the plain prediction solve. :func:`select_weight` then takes
the weight that cuts the prediction NFE most among those whose validation error stays within
``tolerance`` times the unregularized model's; when no weight both keeps the error and lowers
the NFE, it returns ``None``: the unregularized model is kept, so the regularizer never costs
accuracy. :func:`pareto_front` gives the weights no other weight beats on both counts.

>>> base = Candidate(weight=0.0, val_error=0.100, predict_nfe=40)
>>> ladder = [Candidate(0.1, 0.101, 38), Candidate(1.0, 0.104, 26), Candidate(10.0, 0.2, 14)]
>>> select_weight(ladder, base).weight  # 10.0 is cheaper but 2x worse
1.0
>>> print(select_weight([Candidate(1.0, 0.099, 40)], base))  # no NFE saved: keep the baseline
None
>>> [c.weight for c in pareto_front([base, *ladder])]
[0.0, 0.1, 1.0, 10.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Candidate", "select_weight", "pareto_front", "within_tolerance"]


@dataclass(frozen=True)
class Candidate:
    """One swept weight, measured on validation data: ``weight`` (0 for the unregularized
    model), ``val_error`` (lower is better), ``predict_nfe`` and, optionally,
    ``predict_time_s`` (means over seeds in a multi-seed sweep)."""

    weight: float
    val_error: float
    predict_nfe: float
    predict_time_s: float | None = None


def within_tolerance(candidate: Candidate, baseline: Candidate, tolerance: float) -> bool:
    """True when ``candidate.val_error <= tolerance * baseline.val_error`` (NaN: False)."""
    if not tolerance >= 1.0:
        raise ValueError(f"tolerance must be >= 1 (a factor on the baseline), got {tolerance}")
    err = candidate.val_error
    return not math.isnan(err) and err <= tolerance * baseline.val_error


def select_weight(
    candidates: Sequence[Candidate], baseline: Candidate, *, tolerance: float = 1.05
) -> Candidate | None:
    """The candidate with the fewest prediction NFE among those within ``tolerance`` of the
    baseline's validation error and strictly cheaper than the baseline; ties go to the lower
    validation error, then the smaller weight. ``None`` when no candidate qualifies (keep the
    unregularized model)."""
    ok = [
        c
        for c in candidates
        if within_tolerance(c, baseline, tolerance) and c.predict_nfe < baseline.predict_nfe
    ]
    if not ok:
        return None
    return min(ok, key=lambda c: (c.predict_nfe, c.val_error, c.weight))


def pareto_front(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The candidates no other one beats on both validation error and prediction NFE (at least
    as good on both, better on one), sorted by validation error; NaN errors are left out."""
    pts = [c for c in candidates if not math.isnan(c.val_error)]
    front = [
        c
        for c in pts
        if not any(
            o.val_error <= c.val_error
            and o.predict_nfe <= c.predict_nfe
            and (o.val_error < c.val_error or o.predict_nfe < c.predict_nfe)
            for o in pts
        )
    ]
    return sorted(front, key=lambda c: (c.val_error, c.predict_nfe))
