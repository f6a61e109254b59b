"""Linear and PDE solvers, classical and learned (``import sciml.solvers``).

Subpackages by family: :mod:`~sciml.solvers.krylov` (CG, the operator adapter, classical
preconditioners, PETSc's KSP), :mod:`~sciml.solvers.dcdm` (the learned conjugate direction
method), :mod:`~sciml.solvers.multigrid` (geometric multigrid PCG with learned parts),
:mod:`~sciml.solvers.gp` (the GP-HM spectral-mixture solver). Linear solves go
through one entry point with method *objects*: :func:`solve` for a system the package
assembled and :func:`solve_system` for a user's own matrix on a grid::

    from sciml.solvers import PCG, ICC, solve_system
    res = solve_system(A, b, mask=mask, method=PCG(ICC))

Methods: :class:`CG`, :class:`PCG` (with a preconditioner class: :class:`Jacobi`,
:class:`ICC`, :class:`GAMG`, :class:`PyAMG`), :class:`PETScCG`, :class:`FusedCG`,
:class:`DCDM`, :class:`MGPCG` and :class:`LearnedMGPCG` (grid systems). PETSc and PyAMG load when a preconditioner that needs them is set up.
"""

from sciml.solvers.dcdm import DCDM
from sciml.solvers.krylov import cg
from sciml.solvers.krylov.preconditioners import GAMG, ICC, Jacobi, PyAMG
from sciml.solvers.linear_solve import solve, solve_system
from sciml.solvers.methods import CG, PCG, FusedCG, PETScCG
from sciml.solvers.multigrid import MGPCG, LearnedMGPCG
from sciml.solvers.system import GridSystem, grid_system

__all__ = [
    "CG",
    "DCDM",
    "GAMG",
    "ICC",
    "PCG",
    "FusedCG",
    "GridSystem",
    "Jacobi",
    "LearnedMGPCG",
    "MGPCG",
    "PETScCG",
    "PyAMG",
    "cg",
    "grid_system",
    "solve",
    "solve_system",
]
