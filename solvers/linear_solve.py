"""One entry point for linear solves: a system, a right-hand side and a method *object*.

* :func:`solve` -- a system the package assembled (or a :class:`~sciml.solvers.system.
  GridSystem`) and a method from :mod:`sciml.solvers.methods` or :class:`sciml.solvers.dcdm.
  DCDM`;
* :func:`solve_system` -- a user's own matrix on a grid: checks ``A`` (square, symmetric,
  finite, positive diagonal), the mask (one unknown per True cell) and ``b`` (finite, right
  size), then solves. The mask gives the grid structure that geometric multigrid
  (:class:`sciml.solvers.multigrid.MGPCG`) needs: ``A`` is read as the 5-/7-point stencil of
  the mask's cells (Dirichlet walls are the diagonal beyond the face couplings), and an ``A``
  that couples cells which are not face neighbours of the mask is refused.

>>> import numpy as np, scipy.sparse as sp, torch
>>> from sciml.solvers.methods import CG
>>> T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(6, 6))
>>> A = sp.kron(T, sp.eye(6)) + sp.kron(sp.eye(6), T)
>>> res = solve_system(A, np.ones(36), mask=np.ones((6, 6), bool), method=CG(), device="cpu")
>>> bool(res.converged), res.residual < 1e-6
(True, True)
"""

from __future__ import annotations

import numpy as np
import torch

from sciml.solvers.krylov.operator import check_rhs
from sciml.solvers.krylov.result import SolveResult
from sciml.solvers.system import grid_system

__all__ = ["solve", "solve_system"]


def _check_method(method) -> None:
    if isinstance(method, str):
        raise TypeError(
            f"method must be a method object, got the string {method!r}: use one of "
            "sciml.solvers.CG(), PCG(Jacobi), PCG(ICC), PCG(GAMG), PCG(PyAMG), PETScCG('gamg'), "
            "FusedCG(), DCDM() (names such as 'cg' are the command line's: sciml solve --method)"
        )
    if not callable(getattr(method, "solve", None)):
        raise TypeError(f"method must have a solve(system, b, ...) method, got {method!r}")


def solve(
    system,
    b: torch.Tensor,
    method,
    *,
    rtol: float = 1e-6,
    maxiter: int | None = None,
    device: str | torch.device | None = None,
) -> SolveResult:
    """Solve ``system x = b`` with ``method`` to the true relative residual ``rtol``.

    Args:
        system: an assembled system (``matrix``, ``active``, ``n``, ``matvec``).
        b: ``[n]`` or ``[B, n]`` (solved in float64).
        method: a method object (``CG()``, ``PCG(Jacobi)``, ``PETScCG("gamg")``, ``DCDM()``).
        rtol: true relative residual to reach.
        maxiter: iteration cap (default: the method's).
        device: where torch methods run (default: CUDA when available); host methods (PETSc,
            PyAMG) always run on the CPU.
    """
    _check_method(method)
    if not rtol > 0:
        raise ValueError(f"rtol must be > 0, got {rtol}")
    if maxiter is not None and maxiter < 1:
        raise ValueError(f"maxiter must be >= 1, got {maxiter}")
    bb, _ = check_rhs(torch.as_tensor(b), system.n, "b")
    del bb
    return method.solve(system, torch.as_tensor(b, dtype=torch.float64), rtol=rtol,
                        maxiter=maxiter, device=device)  # fmt: skip


def solve_system(
    A,
    b,
    *,
    mask,
    method,
    walls: dict[str, str] | None = None,
    rtol: float = 1e-6,
    maxiter: int | None = None,
    device: str | torch.device | None = None,
) -> SolveResult:
    """Solve a user's own SPD system on a grid.

    Args:
        A: ``[n, n]`` scipy sparse matrix, torch sparse or dense tensor, or numpy array; unknown
            ``i`` is the ``i``-th True cell of ``mask`` in C order.
        b: right-hand side ``[n]`` or ``[B, n]`` (numpy or torch).
        mask: ``bool [*shape]`` (2-D or 3-D), True for unknowns (fluid cells).
        method: a method object.
        walls: optional side -> ``"dirichlet"`` / ``"neumann"``.
        rtol, maxiter, device: as in :func:`solve`.

    Raises:
        ValueError: naming the argument (``A``, ``mask``, ``b``, ``walls``) and what was expected.
    """
    system = grid_system(A, mask=mask, walls=walls)
    bt = torch.as_tensor(np.asarray(b) if not isinstance(b, torch.Tensor) else b)
    if not bt.is_floating_point():
        bt = bt.double()
    check_rhs(bt, system.n, "b")
    return solve(system, bt, method, rtol=rtol, maxiter=maxiter, device=device)
