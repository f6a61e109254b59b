"""Every preconditioner passes one shared mixin that measures its declared contract:
symmetric, positive definite, apply == its dense equivalent on a small size, and fewer CG
iterations than plain CG."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sciml.solvers.krylov.cg import cg
from sciml.solvers.krylov.preconditioners import GAMG, ICC, PRECONDITIONERS, Jacobi, PyAMG
from sciml.solvers.poisson_problems import make_problem


def ic0_dense(A: sp.spmatrix) -> np.ndarray:
    """Reference zero-fill incomplete Cholesky ``L`` (dense, small n), pattern of tril(A)."""
    a = A.toarray()
    pattern = np.tril(a != 0)
    L = np.tril(a).copy()
    n = a.shape[0]
    for k in range(n):
        L[k, k] = np.sqrt(L[k, k])
        L[k + 1 :, k] /= L[k, k]
        col = L[k + 1 :, k]
        L[k + 1 :, k + 1 :] -= np.tril(np.outer(col, col)) * pattern[k + 1 :, k + 1 :]
    return L


@pytest.fixture(scope="module")
def problem():
    p = make_problem(14, ndim=2, family="boxes", seed=4)
    return p.system.matrix, p.b


class PreconditionerContract:
    """Subclasses give ``build(A)`` and ``dense(A)`` (None when there is no closed form)."""

    cls = None
    # fewer iterations than plain CG by at least this factor on the 2-D obstacle problem
    min_speedup = 1.0

    def build(self, A):
        return self.cls(A)

    def dense(self, A):
        return None

    @pytest.fixture
    def dense_M(self, problem):
        A, _ = problem
        return self.build(A).to_dense().numpy()

    def test_declares_contract(self):
        for attr in ("name", "symmetric", "positive_definite", "linear", "needs_matrix"):
            assert hasattr(self.cls, attr), attr
        assert PRECONDITIONERS[self.cls.name] is self.cls

    def test_symmetric(self, dense_M):
        assert self.cls.symmetric
        # apply-level symmetry, relative to the size of M: round-off of the V-cycle/solves
        assert np.abs(dense_M - dense_M.T).max() <= 1e-10 * np.abs(dense_M).max()

    def test_positive_definite(self, dense_M):
        assert self.cls.positive_definite
        eig = np.linalg.eigvalsh(0.5 * (dense_M + dense_M.T))
        assert eig.min() > 0

    def test_apply_equals_dense(self, problem, dense_M):
        A, _ = problem
        M = self.build(A)
        x = torch.randn(3, A.shape[0], dtype=torch.float64)
        z = M.apply(x).numpy()
        ref = self.dense(A)
        target = x.numpy() @ (ref if ref is not None else dense_M).T
        # linear preconditioners: apply on a batch == the dense matrix (its own columns when
        # there is no independent closed form: linearity); 1e-10 = round-off of the factor solves
        assert np.abs(z - target).max() <= 1e-10 * np.abs(target).max()
        one = M.apply(x[0]).numpy()
        assert np.allclose(one, z[0], rtol=0, atol=1e-14 * np.abs(z).max())

    def test_reduces_cg_iterations(self, problem):
        A, b = problem
        plain = cg(A, b, rtol=1e-8)
        pre = cg(A, b, M=self.build(A), rtol=1e-8)
        assert pre.converged and pre.residual <= 1e-8
        assert pre.iterations * self.min_speedup < plain.iterations

    def test_batched_and_float32_apply(self, problem):
        A, _ = problem
        M = self.build(A)
        x = torch.randn(2, A.shape[0])
        z = M.apply(x)
        assert z.dtype == torch.float32 and z.shape == x.shape
        with pytest.raises(ValueError, match="r must be a tensor"):
            M.apply(torch.ones(A.shape[0] + 1))


class TestJacobi(PreconditionerContract):
    cls = Jacobi
    min_speedup = 1.0  # constant-coefficient Poisson has a near-constant diagonal

    def dense(self, A):
        return np.diag(1.0 / A.diagonal())

    def test_reduces_cg_iterations(self, problem):
        # on a constant-coefficient matrix Jacobi is nearly a scalar multiple of the identity,
        # so measure it where it matters: the 1:1000 density jump
        p = make_problem(14, ndim=2, family="boxes", density_ratio=1000.0, seed=4)
        plain = cg(p.system.matrix, p.b, rtol=1e-8, maxiter=400)
        pre = cg(p.system.matrix, p.b, M=self.build(p.system.matrix), rtol=1e-8)
        assert pre.converged and pre.iterations < 0.5 * plain.iterations


class TestICC(PreconditionerContract):
    cls = ICC
    min_speedup = 2.0  # measured ~3x

    def dense(self, A):
        L = ic0_dense(A)
        return np.linalg.inv(L @ L.T)


class TestGAMG(PreconditionerContract):
    cls = GAMG
    min_speedup = 3.0  # multigrid: a handful of iterations


class TestPyAMG(PreconditionerContract):
    cls = PyAMG
    min_speedup = 3.0


def test_matrix_free_operator_is_rejected_by_matrix_preconditioners():
    from sciml.solvers.krylov.operator import as_operator

    op = as_operator(lambda x: 2 * x, n=5)
    with pytest.raises(TypeError, match="matrix-free"):
        Jacobi(op)
