"""The shipped DCDM model: small, documented (its file records the training command, recipe,
steps and wall time), and it solves held-out problems in far fewer iterations than ICC-PCG, as
DCDM and as a flexible-PCG preconditioner, at sizes it was not trained on."""

import numpy as np
import pytest
import torch

from sciml.solvers import solve, solve_system
from sciml.solvers.dcdm import DCDM, DEFAULT_MODEL, load_dcdm
from sciml.solvers.krylov import ICC, cg
from sciml.solvers.methods import PCG
from sciml.solvers.poisson_problems import HELD_OUT_FAMILY, make_problem
from sciml.workflows.linear_solvers import build_method

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def model():
    return load_dcdm()


def test_shipped_model_is_small_and_documented(model):
    assert DEFAULT_MODEL.is_file() and DEFAULT_MODEL.stat().st_size < 2 * 2**20
    assert model.ndim == 3
    card = model.card
    assert card["command"].startswith("sciml train-dcdm")
    assert card["steps"] > 0 and card["train_seconds"] > 0
    assert "blobs" not in card["recipe"]["families"]  # the benchmark family is held out


# measured (seed 3): 24^3 15 vs ICC 59, 40^3 20 vs 99, 40^3 with the 1:1000 jump 50 vs 104
# (the jump cases vary most with the geometry: 32^3 seed 3 needs 82 vs 84, see BENCHMARKS.md)
@pytest.mark.parametrize(("n", "ratio"), [(24, None), (40, None), (40, 1000.0)])
def test_held_out_family_in_a_fraction_of_icc_iterations(model, n, ratio):
    p = make_problem(n, ndim=3, family=HELD_OUT_FAMILY, density_ratio=ratio, seed=3)
    res = solve(p.system, p.b, DCDM(model), rtol=1e-6, device="cpu")
    icc = solve(p.system, p.b, PCG(ICC), rtol=1e-6)
    assert res.converged and res.residual <= 1e-6
    assert res.iterations <= 0.6 * icc.iterations, (res.iterations, icc.iterations)
    assert res.extra["energy_share"]["network"] > 0.3  # the network does the work


def test_as_flexible_pcg_preconditioner_on_a_user_system(model):
    p = make_problem(20, ndim=3, family=HELD_OUT_FAMILY, density_ratio=1000.0, seed=5)
    A, b, mask = p.system.matrix, p.b.numpy(), p.active.numpy()
    res = solve_system(A, b, mask=mask, method=build_method("dcdm-fpcg", model=model),
                       device="cpu")  # fmt: skip
    plain = cg(A, p.b, rtol=1e-6, maxiter=20_000)
    assert res.converged and res.method == "dcdm-fpcg"
    assert np.linalg.norm(b - A @ res.x.numpy()) <= 1.01e-6 * np.linalg.norm(b)
    assert res.iterations < 0.2 * plain.iterations


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_dcdm_on_gpu(model):
    p = make_problem(24, ndim=3, family=HELD_OUT_FAMILY, seed=3)
    res = solve(p.system, p.b, DCDM(load_dcdm(map_location="cuda")), device="cuda")
    assert res.converged and res.x.is_cuda
