"""Darcy recipes of the DGNO benchmarks (Zang & Koutsourelakis 2025): 29x29, ``f = 10``.

``-div(a grad u) = 10`` on the unit square, ``u = 0`` on the boundary, coefficient and
solution co-located on a 29x29 vertex grid, ground truth by FEniCSx (P1 on a mesh ``refine``
times finer, MUMPS):

* ``darcy-two-phase``: two-phase media, ``a = 10`` where a Gaussian random field
  (``alpha=2, tau=3``, drawn on the 29x29 grid) is ``>= 0`` and ``5`` elsewhere. The FEM
  coefficient is the grid field's nearest-point extension (piecewise constant on the grid
  points' cells, jumps kept sharp), so the 29x29 input determines the solution exactly and a
  physics loss that reads ``a`` from the input by nearest-point lookup sees the same PDE.
* ``darcy-two-phase-ood``: the same with ``tau=6`` (half the correlation length: more, smaller
  inclusions), an out-of-distribution test set for models trained on ``darcy-two-phase``.
* ``darcy-lognormal``: smooth ``a = exp(g)``, ``g`` a Matern field (``nu=1.5``, length scale
  0.2, variance 0.25) drawn on the FEM grid (multilinear at the cells).
* ``darcy-two-phase-inverse`` / ``darcy-lognormal-inverse``: the same fields plus sparse noisy
  observations of ``u`` for inverse problems: for each count in ``observations`` (default
  100 and 25) that many distinct interior grid points, and values ``u + sigma eps`` with
  ``sigma^2 = mean(u_obs^2) / 10^(snr_db / 10)`` (25 dB). Extras ``obs_index_<n> [N, n]``
  (flat C-order index into the 29x29 grid), ``obs_value_<n> [N, n]``, ``obs_sigma_<n> [N]``.

Inputs ``[N, 1, 29, 29]`` are the coefficient, outputs ``[N, 1, 29, 29]`` the solution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sciml.datasets.recipe import Recipe, SampleBatch
from sciml.grid import Grid
from sciml.mesh import Mesh
from sciml.physics.fem import GridCoefficientElliptic
from sciml.physics.fields.random_fields import gaussian_random_field, matern_field, threshold_field

__all__ = ["DgnoDarcyParams", "observation_noise_sigma"]


@dataclass
class DgnoDarcyParams:
    """Parameters of the DGNO Darcy recipes: grid, FEM refinement, media, observations.

    ``alpha, tau, high, low`` shape the two-phase media, ``nu, length_scale, variance`` the
    log-normal (Matern) media; ``observations`` is a comma-separated list of observation
    counts and ``snr_db`` their signal-to-noise ratio (inverse recipes only).
    """

    resolution: int = 29
    refine: int = 2
    forcing: float = 10.0
    # two-phase media
    alpha: float = 2.0
    tau: float = 3.0
    high: float = 10.0
    low: float = 5.0
    # log-normal media
    nu: float = 1.5
    length_scale: float = 0.2
    variance: float = 0.25
    # observations (inverse recipes)
    observations: str = "100,25"
    snr_db: float = 25.0


def observation_noise_sigma(values: np.ndarray, snr_db: float) -> float:
    """``sigma = sqrt(mean(values^2) / 10^(snr_db / 10))``: the noise of a given SNR."""
    return float(np.sqrt(np.mean(np.square(values)) / 10.0 ** (snr_db / 10.0)))


class _DgnoDarcy(Recipe):
    Params = DgnoDarcyParams
    version = 2  # 2: resolution-consistent random fields (same seed, same field at any size)
    input_names = ("coefficient",)
    output_names = ("pressure",)
    #: "two-phase" or "lognormal"
    medium: str = "two-phase"
    with_observations: bool = False
    tau_default: float | None = None  # the OOD recipe's length scale

    def params(self, overrides=None):
        overrides = dict(overrides or {})
        if self.tau_default is not None:
            overrides.setdefault("tau", self.tau_default)
        return super().params(overrides)

    def validate(self, p: DgnoDarcyParams) -> None:
        if p.resolution < 5:
            raise ValueError(f"resolution must be >= 5, got {p.resolution}")
        if p.refine < 1:
            raise ValueError(f"refine must be >= 1, got {p.refine}")
        if not (p.low > 0 and p.high > 0):
            raise ValueError(f"low and high must be positive, got {p.low}, {p.high}")
        counts = self.counts(p)
        interior = (p.resolution - 2) ** 2
        if any(n < 1 or n > interior for n in counts):
            raise ValueError(
                f"observations must be counts in [1, {interior}] (interior grid points), "
                f"got {p.observations!r}"
            )

    def counts(self, p: DgnoDarcyParams) -> list[int]:
        try:
            return [int(s) for s in str(p.observations).split(",") if s.strip()]
        except ValueError:
            raise ValueError(
                f"observations must be comma-separated counts like '100,25', got {p.observations!r}"
            ) from None

    def grid(self, p: DgnoDarcyParams) -> Grid:
        return Grid((p.resolution, p.resolution))

    def coefficient(self, p: DgnoDarcyParams, seeds: np.ndarray) -> tuple[Grid, np.ndarray, str]:
        """``(grid, a [b, *grid.shape], sampling)``: the field handed to the FEM solver."""

        if self.medium == "two-phase":
            grid = self.grid(p)
            g = gaussian_random_field(
                grid, seeds.tolist(), alpha=p.alpha, tau=p.tau, dtype=torch.float64
            )
            a = threshold_field(g, high=p.high, low=p.low)
            return grid, a[:, 0].numpy(), "nearest"
        fine = Grid(((p.resolution - 1) * p.refine + 1,) * 2)
        g = matern_field(
            fine,
            seeds.tolist(),
            nu=p.nu,
            length_scale=p.length_scale,
            variance=p.variance,
            dtype=torch.float64,
        )
        return fine, np.exp(g[:, 0].numpy()), "linear"

    def worker(self, p: DgnoDarcyParams):

        cells = (p.resolution - 1) * p.refine
        mesh = Mesh.rectangle(cells, cells)
        solver = GridCoefficientElliptic(mesh, degree=1, solver="mumps")
        r = p.refine
        # mesh vertex (i, j) is node i * (cells + 1) + j; output points are every r-th vertex
        node = np.arange(mesh.num_points).reshape(cells + 1, cells + 1)[::r, ::r]
        counts = self.counts(p) if self.with_observations else []
        interior = np.arange(p.resolution**2).reshape(p.resolution, p.resolution)[1:-1, 1:-1]
        interior = interior.ravel()

        def run(seeds: np.ndarray) -> SampleBatch:
            grid, coef, sampling = self.coefficient(p, seeds)
            step = (grid.shape[0] - 1) // (p.resolution - 1)
            outputs = []
            extras: dict[str, list] = {}
            for b, seed in enumerate(seeds):  # one FEM solve per sample
                u = solver.solve(grid, coef[b], p.forcing, sampling=sampling).values()[node]
                outputs.append(u)
                rng = np.random.default_rng([int(seed), 7919])
                flat = u.ravel()
                for n in counts:
                    idx = np.sort(rng.choice(interior, size=n, replace=False))
                    sigma = observation_noise_sigma(flat[idx], p.snr_db)
                    noisy = flat[idx] + sigma * rng.standard_normal(n)
                    extras.setdefault(f"obs_index_{n}", []).append(idx.astype(np.int64))
                    extras.setdefault(f"obs_value_{n}", []).append(noisy.astype(np.float32))
                    extras.setdefault(f"obs_sigma_{n}", []).append(np.float32(sigma))
            inputs = coef[:, ::step, ::step][:, None].astype(np.float32)
            return SampleBatch(
                inputs,
                np.stack(outputs)[:, None].astype(np.float32),
                {k: np.stack(v) for k, v in extras.items()},
            )

        return run


class DarcyTwoPhase(_DgnoDarcy):
    name = "darcy-two-phase"
    description = "two-phase Darcy (a in {5, 10}, f = 10, 29x29), FEniCSx P1 (DGNO benchmark)"


class DarcyTwoPhaseOOD(_DgnoDarcy):
    name = "darcy-two-phase-ood"
    description = "darcy-two-phase with half the correlation length (tau = 6): OOD test set"
    tau_default = 6.0


class DarcyLognormal(_DgnoDarcy):
    name = "darcy-lognormal"
    description = "smooth Darcy, a = exp(Matern field), f = 10, 29x29, FEniCSx P1 (DGNO)"
    medium = "lognormal"


class DarcyTwoPhaseInverse(_DgnoDarcy):
    name = "darcy-two-phase-inverse"
    description = "darcy-two-phase + noisy u at 100 and 25 interior points (25 dB): inverse tests"
    with_observations = True


class DarcyLognormalInverse(_DgnoDarcy):
    name = "darcy-lognormal-inverse"
    description = "darcy-lognormal + noisy u at 100 and 25 interior points (25 dB): inverse tests"
    medium = "lognormal"
    with_observations = True
