"""Elliptic recipes solved with FEniCSx on a mesh finer than the output grid.

* ``darcy-pwc``: FNO's piecewise-constant Darcy problem: ``-div(a grad u) = 1`` on the unit
  square, ``u = 0`` on the boundary, ``a = 12`` where a ``(tau=3, alpha=2)`` Gaussian random
  field is ``>= 0`` and ``3`` elsewhere.
* ``darcy-smooth``: the same with a smooth log-normal coefficient ``a = exp(GRF)``.
* ``poisson-multiscale``: ``-Δu = f`` with ``f`` the sum of three GRFs of increasing
  frequency (``tau`` = 3, 12, 48): a solution with features on several scales.

The coefficient (or forcing) is drawn on a vertex grid ``refine`` times finer than the
output grid, handed to FEniCSx cell by cell (DG0), and the P1 solution is read at the mesh
vertices that coincide with the output grid points. Inputs are the coefficient (forcing)
at the output points, as in the FNO data. The nodal solution on the mesh is stored too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sciml.datasets.recipe import Recipe, SampleBatch, child_seeds
from sciml.grid import Grid
from sciml.mesh import Mesh
from sciml.physics.fem import GridCoefficientElliptic
from sciml.physics.fields.random_fields import darcy_coefficient, gaussian_random_field


@dataclass
class DarcyParams:
    """Parameters of the elliptic recipes: output grid, FEM refinement, random field, forcing.

    ``resolution`` points per side of the output grid, ``refine`` the FEM mesh refinement
    over it, ``(alpha, tau)`` the Gaussian random field, ``high``/``low`` the two-phase
    coefficient values, ``forcing`` the constant right-hand side.
    """

    resolution: int = 85
    refine: int = 2
    alpha: float = 2.0
    tau: float = 3.0
    high: float = 12.0
    low: float = 3.0
    forcing: float = 1.0
    store_mesh_values: bool = True


class _EllipticRecipe(Recipe):
    Params = DarcyParams
    signed_params = ("forcing",)
    small_params = {"resolution": 5, "refine": 1}

    def validate(self, p: DarcyParams) -> None:
        if p.resolution < 5:
            raise ValueError(f"params: resolution must be >= 5, got {p.resolution}")
        if p.refine < 1:
            raise ValueError(f"params: refine must be >= 1, got {p.refine}")
        if not p.alpha > 0.5:  # the 2-D Gaussian random field needs alpha > d/4
            raise ValueError(f"params: alpha must be > 0.5 (finite variance), got {p.alpha}")
        if not p.tau > 0:
            raise ValueError(f"params: tau must be > 0, got {p.tau}")
        if not (p.high > 0 and p.low > 0):
            raise ValueError(
                f"params: high and low must be > 0 (an elliptic coefficient), got "
                f"{p.high} and {p.low}"
            )

    def grid(self, p: DarcyParams) -> Grid:
        return Grid((p.resolution, p.resolution))

    def fine_grid(self, p: DarcyParams) -> Grid:
        return Grid(((p.resolution - 1) * p.refine + 1,) * 2)

    def draw(
        self, fine: Grid, seeds: np.ndarray, p: DarcyParams
    ) -> tuple[np.ndarray, np.ndarray | float]:
        """``(coefficient, forcing)`` on the fine grid, each ``[b, *fine.shape]`` (or forcing scalar)."""
        raise NotImplementedError

    def worker(self, p: DarcyParams):

        fine = self.fine_grid(p)
        cells = fine.shape[0] - 1
        mesh = Mesh.rectangle(cells, cells)
        # direct solves: a sample does not depend on what its process solved before it
        solver = GridCoefficientElliptic(mesh, degree=1, solver="mumps")
        r = p.refine
        # mesh vertex (i, j) is node i * (cells + 1) + j; output points are every r-th vertex
        node = np.arange(mesh.num_points).reshape(cells + 1, cells + 1)[::r, ::r]
        shared = {"points": mesh.points, "cells": mesh.cells}

        def run(seeds: np.ndarray) -> SampleBatch:
            coef, forcing = self.draw(fine, seeds, p)
            outputs, nodal = [], []
            for b in range(len(seeds)):  # one FEM solve per sample
                f_b = forcing if np.isscalar(forcing) else forcing[b]
                values = solver.solve(fine, coef[b], f_b).values()
                nodal.append(values.astype(np.float32))
                outputs.append(values[node])
            field = coef if self.input_is_coefficient else forcing
            inputs = field[:, ::r, ::r][:, None].astype(np.float32)
            extras = {"solution_on_mesh": np.stack(nodal)} if p.store_mesh_values else {}
            return SampleBatch(
                inputs, np.stack(outputs)[:, None].astype(np.float32), extras,
                shared_mesh=shared if p.store_mesh_values else None,
            )  # fmt: skip

        return run

    input_is_coefficient = True


class DarcyPWC(_EllipticRecipe):
    """``darcy-pwc``: FNO's two-phase coefficient ``a in {low, high}``, constant forcing (1)."""

    name = "darcy-pwc"
    version = 2  # 2: resolution-consistent random fields (same seed, same field at any size)
    description = "FNO piecewise-constant Darcy (a in {3, 12}), FEniCSx P1 on a 2x finer mesh"
    input_names = ("coefficient",)
    output_names = ("pressure",)

    def draw(
        self, fine: Grid, seeds: np.ndarray, p: DarcyParams
    ) -> tuple[np.ndarray, np.ndarray | float]:
        """Coefficient ``[b, *fine.shape]`` (float64) and the scalar forcing ``p.forcing``."""

        a = darcy_coefficient(
            fine, seeds.tolist(), alpha=p.alpha, tau=p.tau, high=p.high, low=p.low
        )
        return a[:, 0].double().numpy(), p.forcing


class DarcySmooth(_EllipticRecipe):
    """``darcy-smooth``: log-normal coefficient ``a = exp(GRF)``, constant forcing (1)."""

    name = "darcy-smooth"
    version = 2  # 2: resolution-consistent random fields (same seed, same field at any size)
    description = "Darcy with a smooth log-normal coefficient a = exp(GRF), FEniCSx P1"
    input_names = ("coefficient",)
    output_names = ("pressure",)

    def draw(
        self, fine: Grid, seeds: np.ndarray, p: DarcyParams
    ) -> tuple[np.ndarray, np.ndarray | float]:
        """Coefficient ``[b, *fine.shape]`` (float64) and the scalar forcing ``p.forcing``."""

        g = gaussian_random_field(
            fine, seeds.tolist(), alpha=p.alpha, tau=p.tau, dtype=torch.float64
        )
        return np.exp(g[:, 0].numpy()), p.forcing


class PoissonMultiscale(_EllipticRecipe):
    """``poisson-multiscale``: ``a = 1``, forcing a sum of GRFs at ``tau`` = 3, 12, 48."""

    name = "poisson-multiscale"
    version = 2  # 2: resolution-consistent random fields (same seed, same field at any size)
    description = "Poisson -Δu = f with f a sum of GRFs at tau = 3, 12, 48 (FEniCSx P1)"
    input_names = ("forcing",)
    output_names = ("solution",)
    input_is_coefficient = False

    def draw(
        self, fine: Grid, seeds: np.ndarray, p: DarcyParams
    ) -> tuple[np.ndarray, np.ndarray | float]:
        """Coefficient ``1`` and forcing, both ``[b, *fine.shape]`` (float64)."""

        f = sum(
            gaussian_random_field(
                fine, child_seeds(seeds, k).tolist(), alpha=p.alpha, tau=tau, dtype=torch.float64
            )[:, 0].numpy()
            * tau**1.0
            for k, tau in enumerate((3.0, 12.0, 48.0))
        )
        return np.ones_like(f), f
