"""What a fit strategy reports while it runs: counters, loss, error history, progress bar.

A :class:`Monitor` is handed to every fit strategy (:mod:`sciml.solvers.gp.adam`, ...). The
strategy calls :meth:`Monitor.step` after each optimiser step and :meth:`Monitor.record` at
monitoring points; the monitor keeps the history, the first time the error crossed the target
and the progress bar. The exact solution is only used here, never in a loss.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from tqdm.auto import tqdm

from sciml.grid import Grid

if TYPE_CHECKING:
    from sciml.solvers.gp.model import KroneckerGPSolver

__all__ = ["Monitor"]


class Monitor:
    """Counters and history of one fit.

    Args:
        model: the model being fitted (its :meth:`~KroneckerGPSolver.predict` is monitored).
        exact: optional exact solution ``u(points: [P, ndim]) -> [P]``.
        test_points: where the error is measured (needed with ``exact``): points
            ``[P, ndim]``, or a :class:`~sciml.grid.Grid` of the same box (predicted with
            mode-wise products, much cheaper on fine grids).
        target: relative L2 whose first crossing is reported.
        every: steps between monitoring points (and progress-bar updates) of step-wise
            optimisers.
        total: expected number of steps (progress bar); ``desc``: its label;
            ``progress``: show it.

    Attributes: ``steps``, ``evals`` (loss and gradient evaluations), ``loss`` (last value),
    ``history`` (one dict per monitoring point: ``step, evals, time, loss, rel_l2?``),
    ``time_to_target``, ``evals_to_target``.
    """

    def __init__(
        self,
        model: KroneckerGPSolver,
        *,
        exact: Callable[[torch.Tensor], torch.Tensor] | None = None,
        test_points: torch.Tensor | Grid | None = None,
        target: float = 1e-3,
        every: int = 50,
        total: int | None = None,
        desc: str = "GP-HM",
        progress: bool = True,
    ) -> None:
        pass

        if every < 1:
            raise ValueError(f"monitor_every must be >= 1, got {every}")
        self.model = model
        self.every = int(every)
        self.target = float(target)
        self.ref = None
        self.test_points = test_points
        if exact is not None:
            if test_points is None:
                raise ValueError("exact needs test_points")
            pts = test_points
            if isinstance(test_points, Grid):
                pts = test_points.points(model.latent.device, model.latent.dtype)
            self.ref = exact(pts).reshape(-1).to(model.latent.dtype)
        self.steps = 0
        self.evals = 0
        self.loss = math.nan
        self.history: list[dict[str, float]] = []
        self.time_to_target: float | None = None
        self.evals_to_target: int | None = None
        self.bar = tqdm(total=total, desc=desc, unit="step", disable=not progress)
        self.t0 = time.perf_counter()

    @property
    def elapsed(self) -> float:
        """Seconds since the monitor started."""
        return time.perf_counter() - self.t0

    def step(self, loss: float | None, *, steps: int = 1, evals: int = 1) -> None:
        """Count ``steps`` optimiser steps and ``evals`` evaluations; ``loss`` is the latest
        loss value (``None`` keeps the previous one). Raises ``FloatingPointError`` when the
        loss is not finite."""
        self.steps += steps
        self.evals += evals
        self.bar.update(steps)
        if loss is not None:
            self.loss = float(loss)
            if not math.isfinite(self.loss):
                raise FloatingPointError(f"loss became {self.loss} at step {self.steps}")

    def rel_l2(self) -> float | None:
        """Relative L2 error of the model at the test points now (``None`` without exact)."""
        if self.ref is None:
            return None
        if isinstance(self.test_points, Grid):
            pred = self.model.predict_grid(self.test_points).reshape(-1)
        else:
            pred = self.model.predict(self.test_points)
        return float((pred - self.ref).norm() / self.ref.norm().clamp_min(1e-300))

    def record(self) -> dict[str, float]:
        """Append a monitoring point to :attr:`history` (and return it)."""
        row = {"step": self.steps, "evals": self.evals, "time": self.elapsed, "loss": self.loss}
        err = self.rel_l2()
        if err is not None:
            row["rel_l2"] = err
            if self.time_to_target is None and err <= self.target:
                self.time_to_target, self.evals_to_target = row["time"], self.evals
        self.history.append(row)
        self.bar.set_postfix(
            {k: f"{v:.3g}" for k, v in row.items() if k in ("loss", "rel_l2")}, refresh=False
        )
        return row

    def close(self) -> None:
        """Close the progress bar."""
        self.bar.close()
