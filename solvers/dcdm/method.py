"""The deep conjugate direction method (DCDM; Kaneda et al., ICML 2023) with a never-stall safeguard.

The paper's iteration asks a network for a search direction ``q = f(r)``, A-orthogonalises it
against the last ``k`` directions and takes the exact line-search step along it. A network can
return a useless direction (a model used outside its training, a float32 round-off, a bug), and
then the paper's iteration stalls. :func:`dcdm` with ``safeguard=True`` (the default) instead
minimises the A-norm error over a small *subspace* each iteration:

.. code-block:: text

    candidates  q = f(r)                       the network's direction
                z = D^-1 r                     the Jacobi-preconditioned residual
                d = x^J_{k+1} - x_k            towards the Jacobi-PCG iterate of a shadow
                                               Jacobi-PCG run from the same x_0
    each candidate is A-orthogonalised (Gram-Schmidt in the A inner product) against the
    last k steps and the candidates before it; near-dependent or non-finite ones are dropped
    x_{k+1} = x_k + sum_i (c_i . r_k / c_i . A c_i) c_i            exact minimiser

**Guarantee** (exact arithmetic, any direction function ``f``, even random, zero or ``-r``):

1. the A-norm error never grows, and is never larger than Jacobi-PCG's after the same number
   of iterations: ``||x_k - x*||_A <= ||x^J_k - x*||_A``. (``r_k`` is orthogonal to the kept
   steps, so the minimum over the A-orthogonalised candidates equals the minimum over
   ``x_k + span{q, z, d, kept steps}``, which contains ``x^J_{k+1} = x_k + d``.)
2. the solve stops no later than Jacobi-PCG: when the shadow iterate meets the tolerance
   first, it is returned (``result.extra["shadow_converged"]``). So
   ``iterations(DCDM) <= iterations(Jacobi-PCG)`` (the shadow runs the same recurrences as
   :func:`~sciml.solvers.krylov.cg.cg` with :class:`~sciml.solvers.krylov.Jacobi`; with
   floating-point round-off the counts agree to within an iteration or two).

The price is three matrix-vector products per iteration (``A q``, ``A z`` and the shadow's
``A p``; ``A d = r_k - r^J_{k+1}`` is free) on top of the network; no extra network calls.
With ``safeguard=False`` the iteration is the paper's (one candidate, the network's; the
residual replaces it when it is not a descent direction), for comparison.

Each iteration's energy reduction is credited to the candidate that achieved it
(``result.extra["energy_share"]``: the network's share of the squared A-norm error removed).

:class:`DCDM` is the method object (``DCDM(model).solve(system, b)``) used by
:func:`sciml.solvers.solve`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from sciml.solvers.dcdm.direction import LearnedDirection
from sciml.solvers.dcdm.model_file import load_dcdm
from sciml.solvers.dcdm.network import DCDMNet
from sciml.solvers.krylov.cg import CGRecurrence
from sciml.solvers.krylov.operator import as_operator, prepare_system
from sciml.solvers.krylov.result import SolveResult, pack_result, sync
from sciml.solvers.methods import solve_device

if TYPE_CHECKING:
    from sciml.solvers.dcdm.direction import LearnedDirection
    from sciml.solvers.dcdm.network import DCDMNet

__all__ = ["dcdm", "DCDM"]

_CANDIDATES = ("network", "jacobi", "shadow")


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).sum(-1)


def dcdm(
    A,
    b: torch.Tensor,
    direction: Callable[[torch.Tensor], torch.Tensor],
    *,
    x0: torch.Tensor | None = None,
    rtol: float = 1e-6,
    atol: float = 0.0,
    maxiter: int = 500,
    k: int = 2,
    safeguard: bool = True,
    inv_diagonal: torch.Tensor | None = None,
    check: bool = True,
    keep_directions: bool = False,
    callback=None,
) -> SolveResult:
    """Solve ``A x = b`` (``A`` SPD) by the deep conjugate direction method.

    Args:
        A: the SPD operator (anything :func:`~sciml.solvers.krylov.operator.as_operator` takes).
        b: right-hand side ``[n]`` or ``[B, n]``; its dtype and device set the computation's.
        direction: ``r: [B, n] -> q: [B, n]`` (a
            :class:`~sciml.solvers.dcdm.direction.LearnedDirection`, or any callable).
        x0: initial guess (default zeros).
        rtol, atol: stop when the true residual ``||b - Ax|| <= max(rtol ||b||, atol)``.
        maxiter: iteration cap.
        k: number of previous steps to A-orthogonalise against (paper: 2).
        safeguard: minimise over {network, Jacobi residual, shadow Jacobi-PCG} (see the module
            docstring for the guarantee); False runs the paper's iteration.
        inv_diagonal: ``D^-1 [n]`` for the safeguard when ``A`` is matrix-free (default: from
            the assembled matrix).
        check: validate ``A`` (square, finite, symmetric) and ``b``.
        keep_directions: store the kept steps ``[k, B, n]`` in ``result.extra["directions"]``.
        callback: ``callback(it, x, rel_residual)`` after each iteration.

    Returns:
        :class:`~sciml.solvers.krylov.result.SolveResult` (true relative residuals; ``extra``
        holds ``energy_share`` (network / jacobi / shadow) and ``shadow_converged``).
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if maxiter < 0:
        raise ValueError(f"maxiter must be >= 0, got {maxiter}")
    if rtol < 0 or atol < 0:
        raise ValueError(f"rtol and atol must be >= 0, got {rtol}, {atol}")
    t_setup = time.perf_counter()
    op, bb, squeeze, x = prepare_system(A, b, x0, check=check)
    device, dtype = bb.device, bb.dtype
    dinv = None
    if safeguard:
        if inv_diagonal is None:
            dinv = 1.0 / op.diagonal(device=device, dtype=dtype)
        else:
            dinv = torch.as_tensor(inv_diagonal).to(device=device, dtype=dtype)
            if dinv.shape != (op.n,):
                raise ValueError(f"inv_diagonal must be [{op.n}], got {list(dinv.shape)}")
        if not bool((dinv > 0).all()):
            raise ValueError("the safeguard needs a positive diagonal (A must be SPD)")
    bnorm = bb.norm(dim=-1)
    safe = torch.where(bnorm > 0, bnorm, torch.ones_like(bnorm))
    tol = torch.maximum(rtol * bnorm, torch.full_like(bnorm, atol))
    r = bb - op(x) if x0 is not None else bb.clone()
    rnorm = r.norm(dim=-1)
    if safeguard:  # shadow Jacobi-PCG from the same x0: krylov.cg's own recurrences
        shadow = CGRecurrence(op, bb, x.clone(), tol, M=lambda v: dinv * v)
    active = rnorm > tol
    use_shadow = torch.zeros_like(active)
    kept: deque = deque(maxlen=max(k, 1))
    energy = torch.zeros(len(_CANDIDATES), bb.shape[0], dtype=torch.float64)
    sync(device)
    setup_time = time.perf_counter() - t_setup
    t0 = time.perf_counter()
    hist, times = [rnorm / safe], [0.0]
    it = 0
    while bool(active.any()) and it < maxiter:
        q = direction(r)
        if not isinstance(q, torch.Tensor) or q.shape != r.shape:
            got = list(q.shape) if isinstance(q, torch.Tensor) else type(q).__name__
            raise ValueError(f"direction returned {got}, expected shape {list(r.shape)}")
        q = torch.nan_to_num(q.to(device=device, dtype=dtype), nan=0.0, posinf=0.0, neginf=0.0)
        cands = [(0, q, op(q))]
        if safeguard:
            z = dinv * r
            cands.append((1, z, op(z)))
            # one step of the shadow Jacobi-PCG (columns DCDM has finished stay frozen)
            shadow.active = shadow.active & active
            shadow.step()
            cands.append((2, shadow.x - x, r - shadow.r))
        step = torch.zeros_like(x)
        Astep = torch.zeros_like(x)
        accepted: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        for kind, c, Ac in cands:
            cAc0 = _dot(c, Ac)
            for d, Ad, dAd in list(kept) + accepted:  # Gram-Schmidt in the A inner product
                coef = _dot(c, Ad) / dAd
                c = c - coef[:, None] * d
                Ac = Ac - coef[:, None] * Ad
            cAc = _dot(c, Ac)
            ok = active & torch.isfinite(cAc) & (cAc > 1e-12 * cAc0.abs()) & (cAc > 0)
            if not safeguard:  # the paper's fallback: a non-descent direction -> the residual
                cr = _dot(c, r)
                bad = active & ~(ok & (cr > 0))
                if bool(bad.any()):
                    c = torch.where(bad[:, None], r, c)
                    Ac = torch.where(bad[:, None], op(r), Ac)
                    for d, Ad, dAd in kept:
                        coef = torch.where(bad, _dot(c, Ad) / dAd, 0.0)
                        c = c - coef[:, None] * d
                        Ac = Ac - coef[:, None] * Ad
                    cAc = _dot(c, Ac)
                    ok = active & torch.isfinite(cAc) & (cAc > 0)
            safe_cAc = torch.where(ok, cAc, torch.ones_like(cAc))
            c = torch.where(ok[:, None], c, 0.0)
            Ac = torch.where(ok[:, None], Ac, 0.0)
            alpha = torch.where(ok, _dot(c, r) / safe_cAc, 0.0)
            energy[kind] += (alpha * alpha * torch.where(ok, cAc, 0.0)).double().cpu()
            step = step + alpha[:, None] * c
            Astep = Astep + alpha[:, None] * Ac
            accepted.append((c, Ac, safe_cAc))
        x = x + step
        r = r - Astep
        rnorm = r.norm(dim=-1)
        sAs = _dot(step, Astep)
        if k > 0:
            kept.append((step, Astep, torch.where(sAs > 0, sAs, torch.ones_like(sAs))))
        done = active & (rnorm <= tol)
        if safeguard:  # the shadow met the tolerance (confirmed on its true residual)
            won = active & ~done & ~shadow.active & (shadow.rnorm <= tol)
            if bool(won.any()):
                use_shadow = use_shadow | won
                x = torch.where(won[:, None], shadow.x, x)
                r = torch.where(won[:, None], shadow.r, r)
                rnorm = torch.where(won, shadow.rnorm, rnorm)
                done = done | won
        if bool(done.any()):  # confirm on the true residual; replace a drifted one
            r_true = bb - op(x)
            true_norm = r_true.norm(dim=-1)
            r = torch.where(done[:, None], r_true, r)
            rnorm = torch.where(done, true_norm, rnorm)
            done = done & (true_norm <= tol)
        active = active & ~done
        it += 1
        sync(device)
        times.append(time.perf_counter() - t0)
        hist.append(rnorm / safe)
        if callback is not None:
            callback(it, x[0] if squeeze else x, rnorm / safe)
    true_res = (bb - op(x)).norm(dim=-1) / safe
    sync(device)
    total = energy.sum(0).clamp_min(1e-300)
    extra = {
        "energy_share": {
            name: (energy[i] / total)[0].item() if squeeze else energy[i] / total
            for i, name in enumerate(_CANDIDATES)
        },
        "shadow_converged": bool(use_shadow[0]) if squeeze else use_shadow,
    }
    if keep_directions:
        extra["directions"] = torch.stack([d for d, _, _ in kept]) if kept else None
    return pack_result(
        x=x,
        true_residual=true_res,
        tol_ratio=tol / safe,
        squeeze=squeeze,
        iterations=it,
        history=hist,
        times=times,
        setup_time=setup_time,
        method=f"dcdm(k={k}{'' if safeguard else ', unsafeguarded'})",
        extra=extra,
    )


class DCDM:
    """The DCDM method object: ``DCDM(model).solve(system, b)`` (see :func:`sciml.solvers.solve`).

    Args:
        model: a :class:`~sciml.solvers.dcdm.network.DCDMNet`, a model file path, or None for
            the shipped 3-D model (loaded when first needed).
        k: steps kept for A-orthogonalisation (paper: 2).
        safeguard: the never-stall subspace step (see the module docstring).
    """

    name = "dcdm"
    runs_on_host = False
    default_maxiter = 5_000

    def __init__(self, model=None, *, k: int = 2, safeguard: bool = True) -> None:
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        self._model = model
        self.k = int(k)
        self.safeguard = bool(safeguard)

    @property
    def model(self) -> DCDMNet:
        """The network (loaded from file on first use)."""

        if not isinstance(self._model, DCDMNet):
            self._model = load_dcdm(self._model)
        return self._model

    def direction(self, system, device: torch.device | str | None = None) -> LearnedDirection:
        """The network bound to ``system`` on ``device`` (a ``LearnedDirection``)."""

        model = self.model
        if device is not None:
            model = model.to(device)
        return LearnedDirection(model, system)

    def solve(
        self, system, b: torch.Tensor, *, rtol: float = 1e-6, maxiter: int | None = None,
        device=None, callback=None,
    ) -> SolveResult:  # fmt: skip
        """Solve ``system x = b`` (``b: [n]`` or ``[B, n]``) to the true relative residual."""

        dev = solve_device(self, device)
        t0 = time.perf_counter()
        direction = self.direction(system, dev)
        op = as_operator(system.matrix, device=dev, check=False)
        setup = time.perf_counter() - t0
        res = dcdm(op, b.to(dev, torch.float64), direction, rtol=rtol, k=self.k,
                   maxiter=maxiter or self.default_maxiter, safeguard=self.safeguard,
                   check=False, callback=callback)  # fmt: skip
        res.setup_time += setup
        res.method = self.name
        return res
