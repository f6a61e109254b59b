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

import torch

from sciml.solvers.krylov.operator import prepare_system
from sciml.solvers.krylov.result import SolveResult, pack_result, sync

__all__ = ["CGRecurrence", "SolveResult", "cg"]


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise dot ``[B, n], [B, n] -> [B]``."""
    return (a * b).sum(-1)


def _apply_precond(M, r: torch.Tensor) -> torch.Tensor:
    z = M.apply(r) if hasattr(M, "apply") else M(r)
    if z.shape != r.shape:
        raise ValueError(f"preconditioner returned shape {list(z.shape)}, expected {list(r.shape)}")
    return z.to(r.dtype)


class CGRecurrence:
    """The (preconditioned, flexible) CG recurrences on a batch of columns, one :meth:`step` at
    a time: what :func:`cg` iterates, and what DCDM's safeguard runs beside its own iterates.

    State: ``x``, ``r``, ``p``, ``rz`` ``[B, n]``/``[B]``, ``rnorm [B]`` and ``active [B]``
    (columns not yet at ``tol``). A column that reaches ``tol`` by the recursive residual is
    confirmed on the true residual ``b - A x``; where that drifted, the true residual replaces
    it and the search direction restarts. Columns that are not active do not move.
    """

    def __init__(
        self,
        op,
        b: torch.Tensor,
        x: torch.Tensor,
        tol: torch.Tensor,
        *,
        M=None,
        flexible: bool = False,
        x0_given: bool = True,
    ) -> None:
        self.op, self.b, self.tol, self.M, self.flexible = op, b, tol, M, flexible
        self.x = x
        self.r = b - op(x) if x0_given else b.clone()
        z = self.precond(self.r)
        self.p = z.clone()
        self.rz = _dot(self.r, z)
        self.rnorm = self.r.norm(dim=-1)
        self.active = self.rnorm > tol

    def precond(self, r: torch.Tensor) -> torch.Tensor:
        """``M r`` (``r`` itself without a preconditioner)."""
        return r if self.M is None else _apply_precond(self.M, r)

    def step(self) -> None:
        """One CG iteration of the active columns (``ValueError`` if ``p.Ap <= 0``)."""
        op, tol, active, p, r = self.op, self.tol, self.active, self.p, self.r
        Ap = op(p)
        pAp = _dot(p, Ap)
        if bool(((pAp <= 0) & active).any()):
            bad = int(torch.nonzero((pAp <= 0) & active)[0, 0])
            raise ValueError(
                f"A is not positive definite (p.Ap = {float(pAp[bad]):.3e} <= 0 in column {bad}) "
                "or the preconditioner is not positive definite"
            )
        alpha = torch.where(active, self.rz / torch.where(active, pAp, 1.0), 0.0)
        self.x = self.x + alpha[:, None] * p
        r_new = r - alpha[:, None] * Ap
        rnorm = r_new.norm(dim=-1)
        done = active & (rnorm <= tol)
        restart = torch.zeros_like(active)
        if bool(done.any()):
            # confirm on the true residual; replace the recursive one where it drifted
            r_true = self.b - op(self.x)
            true_norm = r_true.norm(dim=-1)
            drift = done & (true_norm > tol)
            r_new = torch.where(done[:, None], r_true, r_new)
            rnorm = torch.where(done, true_norm, rnorm)
            restart = drift
            active = active & ~(done & ~drift)
        z_new = self.precond(r_new)
        rz_new = _dot(r_new, z_new)
        if self.flexible:
            beta = _dot(z_new, r_new - r) / torch.where(active, self.rz, 1.0)
        else:
            beta = rz_new / torch.where(active, self.rz, 1.0)
        beta = torch.where(active & ~restart, beta, 0.0)
        self.p = torch.where(active[:, None], z_new + beta[:, None] * p, p)
        self.r = torch.where(active[:, None], r_new, r)
        self.rz = torch.where(active, rz_new, self.rz)
        self.rnorm, self.active = rnorm, active


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
    op, bb, squeeze, x = prepare_system(A, b, x0, check=check)
    device = bb.device
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

    rec = CGRecurrence(op, bb, x, tol, M=M, flexible=flexible, x0_given=x0 is not None)
    sync(device)
    setup_time = time.perf_counter() - t_setup
    t0 = time.perf_counter()
    hist = [(rec.rnorm / safe_bnorm).detach().cpu()]
    times = [0.0]
    k = 0
    while bool(rec.active.any()) and k < maxiter:
        rec.step()
        k += 1
        sync(device)
        times.append(time.perf_counter() - t0)
        hist.append((rec.rnorm / safe_bnorm).detach().cpu())
        if callback is not None:
            callback(k, rec.x[0] if squeeze else rec.x, rec.rnorm / safe_bnorm)
    x = rec.x
    true_res = (bb - op(x)).norm(dim=-1) / safe_bnorm
    sync(device)
    return pack_result(
        x=x,
        true_residual=true_res,
        tol_ratio=tol / safe_bnorm,
        squeeze=squeeze,
        iterations=k,
        history=hist,
        times=times,
        setup_time=setup_time,
        method=method,
    )
