"""Linear-solver methods as objects: what :func:`sciml.solvers.solve` takes.

A method is an object with a ``name``, a ``runs_on_host`` flag (True when its work happens on
the CPU whatever the device, e.g. PETSc and PyAMG) and
``solve(system, b, *, rtol, maxiter, device) -> SolveResult`` whose ``setup_time`` includes
building the preconditioner or binding the model. A system is anything with ``matrix``
(scipy CSR), ``active``, ``n`` and ``matvec``
(:class:`~sciml.physics.elliptic.EllipticSystem`, :class:`~sciml.solvers.system.GridSystem`).

=====================  ==========================================================="""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from sciml.solvers.krylov.cg import cg
from sciml.solvers.krylov.fused import fused_cg
from sciml.solvers.krylov.operator import as_operator
from sciml.solvers.krylov.petsc_ksp import petsc_cg
from sciml.solvers.krylov.preconditioners import Preconditioner
from sciml.solvers.krylov.result import SolveResult
from sciml.solvers.krylov.stencil import StencilOperator

__all__ = ["CG", "PCG", "FusedCG", "PETScCG", "solve_device"]


def solve_device(method, device: str | torch.device | None) -> torch.device:
    """Where ``method`` runs: the CPU for host methods, else ``device`` (default: CUDA if any)."""
    if getattr(method, "runs_on_host", False):
        return torch.device("cpu")
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class CG:
    """Plain conjugate gradients (:func:`~sciml.solvers.krylov.cg.cg`)."""

    name = "cg"
    runs_on_host = False
    default_maxiter = 20_000

    def solve(
        self, system, b: torch.Tensor, *, rtol: float = 1e-6, maxiter: int | None = None,
        device=None,
    ) -> SolveResult:  # fmt: skip
        """Solve ``system x = b`` (``b: [n]`` or ``[B, n]``)."""
        dev = solve_device(self, device)
        t0 = time.perf_counter()
        op = as_operator(system.matrix, device=dev, check=False)
        setup = time.perf_counter() - t0
        res = cg(op, b.to(dev, torch.float64), rtol=rtol, maxiter=maxiter or self.default_maxiter,
                 check=False)  # fmt: skip
        res.setup_time += setup
        res.method = self.name
        return res


class PCG:
    """Preconditioned CG with a preconditioner built from the system.

    Args:
        preconditioner: a preconditioner class taking the matrix (``Jacobi``, ``ICC``, ``GAMG``,
            ``PyAMG``) or a callable ``build(system) -> M`` (e.g.
            ``functools.partial(LearnedDirection, model)``).
        flexible: flexible (Polak-Ribiere) PCG; default: when ``M`` is not linear.
        name: label (default ``"pcg-<M.name>"``).
        options: keyword arguments for a preconditioner class.
    """

    default_maxiter = 20_000

    def __init__(
        self,
        preconditioner: type | Callable,
        *,
        flexible: bool | None = None,
        name: str | None = None,
        **options,
    ) -> None:
        if isinstance(preconditioner, Preconditioner):
            raise TypeError(
                f"PCG takes the preconditioner class, built for each system: "
                f"PCG({type(preconditioner).__name__}), not an instance built for one matrix"
            )
        if not callable(preconditioner):
            raise TypeError(
                "preconditioner must be a class (Jacobi, ICC, GAMG, PyAMG from "
                f"sciml.solvers) or a callable build(system) -> M, got {preconditioner!r}"
            )
        self.preconditioner = preconditioner
        self.flexible = flexible
        self.options = options
        self.runs_on_host = bool(getattr(preconditioner, "runs_on_host", False))
        self.name = name or f"pcg-{getattr(preconditioner, 'name', 'M')}"

    def _build(self, system, op):

        P = self.preconditioner
        if isinstance(P, type) and issubclass(P, Preconditioner):
            return P(op, check=False, **self.options)
        return P(system, **self.options)

    def solve(
        self, system, b: torch.Tensor, *, rtol: float = 1e-6, maxiter: int | None = None,
        device=None,
    ) -> SolveResult:  # fmt: skip
        """Solve ``system x = b`` (``b: [n]`` or ``[B, n]``)."""
        dev = solve_device(self, device)
        t0 = time.perf_counter()
        op = as_operator(system.matrix, device=dev, check=False)
        M = self._build(system, op)
        setup = time.perf_counter() - t0
        res = cg(op, b.to(dev, torch.float64), M=M, rtol=rtol, flexible=self.flexible,
                 maxiter=maxiter or self.default_maxiter, check=False)  # fmt: skip
        res.setup_time += setup
        res.method = self.name
        return res


class PETScCG:
    """PETSc's KSPCG with PETSc preconditioner ``pc`` (``"gamg"``, ``"icc"``, ...), on the CPU."""

    runs_on_host = True
    default_maxiter = 20_000

    def __init__(self, pc: str = "gamg") -> None:
        self.pc = pc
        self.name = f"petsc-{pc}"

    def solve(
        self, system, b: torch.Tensor, *, rtol: float = 1e-6, maxiter: int | None = None,
        device=None,
    ) -> SolveResult:  # fmt: skip
        """Solve ``system x = b`` for one right-hand side ``b: [n]``."""

        if b.ndim != 1:
            raise ValueError(f"{self.name} solves one right-hand side b: [n], got {list(b.shape)}")
        res = petsc_cg(system.matrix, b, pc=self.pc, rtol=rtol,
                       maxiter=maxiter or self.default_maxiter)  # fmt: skip
        res.method = self.name
        return res


class FusedCG:
    """CG (``jacobi=False``) or Jacobi-PCG on the grid stencil as one fused loop.

    The stencil comes from the engine's coefficients for an
    :class:`~sciml.physics.elliptic.EllipticSystem`, and from the matrix for a user's
    :class:`~sciml.solvers.system.GridSystem` (which must then be a 5-/7-point stencil).
    """

    runs_on_host = False
    default_maxiter = 20_000

    def __init__(self, jacobi: bool = False) -> None:
        self.jacobi = bool(jacobi)
        self.name = "jacobi-fused" if self.jacobi else "cg-fused"

    def solve(
        self, system, b: torch.Tensor, *, rtol: float = 1e-6, maxiter: int | None = None,
        device=None,
    ) -> SolveResult:  # fmt: skip
        """Solve ``system x = b`` (``b: [n]`` or ``[B, n]``)."""

        dev = solve_device(self, device)
        t0 = time.perf_counter()
        if hasattr(system, "_operators"):  # assembled by the engine: its own coefficients
            stencil = StencilOperator.from_system(system, device=dev, dtype=torch.float64)
        else:  # a user's matrix on a grid (GridSystem)
            stencil = StencilOperator.from_matrix(
                system.matrix, system.active, device=dev, dtype=torch.float64
            )
        inv_diag = 1.0 / stencil.diagonal() if self.jacobi else None
        setup = time.perf_counter() - t0
        res = fused_cg(stencil, b.to(dev, torch.float64), M=inv_diag, rtol=rtol,
                       maxiter=maxiter or self.default_maxiter)  # fmt: skip
        res.setup_time += setup
        res.method = self.name
        return res
