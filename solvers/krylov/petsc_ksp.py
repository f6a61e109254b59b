"""PETSc's own conjugate gradients (``KSPCG``) with a PETSc preconditioner: the peer a user would
pick, run as PETSc runs it (the Krylov loop in C), for side-by-side comparisons.

>>> import scipy.sparse as sp
>>> T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(30, 30))
>>> A = (sp.kron(T, sp.eye(30)) + sp.kron(sp.eye(30), T)).tocsr()
>>> res = petsc_cg(A, torch.ones(900, dtype=torch.float64), pc="gamg", rtol=1e-8)
>>> bool(res.converged), res.iterations < 15
(True, True)
"""

from __future__ import annotations

import time

import numpy as np
import torch

from sciml.solvers.krylov.preconditioners import petsc_matrix
from sciml.solvers.krylov.result import SolveResult

__all__ = ["petsc_cg"]


def petsc_cg(
    A_scipy, b: torch.Tensor, *, pc: str = "gamg", rtol: float = 1e-6, maxiter: int = 10_000
) -> SolveResult:
    """Solve ``A x = b`` (``b: [n]``) by PETSc KSPCG with ``pc`` (``"gamg"``, ``"icc"``, ...).

    Stops on the unpreconditioned residual norm; the returned ``residual`` is the true relative
    residual recomputed with scipy, ``setup_time`` the matrix conversion and ``KSPSetUp``.
    """
    import dolfinx_solver  # noqa: F401  (orders MPI before petsc4py)

    # heavy optional dependency (PETSc (import dolfinx_solver first)): loaded when first used
    from petsc4py import PETSc

    bn = torch.as_tensor(b).detach().cpu().double().numpy()
    if bn.ndim != 1 or bn.shape[0] != A_scipy.shape[0]:
        raise ValueError(f"b must be [{A_scipy.shape[0]}], got {list(bn.shape)}")
    t0 = time.perf_counter()
    mat = petsc_matrix(A_scipy)
    ksp = PETSc.KSP().create(comm=PETSc.COMM_SELF)
    ksp.setOperators(mat)
    ksp.setType("cg")
    ksp.getPC().setType(pc)
    ksp.setNormType(PETSc.KSP.NormType.UNPRECONDITIONED)
    ksp.setTolerances(rtol=rtol, atol=0.0, max_it=maxiter)
    ksp.setConvergenceHistory()
    x, bv = mat.createVecs()
    bv.setArray(bn)
    ksp.setUp()
    setup = time.perf_counter() - t0
    t1 = time.perf_counter()
    ksp.solve(bv, x)
    solve = time.perf_counter() - t1
    bnorm = float(np.linalg.norm(bn)) or 1.0
    hist = np.asarray(ksp.getConvergenceHistory()) / bnorm
    xs = x.getArray().copy()
    true = float(np.linalg.norm(bn - A_scipy @ xs) / bnorm)
    n = max(len(hist), 1)
    return SolveResult(
        x=torch.from_numpy(xs),
        converged=true <= rtol * (1 + 1e-6),
        iterations=int(ksp.getIterationNumber()),
        residual=true,
        residuals=torch.from_numpy(hist)[:, None] if len(hist) else torch.ones(1, 1),
        times=torch.linspace(0.0, solve, n, dtype=torch.float64),
        setup_time=setup,
        method=f"petsc-cg+{pc}",
    )
