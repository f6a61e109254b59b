"""``solve_gp``: the one entry point of the GP-HM solver."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from sciml.grid import Grid
from sciml.io import check_memory
from sciml.solvers.gp.auto_grid import choose_grid
from sciml.solvers.gp.densities import Gaussian, SpectralDensity
from sciml.solvers.gp.gauss_newton import GaussNewton
from sciml.solvers.gp.initialization import FrequencyInit
from sciml.solvers.gp.model import KroneckerGPSolver
from sciml.solvers.gp.monitor import Monitor
from sciml.solvers.gp.solution import GPSolution
from sciml.solvers.gp.strategy import FitStrategy

__all__ = ["SpectralMixturePrior", "solve_gp"]


@dataclass(frozen=True)
class SpectralMixturePrior:
    """The GP-HM prior: a product over axes of spectral-mixture kernels.

    Args:
        num_mixtures: components ``Q`` per axis.
        density: their :class:`~sciml.solvers.gp.densities.SpectralDensity` (default
            ``Gaussian()``; ``StudentT()`` gives Matern-5/2 envelopes).
        jitter: relative diagonal jitter per axis (default by dimension; see
            :class:`~sciml.solvers.gp.model.KroneckerGPSolver`).
        boundary_weight: ``lambda_b``.
        whitened: solve for ``z`` with ``U = L z`` (same objective, better conditioned).
    """

    num_mixtures: int = 30
    density: SpectralDensity = field(default_factory=Gaussian)
    jitter: float | None = None
    boundary_weight: float = 1.0
    whitened: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.num_mixtures, int) or self.num_mixtures < 1:
            raise ValueError(f"num_mixtures must be a positive int, got {self.num_mixtures!r}")
        if not isinstance(self.density, SpectralDensity):
            raise TypeError(
                f"density must be a SpectralDensity (Gaussian() or StudentT()), got "
                f"{self.density!r}"
            )


def _memory_estimate(strategy: FitStrategy, grid: Grid) -> float:
    """Bytes of a solve: per-axis kernel matrices and eigenvectors (``~8 n_d^2`` doubles per
    axis), a few dozen grid vectors, and the dense Gauss-Newton matrix when the strategy
    forms one (``3 N^2`` doubles)."""
    n = grid.size
    axes = sum(8 * 8 * s**2 for s in grid.shape)
    dense = 8 * 3 * n**2 if getattr(strategy, "solver_for", None) and (
        strategy.solver_for(n) == "dense"
    ) else 0  # fmt: skip
    return axes + 8 * 64 * n + dense


def solve_gp(
    pde: Any,
    grid: Grid | None,
    boundary: Callable[[torch.Tensor], torch.Tensor] | torch.Tensor,
    *,
    method: FitStrategy | None = None,
    prior: SpectralMixturePrior | None = None,
    init: FrequencyInit | None = None,
    faces: Sequence[str] | None = None,
    bounds: Sequence[Sequence[float]] | None = None,
    points_per_wavelength: float = 4.0,
    noise_level: float | None = None,
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
        pde, boundary, faces: see :class:`~sciml.solvers.gp.model.KroneckerGPSolver`.
        grid: the collocation grid, or ``None`` to choose it from the spectra of the forcing
            and of a callable ``boundary`` (:func:`~sciml.solvers.gp.auto_grid.choose_grid`
            with ``bounds`` and ``points_per_wavelength``; the choice is in
            ``GPSolution.info["auto_grid"]``).
        method: how the loss is minimised, a :class:`~sciml.solvers.gp.strategy.FitStrategy`:
            :class:`~sciml.solvers.gp.gauss_newton.GaussNewton` (default: dense solves on small
            grids, matrix-free Kronecker CG on large ones),
            :class:`~sciml.solvers.gp.adam.Adam` (the published recipe) or
            :class:`~sciml.solvers.gp.adam_lbfgs.AdamLBFGS`.
        prior: the Kronecker spectral-mixture prior (:class:`SpectralMixturePrior`: mixtures
            per axis, spectral density, jitter, boundary weight, whitened unknowns).
        init: the frequencies' start, :class:`~sciml.solvers.gp.initialization.SpectrumInit`
            (default) or :class:`~sciml.solvers.gp.initialization.UniformInit`.
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
    strategy = GaussNewton() if method is None else method
    if not isinstance(strategy, FitStrategy):
        raise TypeError(
            f"method must be a FitStrategy (GaussNewton(), Adam(), AdamLBFGS()), got {method!r}"
        )
    prior = SpectralMixturePrior() if prior is None else prior
    if not isinstance(prior, SpectralMixturePrior):
        raise TypeError(f"prior must be a SpectralMixturePrior, got {prior!r}")
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
    check_memory(_memory_estimate(strategy, grid), f"a GP-HM solve on a {grid.shape} grid")
    model = KroneckerGPSolver(
        pde,
        grid,
        boundary,
        faces=faces,
        num_mixtures=prior.num_mixtures,
        density=prior.density,
        jitter=prior.jitter,
        boundary_weight=prior.boundary_weight,
        learn_noise=strategy.learn_noise,
        whitened=prior.whitened,
        dtype=dtype,
        device=device,
    )
    peaks = model.initialize(init)
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
