"""The shipped DCDM model: small, loadable, and it solves a held-out problem in bounded
iterations (no retraining), as DCDM and as a flexible-PCG preconditioner."""

import pytest
import torch

from sciml.solvers.dcdm import DCDM, DEFAULT_MODEL, LearnedDirection, load_model
from sciml.solvers.krylov.cg import cg
from sciml.solvers.poisson_problems import HELD_OUT_FAMILY, make_problem


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """The budget is for one core; oversubscribed intra-op threads make convolutions crawl."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def held_out():
    # an obstacle family the model never saw in training, at a size it was not trained on
    return make_problem(16, ndim=3, family=HELD_OUT_FAMILY, seed=3)


def test_shipped_model_is_small_and_documented(model):
    assert DEFAULT_MODEL.is_file()
    assert DEFAULT_MODEL.stat().st_size < 3 * 2**20
    assert model.ndim == 3
    assert "dcdm_train" in model.meta["command"]


def test_shipped_model_reaches_1e_6_on_held_out_family(model, held_out):
    res = DCDM(model, held_out.system, k=2).solve(held_out.b, rtol=1e-6, maxiter=100)
    assert res.converged and res.residual <= 1e-6
    plain = cg(held_out.system.matrix, held_out.b, rtol=1e-6)
    # measured: 55 iterations vs CG 131 on this problem (float32 network: a few iterations of
    # slack for thread-count-dependent rounding)
    assert res.iterations <= 70
    assert res.iterations < 0.6 * plain.iterations


def test_shipped_model_as_flexible_pcg_preconditioner(model, held_out):
    M = LearnedDirection(model, held_out.system)
    res = cg(held_out.system.matrix, held_out.b, M=M, rtol=1e-6, maxiter=200)
    assert res.method.startswith("fpcg") and res.converged and res.residual <= 1e-6
    assert res.iterations <= 90  # measured: 73


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_dcdm_on_gpu(held_out):
    model = load_model(map_location="cuda")
    b = held_out.b.cuda()
    res = DCDM(model, held_out.system).solve(b, rtol=1e-6, maxiter=100)
    assert res.converged and res.x.is_cuda
