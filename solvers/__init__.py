"""Linear and PDE solvers, classical and learned (``import sciml.solvers``).

Subpackages by family: :mod:`~sciml.solvers.krylov` (CG, the operator adapter, classical
preconditioners, PETSc's KSP), :mod:`~sciml.solvers.dcdm` (the learned conjugate direction
method), :mod:`~sciml.solvers.multigrid` (geometric multigrid PCG with learned parts). Linear solves go through one entry point with method *objects*
(:mod:`~sciml.solvers.methods`): :func:`solve` for a system the package assembled and
:func:`solve_system` for a user's own matrix on a grid. Attributes load lazily, so
``import sciml.solvers`` stays cheap.
"""

from __future__ import annotations

import importlib

__all__ = ["solve", "solve_system", "grid_system", "GridSystem"]

_LAZY = {
    "solve": "sciml.solvers.linear_solve",
    "solve_system": "sciml.solvers.linear_solve",
    "grid_system": "sciml.solvers.system",
    "GridSystem": "sciml.solvers.system",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sciml.solvers' has no attribute {name!r}")
