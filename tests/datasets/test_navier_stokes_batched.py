"""navier-stokes-2d: the batched path equals the per-sample path (CPU), GPU samples equal CPU
samples to round-off, and the CUDA-graph time loop equals the eager one (GPU tests skip)."""

import numpy as np
import pytest
import torch

from sciml.datasets import get_recipe
from sciml.grid import Grid
from sciml.physics.steppers.navier_stokes import navier_stokes_initial, solve_navier_stokes

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")

# a short, coarse version of the recipe (the physics and code path of the real one)
SMALL = {"resolution": 16, "solver_resolution": 32, "dt": 5e-3, "frames": 2, "frame_dt": 0.1}


def test_batched_path_equals_per_sample_path_on_cpu():
    rec = get_recipe("navier-stokes-2d")
    run = rec.worker(rec.params(SMALL), device="cpu")
    seeds = np.array([11, 3, 7, 42])
    batch = run(seeds)
    assert batch.outputs.shape == (4, 2, 16, 16)
    for i, s in enumerate(seeds):
        one = run(np.array([s]))
        scale = np.abs(one.outputs).max()
        # independent per-sample FFTs and pointwise products: equal to round-off (bitwise here)
        assert np.abs(batch.outputs[i] - one.outputs[0]).max() <= 1e-12 * scale
        assert np.array_equal(batch.inputs[i], one.inputs[0])
    # the order of the seeds in a batch does not matter either
    rev = run(seeds[::-1].copy())
    assert np.abs(rev.outputs[::-1] - batch.outputs).max() <= 1e-12 * np.abs(batch.outputs).max()


def test_graph_options_are_validated():
    g = Grid((8, 8), periodic=True)
    w0 = torch.zeros(1, 1, 8, 8)
    with pytest.raises(ValueError, match="graph_steps"):
        solve_navier_stokes(w0, g, nu=1e-3, t_end=0.1, dt=0.05, graph_steps=0)
    # on the CPU the option is ignored: same result
    a = solve_navier_stokes(w0 + 1e-3, g, nu=1e-3, t_end=0.1, dt=0.01, cuda_graph=True)
    b = solve_navier_stokes(w0 + 1e-3, g, nu=1e-3, t_end=0.1, dt=0.01, cuda_graph=False)
    assert torch.equal(a[1], b[1])


@cuda
@pytest.mark.gpu
def test_cuda_graph_loop_equals_eager_loop_bitwise():
    g = Grid((64, 64), periodic=True)
    w0 = navier_stokes_initial(g, [0, 1, 2], dtype=torch.float64).cuda()
    kw = dict(nu=1e-4, t_end=0.537, dt=1e-3, record_steps=3)  # shortened last step included
    _, eager = solve_navier_stokes(w0, g, cuda_graph=False, **kw)
    _, graph = solve_navier_stokes(w0, g, cuda_graph=True, graph_steps=50, **kw)
    assert torch.equal(eager, graph)


@cuda
@pytest.mark.gpu
def test_gpu_recipe_samples_equal_cpu_samples():
    rec = get_recipe("navier-stokes-2d")
    p = rec.params(SMALL)
    seeds = np.array([1, 2, 3])
    cpu = rec.worker(p, device="cpu")(seeds)
    gpu = rec.worker(p, device="cuda")(seeds)
    assert np.array_equal(cpu.inputs, gpu.inputs)  # seeded on the CPU: identical
    rel = np.abs(cpu.outputs - gpu.outputs).max() / np.abs(cpu.outputs).max()
    assert rel < 1e-6  # float64 solve, stored as float32: the float32 rounding dominates
