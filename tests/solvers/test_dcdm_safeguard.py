"""DCDM's never-stall safeguard: whatever the "network" returns (random, zero, the negative
residual, NaN, an untrained net), the solve converges, its A-norm error is never above
Jacobi-PCG's, and it takes no more iterations than Jacobi-PCG (the stated bound)."""

import numpy as np
import pytest
import scipy.sparse.linalg as spla
import torch

from sciml.solvers.dcdm import DCDMNet, LearnedDirection, dcdm
from sciml.solvers.krylov import Jacobi, cg
from sciml.solvers.poisson_problems import make_problem

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def jump3d():
    return make_problem(12, ndim=3, family="spheres", density_ratio=1000.0, seed=1)


def _adversaries(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return {
        "zero": lambda r: torch.zeros_like(r),
        "negative residual": lambda r: -r,
        "random": lambda r: torch.randn(r.shape, generator=g, dtype=r.dtype),
        "nan": lambda r: torch.full_like(r, float("nan")),
        "huge": lambda r: 1e300 * torch.randn(r.shape, generator=g, dtype=r.dtype),
    }


@pytest.mark.parametrize("name", list(_adversaries()))
def test_adversarial_directions_converge_within_jacobi_pcg_iterations(jump3d, name):
    A, b = jump3d.system.matrix, jump3d.b
    ref = cg(A, b, M=Jacobi(A), rtol=1e-8)
    res = dcdm(A, b, _adversaries()[name], rtol=1e-8, maxiter=2000)
    assert res.converged and res.residual <= 1e-8
    # the bound: never more iterations than Jacobi-PCG (the shadow run is the same recurrence;
    # one iteration of slack for round-off in the stopping test)
    assert res.iterations <= ref.iterations + 1, (res.iterations, ref.iterations)


def test_a_norm_error_never_exceeds_jacobi_pcg(jump3d):
    A, b = jump3d.system.matrix, jump3d.b
    xstar = torch.from_numpy(spla.spsolve(A.tocsc(), b.numpy()))

    def a_norm(x):
        e = (xstar - x).numpy()
        return float(np.sqrt(e @ (A @ e)))

    ref_err, our_err = [], []
    cg(A, b, M=Jacobi(A), rtol=1e-8, callback=lambda k, x, r: ref_err.append(a_norm(x)))
    g = torch.Generator().manual_seed(3)
    dcdm(A, b, lambda r: torch.randn(r.shape, generator=g, dtype=r.dtype), rtol=1e-8,
         callback=lambda k, x, r: our_err.append(a_norm(x)))  # fmt: skip
    m = min(len(ref_err), len(our_err))
    ours, ref = np.array(our_err[:m]), np.array(ref_err[:m])
    # guarantee 1 of the docstring, up to float64 round-off of the Gram-Schmidt (1e-9 relative)
    assert (ours <= ref * (1 + 1e-9) + 1e-12 * ref[0]).all()
    assert (np.diff(our_err) <= 1e-9 * our_err[0]).all()  # monotone in the A-norm


def test_untrained_network_stalls_without_the_safeguard_but_not_with_it(jump3d):
    torch.manual_seed(0)
    d = LearnedDirection(DCDMNet(ndim=3), jump3d.system)
    plain = dcdm(jump3d.system, jump3d.b, d, rtol=1e-6, maxiter=60, safeguard=False)
    safe = dcdm(jump3d.system, jump3d.b, d, rtol=1e-6, maxiter=400)
    assert not plain.converged  # the paper's iteration with a useless network
    assert safe.converged and safe.residual <= 1e-6


def test_identity_direction_without_safeguard_reproduces_cg():
    p = make_problem(20, ndim=2, family="spheres", seed=2)
    ref = cg(p.system, p.b, rtol=1e-8)
    res = dcdm(p.system, p.b, lambda r: r.clone(), rtol=1e-8, k=2, maxiter=500, safeguard=False)
    assert res.converged and abs(res.iterations - ref.iterations) <= 2
    assert float(res.residuals[-1, 0]) == pytest.approx(res.residual)


@pytest.mark.parametrize("k", [2, 4])
def test_kept_steps_are_A_orthogonal(jump3d, k):
    g = torch.Generator().manual_seed(0)
    res = dcdm(jump3d.system, jump3d.b, lambda r: torch.randn(r.shape, generator=g,
               dtype=r.dtype), rtol=1e-14, maxiter=k + 3, k=k, keep_directions=True)  # fmt: skip
    D = res.extra["directions"][:, 0].numpy()  # [k, n]
    assert D.shape[0] == k
    G = D @ (jump3d.system.matrix @ D.T)
    d = np.sqrt(np.diag(G))
    assert np.abs(G / np.outer(d, d) - np.eye(k)).max() < 1e-10  # Gram-Schmidt, float64


def test_batched_solve_matches_single_columns():
    p = make_problem(16, ndim=2, family="boxes", seed=0)
    B = torch.randn(2, p.system.n, dtype=torch.float64)
    res = dcdm(p.system, B, lambda r: r.clone(), rtol=1e-8)
    assert bool(res.converged.all()) and res.x.shape == B.shape
    for i in range(2):
        one = dcdm(p.system, B[i], lambda r: r.clone(), rtol=1e-8)
        assert torch.allclose(res.x[i], one.x, atol=1e-9 * one.x.abs().max())


def test_bad_inputs():
    p = make_problem(8, ndim=2, family="none", seed=0)
    with pytest.raises(ValueError, match="direction returned"):
        dcdm(p.system, p.b, lambda r: r[:, :-1])
    with pytest.raises(ValueError, match="k must be"):
        dcdm(p.system, p.b, lambda r: r, k=-1)
    bad = p.b.clone()
    bad[0] = float("inf")
    with pytest.raises(ValueError, match="b contains NaN or inf"):
        dcdm(p.system, bad, lambda r: r)
    with pytest.raises(ValueError, match="inv_diagonal must be"):
        dcdm(p.system, p.b, lambda r: r, inv_diagonal=torch.ones(3))
