"""``elasticity-holes``: plane-strain plates with random circular holes (FEniCSx).

The unit plate is clamped on the left and pulled by a unit traction on the right; holes
are traction-free. Input: the material mask on the grid (1 material, 0 hole). Output: the
von Mises stress on the grid (0 inside holes). The mesh and nodal stress of every sample
are stored under ``/meshes/<i>``: on the meshes the task is the point-cloud Elasticity
benchmark's, node coordinates -> nodal von Mises stress (:mod:`sciml.datasets.mesh_files`
reads them; mesh operators train on them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from sciml.datasets.recipe import Recipe, SampleBatch
from sciml.grid import Grid
from sciml.mesh import Mesh
from sciml.physics.fem import solve_elasticity


@dataclass
class ElasticityParams:
    """Parameters of ``elasticity-holes``: grid resolution, hole count/radius ranges, mesh
    size and the material (Young's modulus, Poisson ratio)."""

    resolution: int = 64
    min_holes: int = 1
    max_holes: int = 4
    min_radius: float = 0.05
    max_radius: float = 0.15
    mesh_size: float = 0.025
    young: float = 1.0
    poisson_ratio: float = 0.3


def random_holes(rng: np.random.Generator, p: ElasticityParams) -> list[tuple[float, float, float]]:
    """Non-overlapping holes kept 0.05 away from the plate edges and each other."""
    count = int(rng.integers(p.min_holes, p.max_holes + 1))
    holes: list[tuple[float, float, float]] = []
    for _ in range(200 * count):  # rejection sampling of a handful of discs
        if len(holes) == count:
            break
        r = rng.uniform(p.min_radius, p.max_radius)
        c = rng.uniform(r + 0.05, 1 - r - 0.05, size=2)
        if all(np.hypot(c[0] - x, c[1] - y) > r + s + 0.05 for x, y, s in holes):
            holes.append((float(c[0]), float(c[1]), float(r)))
    return holes


class ElasticityHoles(Recipe):
    """Plane-strain plate with random holes: material mask ``[1, N, N]`` -> von Mises
    stress ``[1, N, N]`` (FEniCSx solve per sample; mesh and nodal stress kept)."""

    name = "elasticity-holes"
    version = 1
    description = "plane-strain plate with random holes (FEniCSx): mask -> von Mises stress"
    Params = ElasticityParams
    input_names = ("material",)
    output_names = ("von_mises",)
    mesh_input_names = ()  # the geometry (node coordinates) is the input
    mesh_output_names = ("von_mises",)

    small_params = {"resolution": 8, "max_holes": 1, "mesh_size": 0.1}

    def validate(self, p: ElasticityParams) -> None:
        if p.resolution < 8:
            raise ValueError(f"params: resolution must be >= 8, got {p.resolution}")
        if not 0 < p.min_holes <= p.max_holes <= 20:
            raise ValueError(
                f"params: need 0 < min_holes <= max_holes <= 20, got {p.min_holes}, {p.max_holes}"
            )
        if not 0 < p.min_radius <= p.max_radius < 0.3:
            raise ValueError(
                f"params: need 0 < min_radius <= max_radius < 0.3, got {p.min_radius}, "
                f"{p.max_radius}"
            )
        if not 0 < p.mesh_size <= 0.2:
            raise ValueError(f"params: mesh_size must be in (0, 0.2], got {p.mesh_size}")
        if not (p.young > 0 and 0 <= p.poisson_ratio < 0.5):
            raise ValueError(
                f"params: need young > 0 and 0 <= poisson_ratio < 0.5, got {p.young}, "
                f"{p.poisson_ratio}"
            )

    def grid(self, p: ElasticityParams) -> Grid:
        return Grid((p.resolution, p.resolution))

    def worker(self, p: ElasticityParams) -> Callable[[np.ndarray], SampleBatch]:

        grid = self.grid(p)
        pts = grid.points(dtype=torch.float64).numpy()

        def run(seeds: np.ndarray) -> SampleBatch:
            inputs, outputs, meshes = [], [], []
            for seed in seeds:  # one FEM solve per sample
                holes = random_holes(np.random.default_rng(int(seed)), p)
                mesh = Mesh.rectangle_with_holes(holes, h=p.mesh_size)
                _, stress = solve_elasticity(
                    mesh, young=p.young, poisson_ratio=p.poisson_ratio, clamped_marker=1,
                    traction_marker=2, comm=_self_comm(),
                )  # fmt: skip
                on_grid = mesh.sample(stress, pts, outside="nan").reshape(grid.shape)
                mask = np.isfinite(on_grid)
                inputs.append(mask.astype(np.float32)[None])
                outputs.append(np.where(mask, on_grid, 0.0).astype(np.float32)[None])
                meshes.append(
                    {"points": mesh.points, "cells": mesh.cells, "von_mises": stress,
                     "holes": np.asarray(holes)}
                )  # fmt: skip
            return SampleBatch(np.stack(inputs), np.stack(outputs), meshes=meshes)

        return run


def _self_comm():
    import dolfinx_solver  # noqa: F401

    # heavy optional dependency (MPI (import dolfinx_solver first)): loaded when first used
    from mpi4py import MPI

    return MPI.COMM_SELF
