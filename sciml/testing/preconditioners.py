"""The test mixin every registered preconditioner passes.

A preconditioner class declares its contract as class attributes (``name``, ``symmetric``,
``positive_definite``, ``linear``, ``needs_matrix``; see
:mod:`sciml.solvers.krylov.preconditioners`); the mixin measures it on a small 2-D obstacle
pressure-Poisson matrix (``make_problem(14, ndim=2, family="boxes", seed=4)``, 196 unknowns):
the dense operator ``M`` is symmetric and positive definite when declared so, ``apply`` on a
batch equals the dense matrix (an independent closed form when the subclass gives one),
single-vector and float32 application agree with the batched one, and preconditioned CG takes
fewer iterations than plain CG by the factor ``min_speedup`` (flexible PCG when the class does
not declare itself symmetric positive definite). A nonlinear preconditioner skips the dense
checks; one that needs more than the matrix (the learned DCDM direction) sets
``registered = False`` and overrides ``build``. Use it from a test module::

    from sciml.testing.preconditioners import PreconditionerContract

    class TestMyPreconditioner(PreconditionerContract):
        cls = MyPreconditioner            # registered in PRECONDITIONERS
        min_speedup = 2.0

        def dense(self, A):               # optional closed form [n, n] (numpy)
            return np.diag(1.0 / A.diagonal())

:func:`unregistered` names the registered preconditioners that have no contract subclass in a
module (every member of the family must be tested by registering it).
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import pytest
import torch

from sciml.solvers.krylov.cg import cg
from sciml.solvers.krylov.preconditioners import PRECONDITIONERS, Preconditioner
from sciml.solvers.poisson_problems import make_problem

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["PreconditionerContract", "contract_problem", "unregistered"]


def contract_problem() -> tuple[sp.csr_matrix, torch.Tensor]:
    """``(A, b)``: the 2-D obstacle pressure-Poisson system the contract measures on
    (scipy CSR ``[196, 196]``, float64 tensor ``b: [196]``)."""
    p = make_problem(14, ndim=2, family="boxes", seed=4)
    return p.system.matrix, p.b


def unregistered(module: ModuleType) -> list[str]:
    """Names in ``PRECONDITIONERS`` whose class no :class:`PreconditionerContract` subclass in
    ``module`` tests (empty when the family is covered)."""
    tested = {
        obj.cls
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, PreconditionerContract) and obj.cls is not None
    }
    return sorted(name for name, c in PRECONDITIONERS.items() if c not in tested)


class PreconditionerContract:
    """Subclasses give ``cls`` and optionally ``build(A)`` and ``dense(A)`` (None when there is
    no closed form) and ``min_speedup``."""

    cls: type[Preconditioner] | None = None
    #: fewer CG iterations than plain CG by at least this factor on the contract problem
    min_speedup: float = 1.0
    #: listed in PRECONDITIONERS (built from the matrix alone; a learned one also needs a model)
    registered: bool = True
    #: apply == dense up to this relative error (float64 factor solves: 1e-10)
    apply_rtol: float = 1e-10

    def build(self, A) -> Preconditioner:
        return self.cls(A)

    def dense(self, A) -> np.ndarray | None:
        return None

    @pytest.fixture(scope="class")
    def problem(self) -> tuple[sp.csr_matrix, torch.Tensor]:
        """The contract problem ``(A, b)``, built once per class."""
        return contract_problem()

    @pytest.fixture
    def dense_M(self, problem: tuple[sp.csr_matrix, torch.Tensor]) -> np.ndarray:
        """The preconditioner as a dense ``[n, n]`` float64 array (skips a nonlinear one)."""
        if not self.cls.linear:
            pytest.skip(f"{self.cls.name} declares linear = False (no dense matrix)")
        A, _ = problem
        return self.build(A).to_dense().numpy()

    def test_declares_contract(self) -> None:
        for attr in ("name", "symmetric", "positive_definite", "linear", "needs_matrix",
                     "runs_on_host"):  # fmt: skip
            assert isinstance(getattr(self.cls, attr), (str, bool)), attr
        if self.registered:
            assert PRECONDITIONERS[self.cls.name] is self.cls

    def test_symmetric(self, dense_M) -> None:
        if not self.cls.symmetric:
            pytest.skip(f"{self.cls.name} does not declare symmetric")
        # apply-level symmetry, relative to the size of M: round-off of the V-cycle/solves
        assert np.abs(dense_M - dense_M.T).max() <= 1e-10 * np.abs(dense_M).max()

    def test_positive_definite(self, dense_M) -> None:
        if not self.cls.positive_definite:
            pytest.skip(f"{self.cls.name} does not declare positive_definite")
        eig = np.linalg.eigvalsh(0.5 * (dense_M + dense_M.T))
        assert eig.min() > 0

    def test_apply_equals_dense(self, problem, dense_M) -> None:
        if not self.cls.linear:
            pytest.skip(f"{self.cls.name} is not linear: no dense equivalent")
        A, _ = problem
        M = self.build(A)
        x = torch.randn(3, A.shape[0], dtype=torch.float64)
        z = M.apply(x).numpy()
        ref = self.dense(A)
        target = x.numpy() @ (ref if ref is not None else dense_M).T
        # linear preconditioners: apply on a batch == the dense matrix (its own columns when
        # there is no independent closed form: linearity); 1e-10 = round-off of the factor solves
        assert np.abs(z - target).max() <= self.apply_rtol * np.abs(target).max()
        one = M.apply(x[0]).numpy()
        assert np.allclose(one, z[0], rtol=0, atol=self.apply_rtol * 1e-4 * np.abs(z).max())

    def test_reduces_cg_iterations(self, problem) -> None:
        A, b = problem
        plain = cg(A, b, rtol=1e-8)
        flexible = not (self.cls.symmetric and self.cls.positive_definite)
        pre = cg(A, b, M=self.build(A), rtol=1e-8, flexible=flexible)
        assert pre.converged and pre.residual <= 1e-8
        assert pre.iterations * self.min_speedup < plain.iterations

    def test_batched_and_float32_apply(self, problem) -> None:
        A, _ = problem
        M = self.build(A)
        x = torch.randn(2, A.shape[0])
        z = M.apply(x)
        assert z.dtype == torch.float32 and z.shape == x.shape
        with pytest.raises(ValueError, match="r must be a tensor"):
            M.apply(torch.ones(A.shape[0] + 1))
