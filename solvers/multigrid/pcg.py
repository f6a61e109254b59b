"""Multigrid-preconditioned CG on grid fields: one loop for the CPU (eager, in place) and the GPU
(compiled step, chunks captured as CUDA graphs), with a divergence guard.

:func:`mg_pcg` runs the PCG recurrences of :func:`~sciml.solvers.krylov.cg.cg` on fields
``[B, *S]`` with the matrix as a :class:`~sciml.solvers.krylov.stencil.StencilOperator` and the
preconditioner as a V-cycle (:class:`~sciml.solvers.multigrid.cycle.VCycle`), in the layout of
:func:`~sciml.solvers.krylov.fused.fused_cg`: columns that reach the tolerance are frozen by
masks, the host reads the convergence flags every ``check_every`` iterations (every iteration
on the CPU, where a read is free; a chunk of 8 on CUDA, captured once as a CUDA graph), and
newly converged columns are confirmed on the TRUE residual (a drifted one is restarted).

The cycle may run in float32 inside a float64 PCG (``VCycle`` built with
``dtype=torch.float32``): half the memory traffic of the preconditioner, which is most of an
iteration; the outer recurrences, the matvec and the stopping test stay in float64.

**Divergence guard.** A cycle that is not positive definite (``r.z <= 0``), returns NaN, or
does not contract -- no residual of the first ``probe`` iterations is below the initial one
(a PCG residual may rise for a few iterations, so the smallest of the window counts) -- is
not trusted: the solve restarts from ``x0`` with Jacobi-PCG
(:func:`~sciml.solvers.krylov.fused.fused_cg`), warns, and records why in
``result.extra["fallback"]`` (``result.method`` ends in ``->jacobi-pcg``). The answer is always
checked on the true residual, so nothing unconverged is ever marked converged. ``p.Ap <= 0``
with a positive definite cycle means ``A`` itself is not positive definite: ``ValueError``.

>>> from sciml.grid import Grid
>>> from sciml.physics.elliptic import assemble_elliptic
>>> from sciml.solvers.multigrid.cycle import VCycle
>>> system = assemble_elliptic(Grid((32, 32), centering="cell"))
>>> M = VCycle.from_system(system)
>>> res = mg_pcg(M.op, torch.ones(system.n, dtype=torch.float64), M, rtol=1e-8)
>>> res.converged, res.iterations
(True, 8)
"""

from __future__ import annotations

import time
import warnings

import torch

from sciml.solvers.krylov.fused import _capture, _interpolate_times, fused_cg
from sciml.solvers.krylov.operator import check_rhs
from sciml.solvers.krylov.result import SolveResult, sync
from sciml.solvers.krylov.stencil import StencilOperator, stencil_apply

__all__ = ["mg_pcg", "pcg_step"]


def pcg_step(
    x: torch.Tensor,
    r: torch.Tensor,
    p: torch.Tensor,
    rz: torch.Tensor,
    active: torch.Tensor,
    iters: torch.Tensor,
    bad: torch.Tensor,
    notpd: torch.Tensor,
    center: torch.Tensor,
    faces: list[torch.Tensor],
    precond,
    tol: torch.Tensor,
    maxiter: torch.Tensor,
    periodic: tuple[bool, ...],
) -> torch.Tensor:
    """One PCG iteration on fields, in place (pure tensor ops: compile- and graph-friendly).

    State: ``x, r, p: [B, *S]``; ``rz: [B]`` (``r.z``); ``active: Bool[B]``; ``iters:
    Long[B]``; ``bad: Bool[B]`` set when ``p.Ap <= 0``; ``notpd: Bool[B]`` set when the
    preconditioner gives ``r.z <= 0`` or a non-finite value. ``precond``: fields -> fields.
    Returns ``||r||: [B]`` after the step.
    """
    dims = tuple(range(1, p.ndim))
    view = (-1,) + (1,) * len(dims)
    act = active & (iters < maxiter)
    ap = stencil_apply(p, center, faces, periodic)
    pap = (p * ap).sum(dims)
    bad.logical_or_(act & (pap <= 0))
    alpha = torch.where(act, rz / torch.where(act, pap, torch.ones_like(pap)), 0.0)
    x.add_(alpha.view(view) * p)
    r.sub_(alpha.view(view) * ap)
    rnorm = (r * r).sum(dims).sqrt()
    still = act & (rnorm > tol)
    z = precond(r)
    rz_new = (r * z).sum(dims)
    notpd.logical_or_(still & ~(rz_new > 0))  # also catches NaN
    beta = torch.where(still, rz_new / torch.where(act, rz, torch.ones_like(rz)), 0.0)
    p.copy_(torch.where(still.view(view), z + beta.view(view) * p, p))
    rz.copy_(torch.where(still, rz_new, rz))
    iters.add_(act.to(iters.dtype))
    active.copy_(still)
    return rnorm


def _eager_step(x, r, p, rz, active, iters, bad, notpd, op: StencilOperator, precond, tol, cap):
    """:func:`pcg_step` for the CPU: in-place vector updates, fewer temporaries (same math)."""
    dims = tuple(range(1, p.ndim))
    view = (-1,) + (1,) * len(dims)
    act = active & (iters < cap)
    ap = stencil_apply(p, op.center, op.faces, op.periodic)
    pap = torch.einsum("b...,b...->b", p, ap)
    bad.logical_or_(act & (pap <= 0))
    alpha = torch.where(act, rz / torch.where(act, pap, torch.ones_like(pap)), 0.0)
    x.addcmul_(alpha.view(view), p)
    r.addcmul_(alpha.view(view), ap, value=-1)
    rnorm = torch.linalg.vector_norm(r, dim=dims)
    still = act & (rnorm > tol)
    z = precond(r)
    rz_new = torch.einsum("b...,b...->b", r, z)
    notpd.logical_or_(still & ~(rz_new > 0))
    beta = torch.where(still, rz_new / torch.where(act, rz, torch.ones_like(rz)), 0.0)
    if bool(still.all()):
        p.mul_(beta.view(view)).add_(z)
    else:
        p.copy_(torch.where(still.view(view), z + beta.view(view) * p, p))
    rz.copy_(torch.where(still, rz_new, rz))
    iters.add_(act.to(iters.dtype))
    active.copy_(still)
    return rnorm


def mg_pcg(
    A: StencilOperator,
    b: torch.Tensor,
    M,
    *,
    x0: torch.Tensor | None = None,
    rtol: float = 1e-6,
    atol: float = 0.0,
    maxiter: int | None = None,
    check_every: int | None = None,
    compile: bool | None = None,
    cuda_graph: bool | None = None,
    probe: int = 8,
    fallback: bool = True,
) -> SolveResult:
    """Solve ``A x = b`` by PCG with the V-cycle ``M`` (see the module docstring).

    Args:
        A: the float :class:`StencilOperator` on ``b``'s device (converted to ``b``'s dtype).
        b: ``[n]`` or ``[B, n]`` on the unknowns; sets device and dtype of the recurrences.
        M: a :class:`~sciml.solvers.multigrid.cycle.VCycle` on the same grid (its own dtype).
        x0: initial guess (default zeros).
        rtol, atol: stop when the TRUE residual ``||b - Ax|| <= max(rtol ||b||, atol)``.
        maxiter: iteration cap per column (default 1000).
        check_every: iterations between host reads (default 1 on the CPU, 8 on CUDA).
        compile: ``torch.compile`` the step (default: on CUDA); a failure warns and runs eager.
        cuda_graph: capture a chunk as a CUDA graph (default: on CUDA).
        probe: the guard's window: one of the first ``probe`` residuals must be below the
            initial one.
        fallback: restart with Jacobi-PCG when the guard trips (False: raise ``ValueError``).

    Returns:
        :class:`~sciml.solvers.krylov.result.SolveResult` (``extra``: ``check_every``,
        ``compiled``, ``cuda_graph``, ``cycle_dtype``, ``fallback`` (None or the reason)).
    """
    t_setup = time.perf_counter()
    if not isinstance(A, StencilOperator):
        raise TypeError(f"A must be a StencilOperator, got {type(A).__name__}")
    if not isinstance(b, torch.Tensor):
        raise TypeError(f"b must be a torch.Tensor [n] or [B, n], got {type(b)}")
    device, dtype = b.device, b.dtype
    if A.device != device or A.dtype != dtype:
        A = A.to(device, dtype)
    bb, squeeze = check_rhs(b, A.n, "b")
    if rtol < 0 or atol < 0:
        raise ValueError(f"rtol and atol must be >= 0, got {rtol}, {atol}")
    maxiter = 1000 if maxiter is None else maxiter
    if not isinstance(maxiter, int) or maxiter < 0:
        raise ValueError(f"maxiter must be a non-negative int, got {maxiter!r}")
    cuda = device.type == "cuda"
    check_every = (8 if cuda else 1) if check_every is None else check_every
    if not isinstance(check_every, int) or check_every < 1:
        raise ValueError(f"check_every must be a positive int, got {check_every!r}")
    compile = cuda if compile is None else bool(compile)
    cuda_graph = cuda if cuda_graph is None else bool(cuda_graph) and cuda

    bf = A.to_field(bb).contiguous()
    dims = tuple(range(1, bf.ndim))
    bnorm = bb.norm(dim=-1)
    safe = torch.where(bnorm > 0, bnorm, torch.ones_like(bnorm))
    tol = torch.maximum(rtol * bnorm, torch.full_like(bnorm, atol))
    if x0 is None:
        x = torch.zeros_like(bf)
        r = bf.clone()
    else:
        x0b, _ = check_rhs(x0, A.n, "x0")
        if x0b.shape != bb.shape:
            raise ValueError(f"x0 must have the shape of b {list(b.shape)}, got {list(x0.shape)}")
        x = A.to_field(x0b.to(device=device, dtype=dtype)).contiguous().clone()
        r = bf - A.apply_field(x)
    x_start = x.clone()

    def precond(res: torch.Tensor) -> torch.Tensor:
        return M.apply_field(res)

    z = precond(r)
    p = z.clone()
    rz = (r * z).sum(dims)
    rnorm0 = torch.linalg.vector_norm(r, dim=dims)
    active = rnorm0 > tol
    notpd = active & ~(rz > 0)
    iters = torch.zeros(bb.shape[0], dtype=torch.int64, device=device)
    bad = torch.zeros_like(active)
    cap = torch.tensor(maxiter, dtype=torch.int64, device=device)
    hist_buf = torch.zeros(check_every, bb.shape[0], dtype=dtype, device=device)
    state = [x, r, p, rz, active, iters, bad, notpd, hist_buf]

    compile_s = 0.0
    if compile:
        t_c = time.perf_counter()
        try:
            compiled = torch.compile(pcg_step, fullgraph=False, dynamic=False)

            def step() -> torch.Tensor:
                return compiled(x, r, p, rz, active, iters, bad, notpd, A.center, A.faces,
                                precond, tol, cap, A.periodic)  # fmt: skip

            snapshot = [t.clone() for t in state]
            step()
            for t, s in zip(state, snapshot):
                t.copy_(s)
        except Exception as exc:  # no compiler / unsupported backend: the eager step is exact
            warnings.warn(f"mg_pcg: torch.compile failed ({type(exc).__name__}: {exc}); "
                          "running the eager step", stacklevel=2)  # fmt: skip
            compile = False
        compile_s = time.perf_counter() - t_c
    if not compile and cuda:  # the pure step: no host sync, so a chunk can be captured

        def step() -> torch.Tensor:
            with torch.no_grad():
                return pcg_step(x, r, p, rz, active, iters, bad, notpd, A.center, A.faces,
                                precond, tol, cap, A.periodic)  # fmt: skip

    elif not compile:

        def step() -> torch.Tensor:
            with torch.no_grad():
                return _eager_step(x, r, p, rz, active, iters, bad, notpd, A, precond, tol, cap)

    def chunk() -> None:
        for i in range(check_every):
            hist_buf[i].copy_(step())

    graph = None
    if cuda_graph:
        try:
            graph = _capture(chunk, state)
        except Exception as exc:
            warnings.warn(f"mg_pcg: CUDA graph capture failed ({type(exc).__name__}: {exc}); "
                          "launching kernels without a graph", stacklevel=2)  # fmt: skip
            graph = None
    sync(device)
    setup_time = time.perf_counter() - t_setup

    hist = [(rnorm0 / safe)[None]]
    chunk_ends = [0.0]
    prev_active = active.clone()
    steps_run = 0
    reason = None
    t0 = time.perf_counter()
    any_active = bool(active.any()) and maxiter > 0
    if bool(notpd.any()):
        reason, any_active = "the cycle is not positive definite (r.Br <= 0 or NaN)", False
    while any_active:
        if graph is not None:
            graph.replay()
        else:
            chunk()
        steps_run += check_every
        hist.append(hist_buf / safe)
        newly = prev_active & ~active
        flags = torch.stack([active.any(), bad.any(), newly.any(), notpd.any()]).cpu()
        chunk_ends.append(time.perf_counter() - t0)
        if bool(flags[3]):
            reason = "the cycle is not positive definite (r.Br <= 0 or NaN)"
            break
        if bool(flags[1]):
            col = int(torch.nonzero(bad)[0, 0])
            raise ValueError(f"A is not positive definite (p.Ap <= 0 in column {col})")
        if steps_run >= probe > steps_run - check_every:
            window = torch.cat(hist)[1 : probe + 1]  # relative residuals of iterations 1..probe
            best = window.nan_to_num(nan=float("inf")).min(dim=0).values * safe
            ratio = best / torch.where(rnorm0 > 0, rnorm0, torch.ones_like(rnorm0))
            if bool((ratio >= 1).any()):
                reason = (f"the cycle does not contract (smallest residual x{float(ratio.max()):.3g}"
                          f" of the initial one in the first {probe} iterations)")  # fmt: skip
                break
        if bool(flags[2]):  # confirm newly converged columns on the true residual
            r_true = bf - A.apply_field(x)
            true_norm = torch.linalg.vector_norm(r_true, dim=dims)
            drift = newly & (true_norm > tol) & (iters < cap)
            if bool(drift.any()):
                m = drift.view((-1,) + (1,) * len(dims))
                r.copy_(torch.where(m, r_true, r))
                zz = precond(r)
                p.copy_(torch.where(m, zz, p))
                rz.copy_(torch.where(drift, (r * zz).sum(dims), rz))
                active.copy_(active | drift)
            flags[0] = active.any()
        prev_active.copy_(active)
        any_active = bool(flags[0])

    if reason is not None:
        return _fall_back(A, bb, x_start, squeeze, reason, rtol=rtol, atol=atol,
                          maxiter=maxiter, fallback=fallback, setup_time=setup_time)  # fmt: skip
    k = int(iters.max()) if iters.numel() else 0
    residuals = torch.cat(hist, dim=0)[: k + 1].detach().cpu()
    times = _interpolate_times(chunk_ends, check_every, k)
    xv = A.to_vector(x)
    true_res = (bb - A.to_vector(A.apply_field(x))).norm(dim=-1) / safe
    converged = true_res * safe <= tol * (1 + 1e-12)
    sync(device)
    return SolveResult(
        x=xv[0] if squeeze else xv,
        converged=bool(converged[0]) if squeeze else converged,
        iterations=k,
        residual=float(true_res[0]) if squeeze else true_res,
        residuals=residuals,
        times=times,
        setup_time=setup_time,
        method="mg-pcg",
        extra=dict(
            check_every=check_every,
            compiled=compile,
            cuda_graph=graph is not None,
            compile_s=compile_s,
            cycle_dtype=str(getattr(M, "dtype", dtype)).replace("torch.", ""),
            iterations_run=steps_run,
            fallback=None,
        ),
    )


def _fall_back(A, bb, x_start, squeeze, reason, *, rtol, atol, maxiter, fallback, setup_time):
    if not fallback:
        raise ValueError(f"multigrid preconditioner rejected: {reason}")
    warnings.warn(f"mg_pcg: {reason}; falling back to Jacobi-PCG", RuntimeWarning, stacklevel=3)
    d = A.diagonal()
    x0 = A.to_vector(x_start)
    res = fused_cg(A, bb[0] if squeeze else bb, x0=x0[0] if squeeze else x0, M=1.0 / d,
                   rtol=rtol, atol=atol, maxiter=max(maxiter, 10 * A.n))  # fmt: skip
    res.setup_time += setup_time
    res.method = "mg-pcg->jacobi-pcg"
    res.extra["fallback"] = reason
    return res
