"""Schedules for regularization weights (exponential decay, as in Pal et al. 2021)."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["ExponentialDecay", "Constant"]


@dataclass(frozen=True)
class ExponentialDecay:
    """``w(i) = max(end, start * (end / start) ** (i / steps))``: from ``start`` to ``end`` over
    ``steps`` iterations, then constant at ``end``.

    >>> s = ExponentialDecay(start=100.0, end=1.0, steps=10)
    >>> [round(s(i), 3) for i in (0, 5, 10, 20)]
    [100.0, 10.0, 1.0, 1.0]
    """

    start: float
    end: float
    steps: int

    def __post_init__(self) -> None:
        if not (self.start > 0 and self.end > 0):
            raise ValueError(f"start and end must be > 0, got start={self.start}, end={self.end}")
        if self.steps <= 0:
            raise ValueError(f"steps must be a positive int, got {self.steps}")

    def __call__(self, i: int) -> float:
        if i >= self.steps:
            return self.end
        return self.start * math.exp(math.log(self.end / self.start) * i / self.steps)


@dataclass(frozen=True)
class Constant:
    """``w(i) = value``."""

    value: float

    def __call__(self, i: int) -> float:
        return self.value
