"""``darcy-holes``: Darcy flow in the unit square with random circular holes (FEniCSx).

``-div(a grad u) = f`` (``f`` constant) with ``u = 0`` on the outer square and no flux
through the holes. ``a`` is the FNO two-phase medium of ``darcy-pwc`` (``high`` where a
``(tau, alpha)`` Gaussian random field is ``>= 0``, ``low`` elsewhere) drawn on a vertex
grid of ``field_resolution`` points per side; the FEM reads it cell by cell at the nearest
grid point (jumps stay sharp) and the nodes carry it the same way. Holes are placed as in
``elasticity-holes`` (non-overlapping discs, kept away from the edges and each other).

One problem, two views, so that grid and mesh operators can be compared on it:

* on the mesh (``/meshes/<i>``): input the nodal ``coefficient``, output the nodal
  ``pressure`` (also kept: ``holes [k, 3]``);
* on the grid (``/inputs``, ``/outputs``): the mask of the domain and the coefficient,
  and the pressure, extended into the holes by the nearest node
  (:func:`~sciml.datasets.mesh_grid.nodal_to_grid`).

A finer mesh of the same samples is the same seeds with a smaller ``mesh_size``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from sciml.datasets.elasticity_holes import random_holes
from sciml.datasets.mesh_grid import nodal_to_grid
from sciml.datasets.mesh_sample import MeshSample
from sciml.datasets.recipe import Recipe, SampleBatch, child_seeds
from sciml.grid import Grid
from sciml.mesh import Mesh
from sciml.physics.fem import solve_scalar_elliptic
from sciml.physics.fields.random_fields import darcy_coefficient

__all__ = ["DarcyHoles", "DarcyHolesParams"]


@dataclass
class DarcyHolesParams:
    """Parameters of ``darcy-holes``: output grid, mesh size, holes, random medium, forcing."""

    resolution: int = 64
    mesh_size: float = 0.03
    min_holes: int = 1
    max_holes: int = 3
    min_radius: float = 0.05
    max_radius: float = 0.12
    field_resolution: int = 129
    alpha: float = 2.0
    tau: float = 3.0
    high: float = 12.0
    low: float = 3.0
    forcing: float = 1.0


class DarcyHoles(Recipe):
    """Darcy flow around random holes: coefficient -> pressure on the mesh (and on a grid)."""

    name = "darcy-holes"
    version = 1
    description = "two-phase Darcy in a square with random holes (FEniCSx P1, gmsh meshes)"
    Params = DarcyHolesParams
    signed_params = ("forcing",)
    input_names = ("mask", "coefficient")
    output_names = ("pressure",)
    mesh_input_names = ("coefficient",)
    mesh_output_names = ("pressure",)
    small_params = {"resolution": 8, "mesh_size": 0.15, "max_holes": 1, "field_resolution": 17}

    def validate(self, p: DarcyHolesParams) -> None:
        if p.resolution < 8:
            raise ValueError(f"params: resolution must be >= 8, got {p.resolution}")
        if not 0 < p.mesh_size <= 0.2:
            raise ValueError(f"params: mesh_size must be in (0, 0.2], got {p.mesh_size}")
        if not 0 < p.min_holes <= p.max_holes <= 10:
            raise ValueError(
                f"params: need 0 < min_holes <= max_holes <= 10, got {p.min_holes}, {p.max_holes}"
            )
        if not 0 < p.min_radius <= p.max_radius < 0.3:
            raise ValueError(
                f"params: need 0 < min_radius <= max_radius < 0.3, got {p.min_radius}, "
                f"{p.max_radius}"
            )
        if p.field_resolution < 9:
            raise ValueError(f"params: field_resolution must be >= 9, got {p.field_resolution}")
        if not p.alpha > 0.5:
            raise ValueError(f"params: alpha must be > 0.5 (finite variance), got {p.alpha}")
        if not p.tau > 0:
            raise ValueError(f"params: tau must be > 0, got {p.tau}")
        if not (p.high > 0 and p.low > 0):
            raise ValueError(f"params: high and low must be > 0, got {p.high} and {p.low}")

    def grid(self, p: DarcyHolesParams) -> Grid:
        return Grid((p.resolution, p.resolution))

    def sample(self, seed: int, p: DarcyHolesParams) -> tuple[Mesh, np.ndarray, np.ndarray, list]:
        """``(mesh, nodal coefficient [N], nodal pressure [N], holes)`` of one seed."""
        holes = random_holes(np.random.default_rng(int(child_seeds(np.array([seed]), 0)[0])), p)
        mesh = Mesh.rectangle_with_holes(holes, h=p.mesh_size)
        field = Grid((p.field_resolution, p.field_resolution))
        a = darcy_coefficient(
            field, child_seeds(np.array([seed]), 1).tolist(), alpha=p.alpha, tau=p.tau,
            high=p.high, low=p.low, dtype=torch.float64,
        )[0, 0].numpy()  # fmt: skip
        sol = solve_scalar_elliptic(
            mesh, coefficient=(field, a), forcing=p.forcing, dirichlet_markers=[1, 2, 3, 4],
            coefficient_sampling="nearest", solver="mumps", comm=_self_comm(),
        )  # fmt: skip
        index = tuple(
            np.clip(np.round(mesh.points[:, ax] * (p.field_resolution - 1)), 0, None).astype(int)
            for ax in range(2)
        )
        return mesh, a[index], sol.values(), holes

    def worker(self, p: DarcyHolesParams) -> Callable[[np.ndarray], SampleBatch]:
        grid = self.grid(p)

        def run(seeds: np.ndarray) -> SampleBatch:
            inputs, outputs, meshes = [], [], []
            for seed in seeds:  # one FEM solve per sample
                mesh, coef, pressure, holes = self.sample(int(seed), p)
                x, y = nodal_to_grid(MeshSample.from_mesh(mesh, coef, pressure), grid)
                inputs.append(x)
                outputs.append(y)
                meshes.append(
                    {"points": mesh.points, "cells": mesh.cells, "coefficient": coef,
                     "pressure": pressure, "holes": np.asarray(holes)}
                )  # fmt: skip
            return SampleBatch(np.stack(inputs), np.stack(outputs), meshes=meshes)

        return run


def _self_comm():
    import dolfinx_solver  # noqa: F401

    # heavy optional dependency (MPI (import dolfinx_solver first)): loaded when first used
    from mpi4py import MPI

    return MPI.COMM_SELF
