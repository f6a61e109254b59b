"""Recipes: shapes, physics sanity, and agreement between the FEM and FD engines."""

import math

import numpy as np
import pytest
import torch

from sciml.datasets import get_recipe
from sciml.grid import Grid
from sciml.mesh import Mesh


def test_fem_and_fd_darcy_agree_and_the_gap_shrinks_with_refinement():
    from sciml.physics.fem import GridCoefficientElliptic
    from sciml.physics.steppers.darcy import solve_darcy

    def coefficient(grid):
        x, y = grid.coords(dtype=torch.float64)
        return 1 + 0.5 * torch.sin(2 * math.pi * x) * torch.cos(math.pi * y) + x * y

    gaps = []
    for n in (17, 33, 65):
        grid = Grid((n, n))  # vertex grid: the FD nodes are the FEM mesh's vertices
        a = coefficient(grid)
        fd = solve_darcy(a, grid, forcing=1.0).numpy()
        fine = Grid((2 * n - 1, 2 * n - 1))
        fem = GridCoefficientElliptic(Mesh.rectangle(n - 1, n - 1), solver="mumps")
        u = fem.solve(fine, coefficient(fine).numpy(), 1.0).values().reshape(n, n)
        gaps.append(np.abs(u - fd).max() / np.abs(fd).max())
    assert gaps[-1] < 5e-3, gaps  # both engines are second order
    assert gaps[0] / gaps[1] > 2.5 and gaps[1] / gaps[2] > 2.5, gaps


def test_navier_stokes_recipe_frames_and_reproducibility():
    rec = get_recipe("navier-stokes-2d")
    p = rec.params({"resolution": 16, "solver_resolution": 32, "dt": 2e-3, "frames": 3,
                    "frame_dt": 0.2})  # fmt: skip
    run = rec.worker(p)
    batch = run(np.array([5, 6]))
    assert batch.inputs.shape == (2, 1, 16, 16) and batch.outputs.shape == (2, 3, 16, 16)
    again = run(np.array([5, 6]))
    assert np.array_equal(batch.outputs, again.outputs)
    # the flow evolves but stays bounded (viscosity 1e-5, forcing 0.1)
    change = np.abs(batch.outputs[:, -1] - batch.inputs[:, 0]).max()
    assert 1e-3 < change and np.abs(batch.outputs).max() < 5 * np.abs(batch.inputs).max()


def test_seismic_recipes_shapes_and_velocity_range():
    pytest.importorskip("deepwave", reason="seismic-flatvel/-curvevel simulate with deepwave")
    for name in ("seismic-flatvel", "seismic-curvevel"):
        rec = get_recipe(name)
        p = rec.params({"nt": 120, "resolution": 32})
        assert rec.shapes(p) == ((1, 32, 32), (5, 120, 32))
        batch = rec.worker(p)(np.array([0, 1]))
        v, d = batch.inputs, batch.outputs
        assert v.shape == (2, 1, 32, 32) and d.shape == (2, 5, 120, 32)
        assert v.min() >= 1500 and v.max() <= 4500
        assert np.isfinite(d).all() and np.abs(d).max() > 0
        # layered media: velocity does not decrease with depth (axis 0 is depth)
        if name == "seismic-flatvel":
            assert (np.diff(v[:, 0], axis=1) >= 0).all()
