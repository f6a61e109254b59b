"""What :func:`sciml.solvers.gp.solve.solve_gp` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sciml.solvers.gp.model import KroneckerGPSolver

__all__ = ["GPSolution"]


@dataclass
class GPSolution:
    """The result of a GP-HM solve.

    ``model``: the trained :class:`~sciml.solvers.gp.model.KroneckerGPSolver`
    (``model.predict(points)`` anywhere); ``history``: per monitored step ``{"step", "evals",
    "time", "loss", "rel_l2"?}``; ``steps`` optimiser steps, ``evals`` loss+gradient
    evaluations, ``wall_time`` seconds; ``time_to_target`` / ``evals_to_target``: first
    monitored point with ``rel_l2 <= target`` (``None`` if never, or if no exact solution was
    given); ``peaks``: frequencies found by ``init="spectrum"``; ``info``: what the strategy
    reports (e.g. CG iterations per Gauss-Newton step).
    """

    model: KroneckerGPSolver
    history: list[dict[str, float]] = field(default_factory=list)
    steps: int = 0
    evals: int = 0
    wall_time: float = 0.0
    time_to_target: float | None = None
    evals_to_target: int | None = None
    peaks: dict[str, list[float]] = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    @property
    def final_rel_l2(self) -> float | None:
        """Relative L2 error of the FINAL iterate (``None`` without an exact solution)."""
        return self.history[-1].get("rel_l2") if self.history else None
