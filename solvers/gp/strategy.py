"""The contract of a GP-HM fit strategy: how the negative log joint is minimised.

A strategy is a small object holding its own settings (steps, learning rate, ...). It is
handed a model and a :class:`~sciml.solvers.gp.monitor.Monitor` and runs; it keeps no state
between fits. Strategies declare what :func:`~sciml.solvers.gp.solve.solve_gp` needs to know
before the fit: whether the noise precisions are learned, their default level, and the
number of steps (for the progress bar).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from sciml.grid import Grid
    from sciml.solvers.gp.model import KroneckerGPSolver
    from sciml.solvers.gp.monitor import Monitor

__all__ = ["FitStrategy"]


class FitStrategy(ABC):
    """Base class of the fit strategies.

    Class attributes (the contract):
        name: label used in progress bars and reports.
        learn_noise: whether ``tau_b, tau_r`` are optimised (else held at their initial value).
        default_noise_level: precision level set from the data before the fit
            (:func:`~sciml.solvers.gp.initialization.set_noise_from_data`); ``None`` leaves
            ``tau = 1`` (the published recipe).
    """

    name: ClassVar[str] = "strategy"
    learn_noise: ClassVar[bool] = True
    default_noise_level: ClassVar[float | None] = None

    def check(self, grid: Grid, pde: Any = None) -> None:  # noqa: B027 (optional hook)
        """Raise ``ValueError`` if the strategy cannot run for ``pde`` on ``grid`` (default:
        it can)."""

    @property
    @abstractmethod
    def total_steps(self) -> int:
        """Expected number of optimiser steps (for the progress bar)."""

    @abstractmethod
    def fit(self, model: KroneckerGPSolver, monitor: Monitor) -> dict[str, Any]:
        """Minimise ``model.loss()`` in place; report through ``monitor``; return extra
        information for :attr:`GPSolution.info <sciml.solvers.gp.solution.GPSolution.info>`."""
