"""The Krylov core: conjugate gradients, the operator adapter and classical preconditioners.

* :mod:`~sciml.solvers.krylov.operator` -- :func:`as_operator` turns torch dense/sparse
  tensors, scipy sparse matrices and matrix-free callables into one :class:`LinearOperator`;
* :mod:`~sciml.solvers.krylov.cg` -- :func:`cg` (CG, PCG, flexible PCG; batched; true-residual
  stopping) and its :class:`SolveResult`;
* :mod:`~sciml.solvers.krylov.stencil` / :mod:`~sciml.solvers.krylov.fused` -- the grid
  stencil of an elliptic system as one kernel, and :func:`fused_cg`: CG as a compiled,
  CUDA-graph-captured loop with convergence checked every ``check_every`` iterations;
* :mod:`~sciml.solvers.krylov.preconditioners` -- Jacobi, ICC and GAMG (PETSc), smoothed
  aggregation AMG (PyAMG), all behind one :class:`Preconditioner` contract.
"""

from sciml.solvers.krylov.cg import SolveResult, cg
from sciml.solvers.krylov.fused import fused_cg
from sciml.solvers.krylov.operator import LinearOperator, as_operator
from sciml.solvers.krylov.preconditioners import (
    GAMG,
    ICC,
    PRECONDITIONERS,
    Jacobi,
    Preconditioner,
    PyAMG,
)
from sciml.solvers.krylov.stencil import StencilOperator

__all__ = [
    "GAMG",
    "ICC",
    "PRECONDITIONERS",
    "Jacobi",
    "LinearOperator",
    "Preconditioner",
    "PyAMG",
    "SolveResult",
    "StencilOperator",
    "as_operator",
    "cg",
    "fused_cg",
]
