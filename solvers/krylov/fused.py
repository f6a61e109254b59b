"""Conjugate gradients as a fused, compiled, graph-captured loop for grid stencils (GPU speed).

:func:`cg` runs one CG iteration as ~20 small torch ops and reads the residual norm on the host
after every iteration, so on a GPU it is bound by kernel launches and host-device syncs, not by
memory bandwidth. :func:`fused_cg` solves the same systems with the same iterates, built for the
device:

* **one stencil kernel**: the matrix is a :class:`~sciml.solvers.krylov.stencil.StencilOperator`
  (the variable-coefficient 5-/7-point stencil of the engine's elliptic assembly) applied to
  fields ``[B, *shape]``, no sparse matrix and no gather/scatter;
* **fused vector updates and dot products**: one CG step (:func:`cg_step`) is a single pure
  function of in-place state; ``torch.compile`` turns it into a few fused kernels (Triton on
  CUDA, C++ on the CPU): the stencil with ``p.Ap``, the ``x``/``r`` updates with ``r.r`` (and
  ``r.z`` for Jacobi), the ``p`` update;
* **no host sync between checks**: convergence is decided on the device. A column whose
  recursive residual reaches the tolerance is frozen by masks (``alpha = beta = 0``), exactly
  where :func:`cg` freezes it; the host reads the flags only every ``check_every`` iterations
  (one sync per chunk), then confirms newly converged columns on the TRUE residual and restarts
  a column whose true residual drifted above the tolerance (as :func:`cg` does, but at the end
  of the chunk instead of the same iteration). A chunk after the last column converged costs up
  to ``check_every - 1`` masked, no-op iterations;
* **CUDA graphs**: on CUDA the ``check_every`` steps of a chunk are captured once into a
  ``torch.cuda.CUDAGraph`` (after a warm-up that compiles the step) and replayed, one launch
  per chunk instead of ~10 per iteration;
* **batched right-hand sides**: ``b: [B, n]``, each column with its own step sizes.

Without CUDA nothing is captured; ``compile=None`` (the default) compiles only on CUDA, so the
CPU runs the same step eagerly (the plain-torch fallback). The CPU path of :func:`cg` is not
touched by any of this.

Same iterates as :func:`cg` to round-off: both run the recursion ``x += alpha p``,
``r -= alpha Ap``, ``beta = r'z' / r.z`` with the same masks; only the summation order of the
dot products differs (``tests/solvers/test_krylov_fused.py`` checks the iterates and iteration
counts in float64, eager and compiled).

>>> from sciml.grid import Grid
>>> from sciml.physics.elliptic import assemble_elliptic
>>> from sciml.solvers.krylov.cg import cg
>>> system = assemble_elliptic(Grid((16, 16), centering="cell"))
>>> b = torch.ones(system.n, dtype=torch.float64)
>>> res = fused_cg(system, b, rtol=1e-10, check_every=8)
>>> res.converged, res.iterations == cg(system.matrix, b, rtol=1e-10).iterations
(True, True)
"""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING

import torch

from sciml.solvers.krylov.cg import SolveResult
from sciml.solvers.krylov.operator import check_rhs
from sciml.solvers.krylov.stencil import StencilOperator, stencil_apply

if TYPE_CHECKING:
    from sciml.physics.elliptic import EllipticSystem
    from sciml.solvers.krylov.preconditioners import Jacobi

__all__ = ["fused_cg", "cg_step", "iteration_bytes"]


def cg_step(
    x: torch.Tensor,
    r: torch.Tensor,
    p: torch.Tensor,
    rz: torch.Tensor,
    active: torch.Tensor,
    iters: torch.Tensor,
    bad: torch.Tensor,
    center: torch.Tensor,
    faces: list[torch.Tensor],
    dinv: torch.Tensor | None,
    tol: torch.Tensor,
    maxiter: torch.Tensor,
    periodic: tuple[bool, ...],
) -> torch.Tensor:
    """One (Jacobi-preconditioned when ``dinv`` is given) CG iteration, in place.

    State (updated in place): ``x, r, p: [B, *S]``; ``rz: [B]`` (``r.z``); ``active: Bool[B]``;
    ``iters: Long[B]`` iterations taken per column; ``bad: Bool[B]`` set when ``p.Ap <= 0``.
    Constants: ``center, faces`` (the stencil), ``dinv: [*S]`` inverse diagonal or None,
    ``tol: [B]`` absolute tolerance on ``||r||``, ``maxiter``: 0-d long.

    Returns the residual norm ``||r||: [B]`` after the step (for the history). No host sync.
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
    z = r if dinv is None else r * dinv
    rz_new = (r * z).sum(dims)
    rnorm = (r * r).sum(dims).sqrt() if dinv is not None else rz_new.sqrt()
    still = act & (rnorm > tol)
    beta = torch.where(still, rz_new / torch.where(act, rz, torch.ones_like(rz)), 0.0)
    p.copy_(torch.where(still.view(view), z + beta.view(view) * p, p))
    rz.copy_(torch.where(still, rz_new, rz))
    iters.add_(act.to(iters.dtype))
    active.copy_(still)
    return rnorm


_COMPILED: dict[str, object] = {}


def _compiled_step():
    if "step" not in _COMPILED:
        _COMPILED["step"] = torch.compile(cg_step, fullgraph=True, dynamic=False)
    return _COMPILED["step"]


def iteration_bytes(op: StencilOperator, batch: int = 1, *, jacobi: bool = False) -> int:
    """Bytes one fused CG iteration must move at the least (the roofline's traffic model).

    Stencil + ``p.Ap``: read ``p``, ``center``, ``ndim`` faces, write ``Ap``; ``x``/``r`` update
    with ``r.r``: read ``x, p, r, Ap``, write ``x, r``; ``p`` update: read ``r, p``, write ``p``:
    ``ndim + 12`` arrays (plus one read of ``dinv`` with Jacobi), coefficients counted once per
    iteration whatever the batch, vectors once per column.
    """
    size = op.center.numel() * op.center.element_size()
    coeff = 1 + len(op.shape) + (1 if jacobi else 0)
    vectors = 11  # p, Ap; x, p, r, Ap read + x, r written; r, p read + p written -> see above
    return size * (coeff + vectors * batch)


def _as_stencil(A, device, dtype) -> StencilOperator:
    if isinstance(A, StencilOperator):
        op = A
    elif hasattr(A, "_operators") and hasattr(A, "grid"):
        op = StencilOperator.from_system(A, device=device, dtype=dtype)
    else:
        raise TypeError(
            "fused_cg needs a grid stencil: a StencilOperator or an EllipticSystem "
            f"(sciml.physics.elliptic.assemble_elliptic); got {type(A).__name__} "
            "(use sciml.solvers.krylov.cg for other operators)"
        )
    if op.device != device or op.dtype != dtype:
        op = op.to(device, dtype)
    return op


def _jacobi_inverse(M, op: StencilOperator) -> torch.Tensor | None:
    """``M``: None, a ``Jacobi`` preconditioner, or the inverse diagonal ``[n]`` -> field or None."""
    if M is None:
        return None
    if isinstance(M, torch.Tensor):
        if M.shape != (op.n,):
            raise ValueError(
                f"M as a tensor must be the inverse diagonal [{op.n}], got {list(M.shape)}"
            )
        inv = op.to_field(M.to(op.device, op.dtype)[None])[0]
    elif getattr(M, "name", None) == "jacobi":
        d = op.center
        if not bool((d[op.active] > 0).all()):
            raise ValueError("Jacobi needs a positive diagonal (A must be SPD)")
        inv = torch.where(op.active, 1.0 / torch.where(op.active, d, torch.ones_like(d)), 0.0)
    else:
        raise TypeError(
            f"fused_cg takes M=None, a Jacobi preconditioner or an inverse diagonal [n], got "
            f"{type(M).__name__} (use sciml.solvers.krylov.cg for other preconditioners)"
        )
    return inv.contiguous()


def fused_cg(
    A: StencilOperator | EllipticSystem,
    b: torch.Tensor,
    *,
    x0: torch.Tensor | None = None,
    M: Jacobi | torch.Tensor | None = None,
    rtol: float = 1e-6,
    atol: float = 0.0,
    maxiter: int | None = None,
    check_every: int = 16,
    compile: bool | None = None,
    cuda_graph: bool | None = None,
) -> SolveResult:
    """Solve ``A x = b`` by (Jacobi-preconditioned) CG as a fused loop (see the module doc).

    Args:
        A: a :class:`~sciml.solvers.krylov.stencil.StencilOperator` or an assembled
            :class:`~sciml.physics.elliptic.EllipticSystem` (converted on ``b``'s device/dtype).
        b: right-hand side on the unknowns, ``[n]`` or ``[B, n]``; sets device and dtype.
        x0: initial guess, shape of ``b`` (default zeros).
        M: ``None`` (CG), a :class:`~sciml.solvers.krylov.preconditioners.Jacobi`, or the
            inverse diagonal ``[n]``.
        rtol, atol: stop when the TRUE residual ``||b - Ax|| <= max(rtol ||b||, atol)`` for
            every column.
        maxiter: iteration cap per column (default ``10 n``).
        check_every: iterations between host reads of the convergence flags (chunk length,
            also the length of the captured CUDA graph).
        compile: ``torch.compile`` the step (default: on CUDA only). A failing compile warns
            and falls back to the eager step.
        cuda_graph: capture a chunk as a CUDA graph (default: on CUDA). A failing capture warns
            and falls back to launching the chunk's kernels one by one.

    Returns:
        :class:`~sciml.solvers.krylov.cg.SolveResult`; ``times`` are measured at the end of each
        chunk and interpolated linearly inside it; ``setup_time`` includes compiling and
        capturing; ``extra`` records ``check_every``, ``compiled``, ``cuda_graph``,
        ``compile_s`` and ``iterations_run`` (including the masked tail of the last chunk).
    """
    t_setup = time.perf_counter()
    if not isinstance(b, torch.Tensor):
        raise TypeError(f"b must be a torch.Tensor [n] or [B, n], got {type(b)}")
    device, dtype = b.device, b.dtype
    op = _as_stencil(A, device, dtype)
    bb, squeeze = check_rhs(b, op.n, "b")
    if not isinstance(check_every, int) or check_every < 1:
        raise ValueError(f"check_every must be a positive int, got {check_every!r}")
    if rtol < 0 or atol < 0:
        raise ValueError(f"rtol and atol must be >= 0, got {rtol}, {atol}")
    if maxiter is None:
        maxiter = 10 * op.n
    if not isinstance(maxiter, int) or maxiter < 0:
        raise ValueError(f"maxiter must be a non-negative int, got {maxiter!r}")
    cuda = device.type == "cuda"
    compile = cuda if compile is None else bool(compile)
    cuda_graph = cuda if cuda_graph is None else bool(cuda_graph) and cuda
    dinv = _jacobi_inverse(M, op)
    method = "cg-fused" if dinv is None else "pcg-fused+jacobi"

    bf = op.to_field(bb).contiguous()
    bnorm = bb.norm(dim=-1)
    safe_bnorm = torch.where(bnorm > 0, bnorm, torch.ones_like(bnorm))
    tol = torch.maximum(rtol * bnorm, torch.full_like(bnorm, atol))
    if x0 is None:
        x = torch.zeros_like(bf)
        r = bf.clone()
    else:
        x0b, _ = check_rhs(x0, op.n, "x0")
        if x0b.shape != bb.shape:
            raise ValueError(f"x0 must have the shape of b {list(b.shape)}, got {list(x0.shape)}")
        x = op.to_field(x0b.to(device=device, dtype=dtype)).contiguous().clone()
        r = bf - op.apply_field(x)
    z = r if dinv is None else r * dinv
    p = z.clone()
    dims = tuple(range(1, bf.ndim))
    rz = (r * z).sum(dims)
    rnorm0 = torch.linalg.vector_norm(r, dim=dims)
    active = rnorm0 > tol
    iters = torch.zeros(bb.shape[0], dtype=torch.int64, device=device)
    bad = torch.zeros_like(active)
    cap = torch.tensor(maxiter, dtype=torch.int64, device=device)
    hist_buf = torch.zeros(check_every, bb.shape[0], dtype=dtype, device=device)
    state = [x, r, p, rz, active, iters, bad, hist_buf]
    consts = (op.center, op.faces, dinv, tol, cap, op.periodic)

    step = cg_step
    compile_s = 0.0
    if compile:
        t_c = time.perf_counter()
        try:
            step = _compiled_step()
            snapshot = [t.clone() for t in state]
            step(x, r, p, rz, active, iters, bad, *consts)  # compile now, not in the timing
            for t, s in zip(state, snapshot):
                t.copy_(s)
        except Exception as exc:  # no compiler / unsupported backend: the eager step is exact
            warnings.warn(f"fused_cg: torch.compile failed ({type(exc).__name__}: {exc}); "
                          "running the eager step", stacklevel=2)  # fmt: skip
            step, compile = cg_step, False
        compile_s = time.perf_counter() - t_c

    def chunk() -> None:
        for i in range(check_every):
            hist_buf[i].copy_(step(x, r, p, rz, active, iters, bad, *consts))

    graph = None
    if cuda_graph:
        try:
            graph = _capture(chunk, state)
        except Exception as exc:
            warnings.warn(f"fused_cg: CUDA graph capture failed ({type(exc).__name__}: {exc}); "
                          "launching kernels without a graph", stacklevel=2)  # fmt: skip
            graph, cuda_graph = None, False
    _sync(device)
    setup_time = time.perf_counter() - t_setup

    hist = [(rnorm0 / safe_bnorm)[None]]
    chunk_ends = [0.0]
    prev_active = active.clone()
    steps_run = 0
    t0 = time.perf_counter()
    any_active = bool(active.any()) and maxiter > 0
    while any_active:
        if graph is not None:
            graph.replay()
        else:
            chunk()
        steps_run += check_every
        hist.append(hist_buf / safe_bnorm)  # a device copy, no sync
        newly = prev_active & ~active
        flags = torch.stack([active.any(), bad.any(), newly.any()]).cpu()  # the chunk's one sync
        # (a column that reached maxiter is inactive after its next step: cg_step masks it)
        chunk_ends.append(time.perf_counter() - t0)
        if bool(flags[1]):
            col = int(torch.nonzero(bad)[0, 0])
            raise ValueError(
                f"A is not positive definite (p.Ap <= 0 in column {col}) "
                "or the preconditioner is not positive definite"
            )
        if bool(flags[2]):  # confirm newly converged columns on the true residual
            r_true = bf - op.apply_field(x)
            true_norm = torch.linalg.vector_norm(r_true, dim=dims)
            drift = newly & (true_norm > tol) & (iters < cap)
            if bool(drift.any()):
                m = drift.view((-1,) + (1,) * len(dims))
                r.copy_(torch.where(m, r_true, r))
                z = r if dinv is None else r * dinv
                p.copy_(torch.where(m, z, p))
                rz.copy_(torch.where(drift, (r * z).sum(dims), rz))
                active.copy_(active | drift)
            flags[0] = active.any()
        prev_active.copy_(active)
        any_active = bool(flags[0])

    k = int(iters.max()) if iters.numel() else 0
    residuals = torch.cat(hist, dim=0)[: k + 1].detach().cpu()
    times = _interpolate_times(chunk_ends, check_every, k)
    xv = op.to_vector(x)
    true_res = (bb - op.to_vector(op.apply_field(x))).norm(dim=-1) / safe_bnorm
    converged = true_res * safe_bnorm <= tol * (1 + 1e-12)
    _sync(device)
    return SolveResult(
        x=xv[0] if squeeze else xv,
        converged=bool(converged[0]) if squeeze else converged,
        iterations=k,
        residual=float(true_res[0]) if squeeze else true_res,
        residuals=residuals,
        times=times,
        setup_time=setup_time,
        method=method,
        extra=dict(
            check_every=check_every,
            compiled=compile,
            cuda_graph=graph is not None,
            compile_s=compile_s,
            iterations_run=steps_run,
            iterations_per_column=iters.cpu(),
        ),
    )


def _capture(chunk, state: list[torch.Tensor]) -> torch.cuda.CUDAGraph:
    """Warm ``chunk`` up on a side stream, restore ``state``, capture one chunk as a graph."""
    snapshot = [t.clone() for t in state]
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(2):
            chunk()
    torch.cuda.current_stream().wait_stream(side)
    for t, s in zip(state, snapshot):
        t.copy_(s)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        chunk()  # recorded, not run: the state keeps the restored values
    return graph


def _interpolate_times(chunk_ends: list[float], m: int, k: int) -> torch.Tensor:
    """Seconds after iterations ``0..k``: measured at chunk ends, linear inside a chunk of ``m``."""
    if len(chunk_ends) == 1:
        return torch.zeros(k + 1, dtype=torch.float64)
    ends = torch.tensor(chunk_ends, dtype=torch.float64)
    it = torch.arange(1, k + 1)
    c = (it - 1) // m  # 0-based chunk of iteration it
    t = ends[c] + (ends[c + 1] - ends[c]) * (it - c * m) / m
    return torch.cat([torch.zeros(1, dtype=torch.float64), t])


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
