"""Multigrid-preconditioned CG as method objects for :func:`sciml.solvers.solve`: ``mg-pcg`` (the
unlearned cycle) and ``lmg-pcg`` (the learned one).

Both build the aggregation hierarchy of the system's stencil (the engine's own coefficients for
an :class:`~sciml.physics.elliptic.EllipticSystem`, the matrix read as a 5-/7-point stencil on
the mask for a user's :class:`~sciml.solvers.system.GridSystem`), run the cycle in float32
(``cycle_dtype``) and PCG in float64 to the true relative residual, on the CPU or CUDA. The
setup time (stencil, hierarchy, coarse Cholesky, loading the model) is in
``result.setup_time``. A system without grid structure gets a ``TypeError`` naming the
algebraic alternatives (PyAMG, PETSc GAMG); a learned model for the other grid dimension a
:class:`~sciml.io.FileFormatError`.

>>> from sciml.solvers.poisson_problems import make_problem
>>> from sciml.solvers import solve
>>> p = make_problem(24, ndim=3, family="spheres", seed=0)
>>> res = solve(p.system, p.b, MGPCG(), rtol=1e-6, device="cpu")
>>> bool(res.converged), res.iterations
(True, 8)
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from sciml.solvers.krylov.result import SolveResult
from sciml.solvers.multigrid.cycle import CycleParameters, VCycle, stencil_of
from sciml.solvers.multigrid.hierarchy import MAX_COARSE, Hierarchy
from sciml.solvers.multigrid.learned import LearnedCycle
from sciml.solvers.multigrid.pcg import mg_pcg

__all__ = ["MGPCG", "LearnedMGPCG", "build_cycle"]


def build_cycle(
    system,
    cycle: CycleParameters | LearnedCycle | None = None,
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
    max_coarse: int = MAX_COARSE,
) -> VCycle:
    """The V-cycle preconditioner of ``system`` (timed: ``M.setup_time``).

    Args:
        system: an ``EllipticSystem``, a ``GridSystem`` or a ``StencilOperator``.
        cycle: :class:`CycleParameters`, a :class:`LearnedCycle` (its parameters for the
            hierarchy's depth), or None (the unlearned cycle).
        device, dtype: where and in which precision the cycle runs.
    """
    t0 = time.perf_counter()
    op = stencil_of(system, device=device)
    hierarchy = Hierarchy.from_operator(op, max_coarse=max_coarse)
    if isinstance(cycle, LearnedCycle):
        if cycle.ndim != hierarchy.ndim:
            raise ValueError(f"the learned cycle is {cycle.ndim}-D, the system {hierarchy.ndim}-D")
        params = cycle.cycle_parameters(hierarchy.depth)
    elif cycle is None:
        params = CycleParameters.plain(hierarchy.ndim)
    elif isinstance(cycle, CycleParameters):
        params = cycle
    else:
        raise TypeError(
            f"cycle must be CycleParameters, a LearnedCycle or None, got {type(cycle).__name__}"
        )
    if dtype != op.dtype:
        hierarchy = hierarchy.to(dtype=dtype)
    M = VCycle(hierarchy, params, op=op)
    M.setup_time = time.perf_counter() - t0
    return M


class MGPCG:
    """PCG with the multigrid V-cycle (:func:`~sciml.solvers.multigrid.pcg.mg_pcg`).

    Args:
        cycle: :class:`CycleParameters` (default: the unlearned cycle) or a
            :class:`LearnedCycle`.
        cycle_dtype: precision of the cycle (float32: half the memory traffic; PCG itself
            stays in float64).
        name: label (default ``"mg-pcg"``).
    """

    runs_on_host = False
    default_maxiter = 1000

    def __init__(
        self,
        cycle: CycleParameters | LearnedCycle | None = None,
        *,
        cycle_dtype: torch.dtype = torch.float32,
        name: str = "mg-pcg",
    ) -> None:
        if cycle_dtype not in (torch.float32, torch.float64):
            raise ValueError(f"cycle_dtype must be torch.float32 or float64, got {cycle_dtype}")
        self.cycle = cycle
        self.cycle_dtype = cycle_dtype
        self.name = name

    def _cycle(self, system) -> CycleParameters | LearnedCycle | None:
        return self.cycle

    def preconditioner(self, system, device: torch.device | str | None = None) -> VCycle:
        """The cycle bound to ``system`` on ``device``."""
        return build_cycle(system, self._cycle(system), device=device, dtype=self.cycle_dtype)

    def solve(
        self, system, b: torch.Tensor, *, rtol: float = 1e-6, maxiter: int | None = None,
        device=None,
    ) -> SolveResult:  # fmt: skip
        """Solve ``system x = b`` (``b: [n]`` or ``[B, n]``) to the true relative residual."""
        from sciml.solvers.methods import solve_device

        dev = solve_device(self, device)
        t0 = time.perf_counter()
        M = self.preconditioner(system, dev)
        setup = time.perf_counter() - t0
        res = mg_pcg(M.op, b.to(dev, torch.float64), M, rtol=rtol,
                     maxiter=maxiter or self.default_maxiter)  # fmt: skip
        res.setup_time += setup
        res.method = self.name + ("->jacobi-pcg" if res.extra.get("fallback") else "")
        res.extra["levels"] = M.hierarchy.depth
        res.extra["cycle_cost_matvecs"] = M.cost
        return res


class LearnedMGPCG(MGPCG):
    """PCG with the learned V-cycle (``lmg-pcg``).

    Args:
        model: a :class:`LearnedCycle`, a model file path, or None: the shipped model for the
            system's grid dimension (the zoo's ``lmg-3d`` / ``lmg-2d``), loaded on first use.
        cycle_dtype: as in :class:`MGPCG`.
    """

    def __init__(
        self,
        model: LearnedCycle | str | Path | None = None,
        *,
        cycle_dtype: torch.dtype = torch.float32,
        name: str = "lmg-pcg",
    ) -> None:
        super().__init__(None, cycle_dtype=cycle_dtype, name=name)
        self._model = model
        self._loaded: dict[int, LearnedCycle] = {}

    def model(self, ndim: int) -> LearnedCycle:
        """The learned cycle for ``ndim``-D systems (loaded once).

        Raises:
            FileFormatError: the model file is not a learned cycle, or is for the other
                dimension.
        """
        from sciml.io import FileFormatError
        from sciml.solvers.multigrid.model_file import load_lmg

        if isinstance(self._model, LearnedCycle):
            if self._model.ndim != ndim:
                raise FileFormatError(
                    f"model: a {self._model.ndim}-D learned cycle, the system is {ndim}-D"
                )
            return self._model
        if ndim not in self._loaded:
            self._loaded[ndim] = load_lmg(self._model, ndim=ndim)
        return self._loaded[ndim]

    def _cycle(self, system) -> LearnedCycle:
        return self.model(int(system.active.ndim))
