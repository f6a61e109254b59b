"""``solve_gp``: the one entry point of the GP-HM solver."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from sciml.grid import Grid
from sciml.solvers.gp.adam import Adam
from sciml.solvers.gp.adam_lbfgs import AdamLBFGS
from sciml.solvers.gp.auto_grid import choose_grid
from sciml.solvers.gp.gauss_newton import GaussNewton
from sciml.solvers.gp.model import KroneckerGPSolver
from sciml.solvers.gp.monitor import Monitor
from sciml.solvers.gp.solution import GPSolution
from sciml.solvers.gp.strategy import FitStrategy

__all__ = ["METHODS", "solve_gp", "strategy_from_name"]

METHODS = ("adam", "adam+lbfgs", "gauss-newton")


def strategy_from_name(
    method: str,
    *,
    adam_steps: int = 200,
    lr: float = 1e-2,
    lbfgs_steps: int = 0,
    newton_steps: int = 3,
    settle_tol: float = 1e-3,
    dense_limit: int = 6000,
) -> FitStrategy:
    """The fit strategy called ``method`` (one of :data:`METHODS`) with these settings."""
    if method == "adam":
        return Adam(steps=adam_steps, lr=lr)
    if method == "adam+lbfgs":
        return AdamLBFGS(
            adam_steps=adam_steps, lbfgs_steps=lbfgs_steps, lr=lr, settle_tol=settle_tol
        )
    if method == "gauss-newton":
        return GaussNewton(
            newton_steps=newton_steps, adam_steps=adam_steps, lr=lr, dense_limit=dense_limit
        )
    raise ValueError(f"method must be one of {METHODS} or a FitStrategy, got {method!r}")


def solve_gp(
    pde: Any,
    grid: Grid | None,
    boundary: Callable[[torch.Tensor], torch.Tensor] | torch.Tensor,
    *,
    faces: Sequence[str] | None = None,
    bounds: Sequence[Sequence[float]] | None = None,
    points_per_wavelength: float = 4.0,
    method: str | FitStrategy = "gauss-newton",
    num_mixtures: int = 30,
    density: str = "gaussian",
    init: str = "spectrum",
    max_frequency: float | Sequence[float] | None = None,
    lengthscale: float | None = None,
    adam_steps: int = 200,
    lr: float = 1e-2,
    lbfgs_steps: int = 0,
    newton_steps: int = 3,
    settle_tol: float = 1e-3,
    noise_level: float | None = None,
    jitter: float | None = None,
    boundary_weight: float = 1.0,
    parametrization: str = "values",
    dense_limit: int = 6000,
    exact: Callable[[torch.Tensor], torch.Tensor] | None = None,
    test_points: torch.Tensor | Grid | None = None,
    target: float = 1e-3,
    monitor_every: int = 50,
    progress: bool = True,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> GPSolution:
    """Solve ``pde`` on ``grid`` with GP-HM.

    Args:
        pde, boundary, faces, num_mixtures, density, jitter, boundary_weight,
            parametrization: see :class:`~sciml.solvers.gp.model.KroneckerGPSolver`.
        grid: the collocation grid, or ``None`` to choose it from the spectra of the forcing
            and of a callable ``boundary`` (:func:`~sciml.solvers.gp.auto_grid.choose_grid`
            with ``bounds`` and ``points_per_wavelength``; the choice is in
            ``GPSolution.info["auto_grid"]``).
        method: how the loss is minimised: a :class:`~sciml.solvers.gp.strategy.FitStrategy`
            object, or one of the names below, built from ``adam_steps, lr, lbfgs_steps,
            newton_steps, settle_tol, dense_limit`` (:func:`strategy_from_name`):

            * ``"adam"`` -- :class:`~sciml.solvers.gp.adam.Adam`, the published recipe;
            * ``"adam+lbfgs"`` -- :class:`~sciml.solvers.gp.adam_lbfgs.AdamLBFGS`;
            * ``"gauss-newton"`` (default) -- :class:`~sciml.solvers.gp.gauss_newton.GaussNewton`
              (dense solves on small grids, matrix-free Kronecker CG on large ones).
        init, max_frequency, lengthscale: see
            :func:`~sciml.solvers.gp.initialization.initialize_frequencies`.
        noise_level: initial precisions ``1 / (noise_level * data scale)^2``
            (:func:`~sciml.solvers.gp.initialization.set_noise_from_data`); ``None``: the
            strategy's ``default_noise_level`` (``tau = 1`` for the Adam methods, as
            published; ``1e-7`` for Gauss-Newton).
        exact: optional exact solution ``u(points: [P, ndim]) -> [P]``, used only to MONITOR
            the error (never in the loss); ``test_points``: where -- points ``[P, ndim]`` or a
            :class:`~sciml.grid.Grid` (default: the grid refined twice).
        target: relative L2 whose first crossing is reported (time and evaluations).
        monitor_every: steps between monitoring points (and progress-bar updates).

    Returns:
        :class:`~sciml.solvers.gp.solution.GPSolution` of the FINAL iterate (no checkpoint
        is picked by test error).
    """
    if isinstance(method, str):
        strategy = strategy_from_name(
            method,
            adam_steps=adam_steps,
            lr=lr,
            lbfgs_steps=lbfgs_steps,
            newton_steps=newton_steps,
            settle_tol=settle_tol,
            dense_limit=dense_limit,
        )
    elif isinstance(method, FitStrategy):
        strategy = method
    else:
        raise TypeError(f"method must be a name or a FitStrategy, got {type(method).__name__}")
    if monitor_every < 1:
        raise ValueError(f"monitor_every must be >= 1, got {monitor_every}")
    auto = None
    if grid is None:
        choice = choose_grid(
            pde,
            bounds,
            boundary=boundary if callable(boundary) else None,
            faces=faces,
            points_per_wavelength=points_per_wavelength,
            dtype=dtype,
        )
        grid = choice.grid
        auto = {"shape": list(grid.shape), "frequencies": choice.frequencies}
    elif not isinstance(grid, Grid):
        raise TypeError(f"grid must be a sciml.grid.Grid or None, got {type(grid).__name__}")
    strategy.check(grid, pde)
    model = KroneckerGPSolver(
        pde,
        grid,
        boundary,
        faces=faces,
        num_mixtures=num_mixtures,
        density=density,
        jitter=jitter,
        boundary_weight=boundary_weight,
        learn_noise=strategy.learn_noise,
        parametrization=parametrization,
        dtype=dtype,
        device=device,
    )
    peaks = model.initialize(init=init, max_frequency=max_frequency, lengthscale=lengthscale)
    level = noise_level if noise_level is not None else strategy.default_noise_level
    if level is not None:
        model.set_noise_from_data(level)
    if exact is not None:
        if test_points is None:
            test_points = grid.refine(2)
        if not isinstance(test_points, Grid):
            test_points = torch.as_tensor(test_points, dtype=dtype, device=device)
    monitor = Monitor(
        model,
        exact=exact,
        test_points=test_points,
        target=target,
        every=monitor_every,
        total=strategy.total_steps,
        desc=f"GP-HM {strategy.name}",
        progress=progress,
    )
    try:
        info = strategy.fit(model, monitor)
    finally:
        monitor.close()
    if auto is not None:
        info["auto_grid"] = auto
    if not monitor.history or monitor.history[-1]["step"] != monitor.steps:
        if monitor.loss != monitor.loss:  # NaN: no step computed a loss
            monitor.loss = float(model.loss()[0].detach())
        monitor.record()
    return GPSolution(
        model=model,
        history=monitor.history,
        steps=monitor.steps,
        evals=monitor.evals,
        wall_time=monitor.elapsed,
        time_to_target=monitor.time_to_target,
        evals_to_target=monitor.evals_to_target,
        peaks=peaks,
        info=info,
    )
