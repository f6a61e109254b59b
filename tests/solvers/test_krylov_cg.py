"""CG / PCG / flexible PCG: true-residual stopping, agreement with scipy and PETSc, batching,
dtypes, input adapters, and clear errors on bad input."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from sciml.grid import Grid
from sciml.physics.elliptic import assemble_elliptic
from sciml.solvers.krylov.cg import cg
from sciml.solvers.krylov.operator import as_operator
from sciml.solvers.krylov.preconditioners import Jacobi
from sciml.solvers.poisson_problems import make_problem


def random_spd(n: int, cond: float = 1e3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * np.geomspace(1.0, cond, n)) @ q.T


def rel_res(A, x, b) -> float:
    return float(np.linalg.norm(b - A @ x) / np.linalg.norm(b))


def poisson(shape, seed=0):
    p = make_problem(shape, ndim=len(shape), family="spheres", seed=seed)
    return p.system, p.b


def test_random_spd_reaches_true_residual_and_matches_dense_solve():
    A = random_spd(80)
    b = torch.from_numpy(np.random.default_rng(1).standard_normal(80))
    res = cg(torch.from_numpy(A), b, rtol=1e-12)
    assert res.converged
    # the stopping test is on the TRUE residual: recompute it independently
    assert rel_res(A, res.x.numpy(), b.numpy()) <= 1e-12
    assert res.residual <= 1e-12
    x_ref = np.linalg.solve(A, b.numpy())
    # cond 1e3 and residual 1e-12 bound the relative error by 1e-9 < 1e-8
    assert np.abs(res.x.numpy() - x_ref).max() / np.abs(x_ref).max() < 1e-8


@pytest.mark.parametrize("shape", [(24, 20), (10, 9, 8)])
def test_poisson_agrees_with_scipy_and_petsc(shape):
    system, b = poisson(shape)
    A = system.matrix
    x_ref = spla.spsolve(A.tocsc(), b.numpy())
    res = cg(A, b, rtol=1e-12)
    assert res.converged and res.residual <= 1e-12
    err = np.abs(res.x.numpy() - x_ref).max() / np.abs(x_ref).max()
    assert err < 1e-8  # cond(A) ~ 1e3 at these sizes: 1e-12 residual -> ~1e-9 error

    import dolfinx_solver  # noqa: F401

    from petsc4py import PETSc

    from sciml.solvers.krylov.preconditioners import petsc_matrix

    ksp = PETSc.KSP().create(comm=PETSc.COMM_SELF)
    ksp.setOperators(petsc_matrix(A))
    ksp.setType("cg")
    ksp.getPC().setType("icc")
    ksp.setTolerances(rtol=1e-13, atol=0.0, max_it=10_000)
    xb, bb = petsc_matrix(A).createVecs()
    bb.setArray(b.numpy())
    ksp.solve(bb, xb)
    x_petsc = xb.getArray().copy()
    assert np.abs(res.x.numpy() - x_petsc).max() / np.abs(x_petsc).max() < 1e-8


def test_matrix_free_system_torch_csr_and_scipy_give_the_same_iterates():
    system, b = poisson((16, 16))
    r_sp = cg(system.matrix, b, rtol=1e-10)
    r_mf = cg(system, b, rtol=1e-10)  # the system's matrix-free matvec
    r_th = cg(system.to_torch(), b, rtol=1e-10)
    r_fn = cg(as_operator(system.matvec, n=system.n), b, rtol=1e-10)
    for r in (r_mf, r_th, r_fn):
        assert r.iterations == r_sp.iterations
        assert torch.allclose(r.x, r_sp.x, rtol=0, atol=1e-10 * r_sp.x.abs().max())


def test_batched_rhs_each_column_converges_like_a_single_solve():
    system, _ = poisson((12, 10))
    B = torch.randn(3, system.n, dtype=torch.float64)
    B[1] *= 1e-3  # scale must not matter for a relative tolerance
    res = cg(system.matrix, B, rtol=1e-9)
    assert res.x.shape == (3, system.n) and bool(res.converged.all())
    assert res.residuals.shape == (res.iterations + 1, 3)
    for i in range(3):
        single = cg(system.matrix, B[i], rtol=1e-9)
        assert torch.allclose(res.x[i], single.x, atol=1e-9 * single.x.abs().max())
        assert float(res.residual[i]) <= 1e-9


def test_history_is_consistent():
    system, b = poisson((16, 16))
    res = cg(system.matrix, b, rtol=1e-8)
    assert res.residuals.shape == (res.iterations + 1, 1)
    assert float(res.residuals[0, 0]) == pytest.approx(1.0)
    assert float(res.residuals[-1, 0]) <= 1e-8
    assert torch.all(res.times[1:] >= res.times[:-1])
    assert res.time_per_iteration > 0


def test_float32_reaches_single_precision_tolerance():
    system, b = poisson((20, 20))
    res = cg(system.matrix, b.float(), rtol=1e-5)
    assert res.x.dtype == torch.float32 and res.converged
    x64 = spla.spsolve(system.matrix.tocsc(), b.numpy())
    assert rel_res(system.matrix, res.x.double().numpy(), b.numpy()) <= 1.01e-5
    assert np.abs(res.x.double().numpy() - x64).max() / np.abs(x64).max() < 1e-3


def test_pcg_jacobi_on_variable_coefficient_reduces_iterations():
    p = make_problem(16, ndim=2, family="boxes", density_ratio=1000.0, seed=3)
    # measured: plain CG needs ~600 iterations here, Jacobi-PCG ~90; a 1:1000 jump makes the
    # unscaled matrix badly conditioned and diagonal scaling removes most of it
    plain = cg(p.system.matrix, p.b, rtol=1e-8, maxiter=150)
    pre = cg(p.system.matrix, p.b, M=Jacobi(p.system), rtol=1e-8, maxiter=150)
    assert not plain.converged
    assert pre.converged and pre.residual <= 1e-8 and pre.iterations < 120


def test_flexible_pcg_with_a_nonlinear_preconditioner():
    system, b = poisson((20, 20))
    jac = Jacobi(system)

    class InnerCG:  # three inner Jacobi-PCG steps: a polynomial in A that depends on r
        linear = False
        name = "inner-cg"

        def apply(self, r):
            return cg(system.matrix, r, M=jac, maxiter=3, rtol=0.0, check=False).x

    res = cg(system.matrix, b, M=InnerCG(), rtol=1e-10, maxiter=2000)
    assert res.method.startswith("fpcg") and res.converged and res.residual <= 1e-10
    plain = cg(system.matrix, b, rtol=1e-10)
    assert res.iterations <= 0.7 * plain.iterations  # measured 75 vs 131


def test_true_residual_stopping_with_x0():
    system, b = poisson((16, 16))
    x0 = torch.randn(system.n, dtype=torch.float64)
    res = cg(system.matrix, b, x0=x0, rtol=1e-10)
    assert rel_res(system.matrix, res.x.numpy(), b.numpy()) <= 1e-10


# ------------------------------------------------------------------- bad input
def test_bad_inputs_give_clear_errors():
    system, b = poisson((8, 8))
    A = system.matrix
    with pytest.raises(ValueError, match="b must have shape"):
        cg(A, torch.ones(system.n + 1, dtype=torch.float64))
    with pytest.raises(ValueError, match="square"):
        cg(sp.random(5, 4, density=0.5, format="csr"), torch.ones(5, dtype=torch.float64))
    nonsym = sp.csr_matrix(np.triu(np.ones((6, 6))) + 5 * np.eye(6))
    with pytest.raises(ValueError, match="symmetric"):
        cg(nonsym, torch.ones(6, dtype=torch.float64))
    bad = b.clone()
    bad[3] = float("nan")
    with pytest.raises(ValueError, match="b contains NaN"):
        cg(A, bad)
    Anan = A.copy()
    Anan.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cg(Anan, b)
    with pytest.raises(ValueError, match="n must be given"):
        as_operator(lambda x: x)
    with pytest.raises(ValueError, match="x0 must have"):
        cg(A, torch.ones(2, system.n, dtype=torch.float64), x0=torch.ones(system.n).double())
    with pytest.raises(ValueError, match="positive definite"):
        cg(-A, b)
    with pytest.raises(TypeError, match="b must be a torch.Tensor"):
        cg(A, b.numpy())


def test_grid_solid_obstacle_system_is_spd_and_solved():
    g = Grid((12, 12), centering="cell")
    solid = torch.zeros(12, 12, dtype=torch.bool)
    solid[4:8, 3:6] = True
    system = assemble_elliptic(g, solid=solid, walls={"x-": "neumann", "x+": "neumann"})
    b = torch.ones(system.n, dtype=torch.float64)
    res = cg(system, b, rtol=1e-12)
    x_ref = spla.spsolve(system.matrix.tocsc(), b.numpy())
    assert np.abs(res.x.numpy() - x_ref).max() / np.abs(x_ref).max() < 1e-8


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cg_on_gpu_matches_cpu():
    system, b = poisson((12, 12, 12))
    cpu = cg(system.matrix, b, rtol=1e-10)
    gpu = cg(system.matrix, b.cuda(), rtol=1e-10)
    assert gpu.x.is_cuda and gpu.converged
    assert torch.allclose(gpu.x.cpu(), cpu.x, atol=1e-8 * cpu.x.abs().max())
