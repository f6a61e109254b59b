"""Gauss-Newton for the grid values of GP-HM: the step, and the fit strategy built on it.

With the kernel and the noise precisions fixed, the negative log joint in the values ``U``
(``N`` grid points) is

    L(U) = 1/2 U^T K^{-1} U + lambda_b tau_b / 2 ||B U - g||^2 + tau_r / 2 ||R(U)||^2,

``B`` picks the boundary points and ``R`` is the pointwise PDE residual. Linearising ``R``
(Jacobian ``J = diag(dR/du) + sum_key diag(dR/dd_key) D_key`` with the derivative operators
``D_key = (x)_d K_d^(o) K_d^{-1}``) gives the Gauss-Newton normal equations

    (K^{-1} + lambda_b tau_b B^T B + tau_r J^T J) dU = -grad L(U).

For a linear PDE one step is the exact minimiser over ``U``. :func:`dense_gauss_newton_step`
forms the ``[N, N]`` matrices and solves directly (the reference for small grids).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from sciml.solvers.gp.adam import adam_phase
from sciml.solvers.gp.eigen_preconditioner import KroneckerEigenJacobi
from sciml.solvers.gp.normal_equations import GaussNewtonSystem, derivative_factors, linearize
from sciml.solvers.gp.strategy import FitStrategy
from sciml.solvers.krylov import as_operator, cg

if TYPE_CHECKING:
    from sciml.grid import Grid
    from sciml.solvers.gp.kronecker import KroneckerFactors
    from sciml.solvers.gp.model import KroneckerGPSolver
    from sciml.solvers.gp.monitor import Monitor

__all__ = ["GaussNewton", "dense_gauss_newton_step", "matrix_free_gauss_newton_step"]


def _dense_kron(mats: Sequence[torch.Tensor | None], shape: Sequence[int], like) -> torch.Tensor:
    """Dense ``A_1 (x) ... (x) A_D`` ``[N, N]`` (``None`` = identity); small grids only."""
    out = None
    for n, a in zip(shape, mats):
        if a is None:
            a = torch.eye(n, dtype=like.dtype, device=like.device)
        a = a.contiguous()
        out = a if out is None else torch.kron(out, a)
    return out


def _write_values(model: KroneckerGPSolver, fac: KroneckerFactors, u_new: torch.Tensor) -> None:
    model.latent.copy_(fac.half_solve(u_new) if model.whitened else u_new)


@torch.no_grad()
def dense_gauss_newton_step(model: KroneckerGPSolver, *, dense_limit: int = 6000) -> float:
    """One Gauss-Newton step on the grid values with dense ``[N, N]`` matrices (in place).

    Forms ``J``, ``K^{-1}`` and the normal matrix explicitly and solves with
    ``torch.linalg.solve``: ``O(N^2)`` memory, ``O(N^3)`` time. Needs ``N <= dense_limit``.
    Returns ``||dU|| / ||U_new||``.
    """
    n = model.grid.size
    if n > dense_limit:
        raise ValueError(
            f"gauss_newton_step forms dense [N, N] matrices; N = {n} exceeds "
            f"dense_limit = {dense_limit} (use Adam / L-BFGS for this grid)"
        )
    fac, ops = model.factors_and_derivatives()
    u0 = model.values(fac).reshape(-1)
    shape = model.grid.shape
    dense = {
        key: _dense_kron(mats, shape, u0)
        for key, mats in derivative_factors(model, fac, ops).items()
    }
    r, du, dd = linearize(model, u0, {k: m @ u0 for k, m in dense.items()})
    jac = torch.diag(du if du is not None else torch.zeros_like(u0))
    for key, m in dense.items():
        if dd[key] is not None:
            jac = jac + dd[key].reshape(-1, 1) * m
    kinv = _dense_kron([torch.cholesky_inverse(c) for c in fac.chols], shape, u0)
    mask = model.mask.flatten()
    tb = model.boundary_weight * float(model.log_tau_b.exp())
    tr = float(model.log_tau_r.exp())
    hess = kinv + tr * jac.T @ jac
    hess[mask, mask] += tb  # B^T B is diagonal on the boundary points
    grad = kinv @ u0 + tr * jac.T @ r
    grad[mask] += tb * (u0[mask] - model.g)
    step = -torch.linalg.solve(hess, grad)
    u_new = (u0 + step).reshape(shape)
    _write_values(model, fac, u_new)
    return float(step.norm() / u_new.norm().clamp_min(1e-300))


@torch.no_grad()
def matrix_free_gauss_newton_step(
    model: KroneckerGPSolver,
    *,
    rtol: float = 1e-6,
    maxiter: int | None = None,
    preconditioner: bool = True,
) -> dict[str, Any]:
    """One Gauss-Newton step on the grid values with Kronecker products only (in place).

    The normal equations (:class:`~sciml.solvers.gp.normal_equations.GaussNewtonSystem`) are
    solved by preconditioned CG (:func:`sciml.solvers.krylov.cg`) with the Kronecker
    eigenbasis Jacobi preconditioner
    (:class:`~sciml.solvers.gp.eigen_preconditioner.KroneckerEigenJacobi`; plain CG with
    ``preconditioner=False``). Memory ``O(N + sum_d n_d^2)``.

    Args:
        model: the model (values updated in place).
        rtol: CG stops once the true residual ``||b - H dU|| <= rtol ||b0||`` with
            ``b0 = H U_0 - grad L(U_0)``, the right-hand side of the step's quadratic model for
            ``U_new`` itself (for a step from ``U_0 = 0`` this is ``||b||``).
        maxiter: CG iteration cap (default 2000).
        preconditioner: use the eigenbasis preconditioner.

    Returns:
        ``{"relative_change": ||dU|| / ||U_new||, "cg_iterations", "cg_residual"`` (true
        residual over ``||b0||``), ``"cg_converged", "setup_s", "solve_s"}``.
    """

    t0 = time.perf_counter()
    system = GaussNewtonSystem(model)
    M = KroneckerEigenJacobi(system) if preconditioner else None
    setup = time.perf_counter() - t0
    n = system.n
    b = system.rhs()
    # the tolerance is relative to the right-hand side of the FULL problem, b0 = H U_0 - grad
    # (what H U = b0 would solve from zero): a warm start near the optimum has a tiny b, whose
    # relative residual round-off would never let CG stop
    b0 = system.matvec(system.u0.reshape(1, -1))[0] + b
    res = cg(
        as_operator(system.matvec, n=n, check=False),
        b,
        M=M,
        rtol=rtol,
        atol=rtol * float(b0.norm()),
        maxiter=maxiter if maxiter is not None else 2000,
        check=False,
    )
    step = res.x.reshape(system.shape)
    u_new = system.u0 + step
    _write_values(model, system.factors, u_new)
    return {
        "relative_change": float(step.norm() / u_new.norm().clamp_min(1e-300)),
        "cg_iterations": res.iterations,
        "cg_residual": float(res.residual) * float(b.norm()) / max(float(b0.norm()), 1e-300),
        "cg_converged": bool(res.converged),
        "setup_s": setup,
        "solve_s": res.solve_time,
    }


LINEAR_SOLVERS = ("auto", "cg", "dense")


@dataclass
class GaussNewton(FitStrategy):
    """``newton_steps`` Gauss-Newton solves for the values, with ``adam_steps`` Adam steps on
    the kernel hyperparameters spread evenly between them (a fresh Adam each time).

    The precisions are held fixed (``learn_noise = False``) at ``default_noise_level = 1e-7``
    relative to the data (the best of 1e-5, 1e-7, 1e-9 measured on the 1-D problems).

    Args:
        newton_steps, adam_steps, lr: as above.
        linear_solver: ``"cg"`` (matrix-free, :func:`matrix_free_gauss_newton_step`),
            ``"dense"`` (:func:`dense_gauss_newton_step`, ``N <= dense_limit``) or ``"auto"``
            (see :meth:`solver_for`).
        dense_limit: largest grid the dense step accepts.
        cg_rtol, cg_maxiter, preconditioner: of the CG solve. Step ``k`` (from 0) solves to
            ``max(cg_rtol * cg_tighten^k, cg_rtol_min)``: an inexact Newton method whose early
            steps (far from the optimum, or before the kernel is learned) are cheap and whose
            later steps refine (a fixed 1e-6 stalls Allen-Cahn 2-D at 1.6e-4).
    """

    newton_steps: int = 3
    adam_steps: int = 200
    lr: float = 1e-2
    linear_solver: str = "auto"
    dense_limit: int = 6000
    auto_dense_max: int = 1000
    cg_rtol: float = 1e-6
    cg_tighten: float = 0.1
    cg_rtol_min: float = 1e-10
    cg_maxiter: int | None = None
    preconditioner: bool = True

    name: ClassVar[str] = "gauss-newton"
    learn_noise: ClassVar[bool] = False
    default_noise_level: ClassVar[float | None] = 1e-7

    def __post_init__(self) -> None:
        if self.adam_steps < 0 or self.newton_steps < 0:
            raise ValueError("adam_steps and newton_steps must be >= 0")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.linear_solver not in LINEAR_SOLVERS:
            raise ValueError(
                f"linear_solver must be one of {LINEAR_SOLVERS}, got {self.linear_solver!r}"
            )
        if not (self.cg_rtol > 0 and self.cg_rtol_min > 0 and 0 < self.cg_tighten <= 1):
            raise ValueError(
                "need cg_rtol > 0, cg_rtol_min > 0 and 0 < cg_tighten <= 1, got "
                f"{self.cg_rtol}, {self.cg_rtol_min}, {self.cg_tighten}"
            )

    def solver_for(self, size: int, *, odd_derivatives: bool = False) -> str:
        """``"dense"`` or ``"cg"``: the linear solver for a grid of ``size`` points.

        ``"auto"``: dense up to ``auto_dense_max`` points (where it is faster); for a PDE with
        odd-order derivatives (advection, Burgers: first-order terms, which the eigenbasis
        Jacobi preconditioner does not capture, so CG needs thousands of iterations) dense up
        to ``dense_limit``; CG above.
        """
        if self.linear_solver == "auto":
            top = self.dense_limit if odd_derivatives else self.auto_dense_max
            return "dense" if size <= top else "cg"
        return self.linear_solver

    def _solver(self, pde: Any, size: int) -> str:
        odd = any(key.count(c) % 2 for key in pde.required_derivatives for c in set(key))
        return self.solver_for(size, odd_derivatives=odd)

    def check(self, grid: Grid, pde: Any = None) -> None:
        solver = self.solver_for(grid.size) if pde is None else self._solver(pde, grid.size)
        if solver == "dense" and grid.size > self.dense_limit:
            raise ValueError(
                f"linear_solver='dense' forms [N, N] matrices: grid has {grid.size} points > "
                f"dense_limit={self.dense_limit}; use linear_solver='cg' (matrix-free)"
            )

    @property
    def total_steps(self) -> int:
        return self.adam_steps + self.newton_steps

    def step(self, model: KroneckerGPSolver, index: int = 0) -> dict[str, Any]:
        """Gauss-Newton step number ``index`` (in place); returns what it reports."""
        if self._solver(model.pde, model.grid.size) == "dense":
            t0 = time.perf_counter()
            change = dense_gauss_newton_step(model, dense_limit=self.dense_limit)
            return {"relative_change": change, "solve_s": time.perf_counter() - t0}
        rtol = max(self.cg_rtol * self.cg_tighten**index, self.cg_rtol_min)
        return matrix_free_gauss_newton_step(
            model, rtol=rtol, maxiter=self.cg_maxiter, preconditioner=self.preconditioner
        )

    def fit(self, model: KroneckerGPSolver, monitor: Monitor) -> dict[str, Any]:
        hyper = model.hyperparameters()
        n_chunks = max(self.newton_steps - 1, 0)
        chunks = [self.adam_steps // max(self.newton_steps - 1, 1)] * n_chunks
        reports = []

        def newton() -> None:
            reports.append(self.step(model, len(reports)))
            monitor.step(float(model.loss()[0].detach()))
            monitor.record()

        if self.newton_steps:
            newton()
        for chunk in chunks:
            adam_phase(model, hyper, chunk, self.lr, monitor)
            newton()
        return {"linear_solver": self._solver(model.pde, model.grid.size), "newton": reports}
