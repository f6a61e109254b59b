"""``stokes-pipe``: Stokes flow through randomly bent and necked channels (FEniCSx, P2-P1).

In the spirit of the Pipe task of the Geo-FNO / LSM / Transolver benchmarks: the geometry is
the input, the velocity the output. A channel of length ``L`` has the centre line and width

    c(x) = sum_k a_k sin(k pi x / L),    w(x) = w0 (1 + sum_k b_k sin(k pi x / L)),

``k = 1..modes``, ``a_k ~ U(-amplitude, amplitude) / k`` and ``b_k ~ U(-necking, necking) / k``
drawn from the sample's seed; its structured triangle mesh is the unit square's
(:meth:`Mesh.rectangle`, ``mesh_nx x mesh_ny`` cells) mapped by ``(s, t) -> (L s, c + w (t -
1/2))``. The inflow (left) has the parabolic profile of peak speed 1 over the inlet width
``w0`` (the same for every sample: ``c(0) = 0``, ``w(0) = w0``), the walls no slip, the outlet
(right) is do-nothing; viscosity 1 (Stokes: the flow scales linearly with the inflow).

Per sample, ``/meshes/<i>`` keeps ``points``, ``cells``, the nodal ``velocity_x``,
``velocity_y`` (the operator's outputs; the geometry is its input), ``pressure`` and the
shape ``coefficients`` ``[2, modes]``. The grid arrays (for grid operators) are the mask of
the channel and the velocity on a box grid, extended outside the channel by the nearest node
(:func:`~sciml.datasets.mesh_grid.nodal_to_grid`). A finer mesh of the same channels is the
same seeds with larger ``mesh_nx``/``mesh_ny``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sciml.datasets.mesh_grid import nodal_to_grid
from sciml.datasets.mesh_sample import MeshSample
from sciml.datasets.recipe import Recipe, SampleBatch
from sciml.grid import Grid
from sciml.mesh import Mesh
from sciml.physics.fem_stokes import solve_stokes

__all__ = ["PipeParams", "StokesPipe", "pipe_mesh"]


@dataclass
class PipeParams:
    """Parameters of ``stokes-pipe``: grid points along the channel (``resolution``), mesh
    cells along / across it, channel length and inlet width, shape modes and amplitudes."""

    resolution: int = 64
    mesh_nx: int = 64
    mesh_ny: int = 16
    length: float = 4.0
    width: float = 1.0
    modes: int = 3
    amplitude: float = 0.3
    necking: float = 0.2


def _sin_series(coef: np.ndarray, x: np.ndarray, length: float) -> np.ndarray:
    k = np.arange(1, len(coef) + 1)
    return np.sin(np.pi * np.outer(x, k) / length) @ coef


def pipe_mesh(coefficients: np.ndarray, p: PipeParams) -> Mesh:
    """The mesh of the channel with shape ``coefficients [2, modes]`` (rows: centre line
    ``a_k``, width ``b_k``); facet markers 1 inlet, 2 outlet, 3 and 4 walls."""
    unit = Mesh.rectangle(p.mesh_nx, p.mesh_ny)
    s, t = unit.points[:, 0], unit.points[:, 1]
    x = p.length * s
    centre = _sin_series(coefficients[0], x, p.length)
    width = p.width * (1 + _sin_series(coefficients[1], x, p.length))
    pts = np.stack([x, centre + width * (t - 0.5)], 1)
    return Mesh(pts, unit.cells, "triangle", facets=unit.facets, facet_markers=unit.facet_markers)


class StokesPipe(Recipe):
    """Stokes flow in random channels: geometry -> velocity (mesh); mask -> velocity (grid)."""

    name = "stokes-pipe"
    version = 1
    description = "Stokes flow in randomly bent/necked channels (FEniCSx Taylor-Hood P2-P1)"
    Params = PipeParams
    input_names = ("mask",)
    output_names = ("velocity_x", "velocity_y")
    mesh_input_names = ()  # the geometry (node coordinates) is the input
    mesh_output_names = ("velocity_x", "velocity_y")
    small_params = {"resolution": 8, "mesh_nx": 8, "mesh_ny": 4}

    def validate(self, p: PipeParams) -> None:
        if p.resolution < 8:
            raise ValueError(f"params: resolution must be >= 8, got {p.resolution}")
        if p.mesh_nx < 2 or p.mesh_ny < 2:
            raise ValueError(
                f"params: mesh_nx and mesh_ny must be >= 2, got {p.mesh_nx}, {p.mesh_ny}"
            )
        if not (p.length > 0 and p.width > 0):
            raise ValueError(f"params: length and width must be > 0, got {p.length}, {p.width}")
        if not 1 <= p.modes <= 8:
            raise ValueError(f"params: modes must be in [1, 8], got {p.modes}")
        harmonic = sum(1 / k for k in range(1, p.modes + 1))
        if not p.necking * harmonic < 0.9:  # the channel never closes
            raise ValueError(
                f"params: necking must be < {0.9 / harmonic:.3g} for {p.modes} modes (the "
                f"channel would close), got {p.necking}"
            )

    def half_height(self, p: PipeParams) -> float:
        """Half the height of the box that holds every channel of these parameters."""
        harmonic = sum(1 / k for k in range(1, p.modes + 1))
        return p.amplitude * harmonic + 0.5 * p.width * (1 + p.necking * harmonic)

    def grid(self, p: PipeParams) -> Grid:
        h = self.half_height(p)
        ny = max(8, int(round(p.resolution * 2 * h / p.length)))
        return Grid((p.resolution, ny), bounds=((0.0, p.length), (-h, h)))

    def coefficients(self, seed: int, p: PipeParams) -> np.ndarray:
        """The channel shape ``[2, modes]`` of a sample (centre line, width), from its seed."""
        rng = np.random.default_rng(int(seed))
        k = np.arange(1, p.modes + 1)
        return np.stack(
            [rng.uniform(-p.amplitude, p.amplitude, p.modes) / k,
             rng.uniform(-p.necking, p.necking, p.modes) / k]
        )  # fmt: skip

    def solve(self, coefficients: np.ndarray, p: PipeParams) -> tuple[Mesh, np.ndarray, np.ndarray]:
        """``(mesh, nodal velocity [N, 2], nodal pressure [N])`` of one channel (float64)."""
        mesh = pipe_mesh(coefficients, p)
        w0 = p.width

        def inflow(x: np.ndarray) -> np.ndarray:
            t = np.clip((x[1] + 0.5 * w0) / w0, 0.0, 1.0)
            return np.stack([4.0 * t * (1.0 - t), np.zeros_like(t)])

        sol = solve_stokes(
            mesh, inflow=inflow, inflow_markers=[1], wall_markers=[3, 4], comm=_self_comm()
        )
        return mesh, sol.nodal_velocity(), sol.nodal_pressure()

    def worker(self, p: PipeParams) -> Callable[[np.ndarray], SampleBatch]:
        grid = self.grid(p)

        def run(seeds: np.ndarray) -> SampleBatch:
            inputs, outputs, meshes = [], [], []
            for seed in seeds:  # one FEM solve per sample
                coef = self.coefficients(seed, p)
                mesh, velocity, pressure = self.solve(coef, p)
                x, y = nodal_to_grid(MeshSample.from_mesh(mesh, outputs=velocity.T), grid)
                inputs.append(x)
                outputs.append(y)
                meshes.append(
                    {"points": mesh.points, "cells": mesh.cells,
                     "velocity_x": velocity[:, 0], "velocity_y": velocity[:, 1],
                     "pressure": pressure, "coefficients": coef}
                )  # fmt: skip
            return SampleBatch(np.stack(inputs), np.stack(outputs), meshes=meshes)

        return run


def _self_comm():
    import dolfinx_solver  # noqa: F401

    # heavy optional dependency (MPI (import dolfinx_solver first)): loaded when first used
    from mpi4py import MPI

    return MPI.COMM_SELF
