"""Conjugate gradients in torch: CG, preconditioned CG and flexible PCG.

One entry point, :func:`cg`, solves ``A x = b`` for a symmetric positive definite ``A`` on CPU
or GPU, in float32 or float64, for one right-hand side ``b: [n]`` or a batch ``b: [B, n]``
(each column has its own step sizes; converged columns are frozen). It stops on the **true**
relative residual ``||b - A x|| / ||b|| <= rtol``: when the recursively updated residual says
"converged", the true residual is computed; a column whose true residual is still above the
tolerance gets its residual replaced by the true one and its search direction restarted.

``M`` is a preconditioner (see :mod:`sciml.solvers.krylov.preconditioners`): any object with
``apply(r: [B, n]) -> [B, n]`` approximating ``A^{-1} r``, or a plain callable. With
``flexible=True`` the Polak-Ribiere form ``beta = z_{k+1}.(r_{k+1} - r_k) / z_k.r_k`` is used
(Notay's flexible CG), which tolerates a preconditioner that changes from step to step or is
nonlinear (a neural network); :func:`cg` picks it automatically when ``M.linear`` is False.

>>> import scipy.sparse as sp
>>> T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(50, 50))
>>> res = cg(T, torch.ones(50, dtype=torch.float64), rtol=1e-10)
>>> res.converged, res.iterations, res.residual < 1e-10
(True, 25, True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from sciml.solvers.krylov.operator import LinearOperator, as_operator, check_rhs

__all__ = ["SolveResult", "cg"]


@dataclass
class SolveResult:
    """Solution and history of an iterative solve.

    Attributes:
        x: solution ``[n]`` or ``[B, n]`` (the shape of ``b``).
        converged: ``bool`` (or ``BoolTensor[B]``): true relative residual <= rtol.
        iterations: iterations of the slowest column.
        residual: final true relative residual ``||b - Ax|| / ||b||`` (float or ``[B]``).
        residuals: ``[iterations + 1, B]`` relative residual norm after each iteration
            (the recursively updated one for CG, the true one where it was computed).
        times: ``[iterations + 1]`` seconds since the start of the iteration (after setup).
        setup_time: seconds spent before the first iteration (preconditioner setup, etc.).
        method: a label.
    """

    x: torch.Tensor
    converged: bool | torch.Tensor
    iterations: int
    residual: float | torch.Tensor
    residuals: torch.Tensor
    times: torch.Tensor
    setup_time: float = 0.0
    method: str = "cg"
    extra: dict = field(default_factory=dict)

    @property
    def solve_time(self) -> float:
        """Seconds from the first iteration to convergence."""
        return float(self.times[-1])

    @property
    def time_per_iteration(self) -> float:
        return self.solve_time / max(self.iterations, 1)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise dot ``[B, n], [B, n] -> [B]``."""
    return (a * b).sum(-1)


def _apply_precond(M, r: torch.Tensor) -> torch.Tensor:
    z = M.apply(r) if hasattr(M, "apply") else M(r)
    if z.shape != r.shape:
        raise ValueError(f"preconditioner returned shape {list(z.shape)}, expected {list(r.shape)}")
    return z.to(r.dtype)


def cg(
    A,
    b: torch.Tensor,
    *,
    x0: torch.Tensor | None = None,
    M=None,
    rtol: float = 1e-6,
    atol: float = 0.0,
    maxiter: int | None = None,
    flexible: bool | None = None,
    check: bool = True,
    callback=None,
) -> SolveResult:
    """Solve ``A x = b`` by (preconditioned, optionally flexible) conjugate gradients.

    Args:
        A: SPD matrix or operator, anything :func:`~sciml.solvers.krylov.operator.as_operator` takes.
        b: right-hand side ``[n]`` or ``[B, n]``; its dtype/device set the computation's.
        x0: initial guess, shape of ``b`` (default zeros).
        M: preconditioner with ``apply(r: [B, n]) -> [B, n]`` (or a callable), ``None`` = CG.
        rtol, atol: stop when ``||b - A x|| <= max(rtol ||b||, atol)`` for every column.
        maxiter: iteration cap (default ``10 n``).
        flexible: Polak-Ribiere beta (flexible PCG); default: True iff ``M.linear`` is False.
        check: validate ``A`` (symmetric, square, finite) and ``b``.
        callback: called as ``callback(k, x, rel_residual)`` after every iteration.

    Returns:
        :class:`SolveResult`.
    """
    t_setup = time.perf_counter()
    op = A if (isinstance(A, LinearOperator) and not check) else as_operator(A, check=check)
    bb, squeeze = check_rhs(b, op.n, "b")
    device, dtype = bb.device, bb.dtype
    if op.matrix is not None and (op.device != device or op.dtype != dtype):
        op = op.to(device, dtype)
    if x0 is None:
        x = torch.zeros_like(bb)
    else:
        x0b, _ = check_rhs(x0, op.n, "x0")
        if x0b.shape != bb.shape:
            raise ValueError(f"x0 must have the shape of b {list(b.shape)}, got {list(x0.shape)}")
        x = x0b.to(device=device, dtype=dtype).clone()
    if maxiter is None:
        maxiter = 10 * op.n
    if rtol < 0 or atol < 0:
        raise ValueError(f"rtol and atol must be >= 0, got {rtol}, {atol}")
    if flexible is None:
        flexible = M is not None and not getattr(M, "linear", True)
    if M is not None and hasattr(M, "setup") and getattr(M, "needs_setup", False):
        M.setup(op)
    method = "cg" if M is None else ("fpcg" if flexible else "pcg") + f"+{getattr(M, 'name', 'M')}"

    bnorm = bb.norm(dim=-1)
    safe_bnorm = torch.where(bnorm > 0, bnorm, torch.ones_like(bnorm))
    tol = torch.maximum(rtol * bnorm, torch.full_like(bnorm, atol))

    def precond(r):
        return r if M is None else _apply_precond(M, r)

    r = bb - op(x) if x0 is not None else bb.clone()
    z = precond(r)
    p = z.clone()
    rz = _dot(r, z)
    rnorm = r.norm(dim=-1)
    active = rnorm > tol
    _sync(device)
    setup_time = time.perf_counter() - t_setup
    t0 = time.perf_counter()
    hist = [(rnorm / safe_bnorm).detach().cpu()]
    times = [0.0]
    k = 0
    while bool(active.any()) and k < maxiter:
        Ap = op(p)
        pAp = _dot(p, Ap)
        if bool(((pAp <= 0) & active).any()):
            bad = int(torch.nonzero((pAp <= 0) & active)[0, 0])
            raise ValueError(
                f"A is not positive definite (p.Ap = {float(pAp[bad]):.3e} <= 0 in column {bad}) "
                "or the preconditioner is not positive definite"
            )
        alpha = torch.where(active, rz / torch.where(active, pAp, 1.0), 0.0)
        x = x + alpha[:, None] * p
        r_new = r - alpha[:, None] * Ap
        rnorm = r_new.norm(dim=-1)
        done = active & (rnorm <= tol)
        restart = torch.zeros_like(active)
        if bool(done.any()):
            # confirm on the true residual; replace the recursive one where it drifted
            r_true = bb - op(x)
            true_norm = r_true.norm(dim=-1)
            drift = done & (true_norm > tol)
            r_new = torch.where(done[:, None], r_true, r_new)
            rnorm = torch.where(done, true_norm, rnorm)
            restart = drift
            active = active & ~(done & ~drift)
        z_new = precond(r_new)
        rz_new = _dot(r_new, z_new)
        if flexible:
            beta = _dot(z_new, r_new - r) / torch.where(active, rz, 1.0)
        else:
            beta = rz_new / torch.where(active, rz, 1.0)
        beta = torch.where(active & ~restart, beta, 0.0)
        p = torch.where(active[:, None], z_new + beta[:, None] * p, p)
        r = torch.where(active[:, None], r_new, r)
        rz = torch.where(active, rz_new, rz)
        k += 1
        _sync(device)
        times.append(time.perf_counter() - t0)
        hist.append((rnorm / safe_bnorm).detach().cpu())
        if callback is not None:
            callback(k, x[0] if squeeze else x, rnorm / safe_bnorm)
    true_res = (bb - op(x)).norm(dim=-1) / safe_bnorm
    converged = true_res * safe_bnorm <= tol * (1 + 1e-12)
    _sync(device)
    return SolveResult(
        x=x[0] if squeeze else x,
        converged=bool(converged[0]) if squeeze else converged,
        iterations=k,
        residual=float(true_res[0]) if squeeze else true_res,
        residuals=torch.stack(hist),
        times=torch.tensor(times, dtype=torch.float64),
        setup_time=setup_time,
        method=method,
    )
