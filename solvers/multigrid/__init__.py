"""Geometric multigrid for the package's cell-centred grid systems, with learned parts.

A symmetric positive definite V-cycle on the 5-point (2-D) / 7-point (3-D) stencil of
``-div(a grad p)`` with solid masks, Neumann/Dirichlet walls and coefficient jumps, used as a
plain PCG preconditioner:

* :mod:`~sciml.solvers.multigrid.hierarchy` -- aggregation of ``2^d`` cells, Galerkin coarse
  stencils in closed form (coarse faces = sums of fine faces), transfers, the coarsest level's
  dense Cholesky inverse;
* :mod:`~sciml.solvers.multigrid.smoothers` -- weighted Jacobi and Chebyshev smoothing as
  per-sweep weights, matrix-free on the stencil;
* :mod:`~sciml.solvers.multigrid.cycle` -- :class:`CycleParameters`, :func:`vcycle` (a pure
  function: compile- and CUDA-graph-friendly) and :class:`VCycle` (the preconditioner);
* :mod:`~sciml.solvers.multigrid.pcg` -- :func:`mg_pcg`, PCG on fields with the cycle, a
  divergence guard and a Jacobi-PCG fallback;
* :mod:`~sciml.solvers.multigrid.learned` -- :class:`LearnedCycle`, the trained per-level
  smoother intervals and coarse-correction scales;
* :mod:`~sciml.solvers.multigrid.loss` -- the differentiable PCG convergence factor;
* :mod:`~sciml.solvers.multigrid.task` -- :class:`MGTask`, training through the package's
  Trainer;
* :mod:`~sciml.solvers.multigrid.model_file` -- model files (shipped: the zoo's ``lmg-3d``,
  ``lmg-2d``);
* :mod:`~sciml.solvers.multigrid.method` -- the method objects :class:`MGPCG` (``mg-pcg``) and
  :class:`LearnedMGPCG` (``lmg-pcg``).
"""

from sciml.solvers.multigrid.cycle import CycleParameters, VCycle, vcycle
from sciml.solvers.multigrid.hierarchy import Hierarchy, Level
from sciml.solvers.multigrid.learned import LearnedCycle
from sciml.solvers.multigrid.method import MGPCG, LearnedMGPCG, build_cycle
from sciml.solvers.multigrid.model_file import default_model, load_lmg, save_model
from sciml.solvers.multigrid.pcg import mg_pcg
from sciml.solvers.multigrid.smoothers import ChebyshevSmoother, JacobiSmoother

__all__ = [
    "MGPCG",
    "ChebyshevSmoother",
    "CycleParameters",
    "Hierarchy",
    "JacobiSmoother",
    "LearnedCycle",
    "LearnedMGPCG",
    "Level",
    "VCycle",
    "build_cycle",
    "default_model",
    "load_lmg",
    "mg_pcg",
    "save_model",
    "vcycle",
]
