"""The deep conjugate direction method (DCDM; Kaneda et al., ICML 2023).

Each iteration asks a network (:class:`~sciml.solvers.dcdm_net.DCDMNet`) for a search
direction from the current (normalised) residual, A-orthogonalises it against the last ``k``
directions (the paper uses ``k = 2``), takes the exact line-search step along it and
recomputes the true residual ``r = b - A x``:

.. code-block:: text

    q   = f(r / rms(r))                          network
    q  -= sum_j (q.A d_j / d_j.A d_j) d_j         j over the last k directions
    x  += (q.r / q.Aq) q
    r   = b - A x

Because the network is nonlinear this is not a Krylov method; with ``k`` equal to the number
of iterations it would be a conjugate direction method. :class:`LearnedDirection` wraps the
network as a (nonlinear) preconditioner ``r -> q`` usable in flexible PCG
(:func:`sciml.solvers.krylov.cg.cg`), the second use compared in the benchmark.

The shipped 3-D model (``solvers/models/dcdm3d.pt``) is loaded by :func:`load_model`.
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

import torch

from sciml.solvers.dcdm_net import DCDMNet, geometry_features
from sciml.solvers.krylov.cg import SolveResult, _sync
from sciml.solvers.krylov.operator import as_operator, check_rhs

__all__ = ["DCDM", "LearnedDirection", "dcdm", "load_model", "DEFAULT_MODEL", "infer_walls"]

DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "dcdm3d.pt"


def load_model(path: str | Path | None = None, *, map_location="cpu") -> DCDMNet:
    """Load a :class:`DCDMNet` checkpoint (default: the shipped 3-D model), in eval mode."""
    path = Path(path) if path is not None else DEFAULT_MODEL
    if not path.is_file():
        raise FileNotFoundError(
            f"model file {path} not found; train one with `python -m sciml.solvers.dcdm_train`"
        )
    from torch.torch_version import TorchVersion

    with torch.serialization.safe_globals([TorchVersion]):  # version strings in the metadata
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    net = DCDMNet(**ckpt["config"])
    net.load_state_dict(ckpt["state_dict"])
    net.to(map_location)  # load_state_dict copies into the (CPU) parameters
    net.eval()
    net.meta = ckpt.get("meta", {})
    return net


def infer_walls(system) -> dict[str, str]:
    """Which box sides of an assembled system are Dirichlet (from its wall diagonal).

    A side counts as Dirichlet when any fluid cell in the interior of that face carries a
    wall contribution (edge cells are skipped: they also touch the neighbouring sides).
    """
    diag = torch.as_tensor(system.wall_diagonal)
    ndim = diag.ndim
    walls = {}
    for axis in range(ndim):
        for side, pos in (("-", 0), ("+", diag.shape[axis] - 1)):
            slab = diag.select(axis, pos)  # face interior: edges also touch other sides
            slab = slab[(slice(1, -1),) * slab.ndim] if min(slab.shape) > 2 else slab
            walls["xyz"[axis] + side] = "dirichlet" if bool((slab > 0).any()) else "neumann"
    return walls


class LearnedDirection:
    """The network as a map ``r: [B, n] -> q: [B, n]`` on the unknowns of an elliptic system.

    The residual is scattered to the grid (``system.to_field``), scaled to unit RMS over the
    fluid cells, passed through the network in the model's dtype, and gathered back; the output
    is rescaled by the same factor (the network is only asked for a direction).

    Args:
        model: a :class:`DCDMNet` (ndim matching the system's grid).
        system: an :class:`~sciml.physics.elliptic.EllipticSystem` (``to_field``, ``to_vector``,
            ``active``, ``wall_diagonal``).
        coefficient: the cell coefficient ``a [*shape]`` used in the assembly (None = 1).
        walls: side -> kind; inferred from the system when None.
    """

    name = "dcdm-net"
    symmetric = False
    positive_definite = False
    linear = False
    needs_matrix = False

    def __init__(self, model: DCDMNet, system, *, coefficient=None, walls=None) -> None:
        if model.ndim != system.grid.ndim:
            raise ValueError(
                f"model is {model.ndim}-D but the system's grid is {system.grid.ndim}-D"
            )
        t0 = time.perf_counter()
        self.model = model
        self.system = system
        self.n = system.n
        self.walls = walls if walls is not None else infer_walls(system)
        self.geometry = geometry_features(system.active, self.walls, coefficient)
        self._geo_cache: dict = {}
        self.setup_time = time.perf_counter() - t0

    def _geometry(self, device, dtype) -> torch.Tensor:
        key = (str(device), dtype)
        if key not in self._geo_cache:
            self._geo_cache[key] = self.geometry.to(device=device, dtype=dtype)
        return self._geo_cache[key]

    @torch.no_grad()
    def apply(self, r: torch.Tensor) -> torch.Tensor:
        """``r: [B, n]`` (or ``[n]``) -> direction of the same shape, dtype and device."""
        squeeze = r.ndim == 1
        rb = r[None] if squeeze else r
        p = next(self.model.parameters())
        field = self.system.to_field(rb)
        scale = (rb.square().mean(-1).sqrt()).clamp_min(torch.finfo(rb.dtype).tiny)
        shape = (-1,) + (1,) * (field.ndim - 1)
        inp = (field / scale.reshape(shape)).to(p.dtype)
        q = self.model(inp, self._geometry(p.device, p.dtype).to(inp.device))
        q = self.system.to_vector(q.to(rb.dtype)) * scale[:, None]
        return q[0] if squeeze else q

    __call__ = apply


def dcdm(
    A,
    b: torch.Tensor,
    direction,
    *,
    x0: torch.Tensor | None = None,
    rtol: float = 1e-6,
    atol: float = 0.0,
    maxiter: int = 200,
    k: int = 2,
    check: bool = True,
    keep_directions: bool = False,
    callback=None,
) -> SolveResult:
    """Solve ``A x = b`` by the deep conjugate direction method.

    Args:
        A: the SPD operator (anything :func:`~sciml.solvers.krylov.operator.as_operator` takes; an
            :class:`~sciml.physics.elliptic.EllipticSystem` uses its matrix-free matvec).
        b: right-hand side ``[n]`` or ``[B, n]``.
        direction: ``r: [B, n] -> q: [B, n]`` (a :class:`LearnedDirection`, or any callable).
        x0: initial guess (default zeros).
        rtol, atol: stop when the true residual ``||b - Ax|| <= max(rtol ||b||, atol)``.
        maxiter: iteration cap.
        k: number of previous directions to A-orthogonalise against (paper: 2).
        keep_directions: store the kept directions ``[k, B, n]`` in ``result.extra``.
        callback: ``callback(it, x, rel_residual)`` after each iteration.

    Returns:
        :class:`~sciml.solvers.krylov.cg.SolveResult` whose ``residuals`` are true relative residuals.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    t_setup = time.perf_counter()
    op = as_operator(A, check=check)
    bb, squeeze = check_rhs(b, op.n, "b")
    device, dtype = bb.device, bb.dtype
    if op.matrix is not None and (op.device != device or op.dtype != dtype):
        op = op.to(device, dtype)
    x = torch.zeros_like(bb) if x0 is None else check_rhs(x0, op.n, "x0")[0].to(bb).clone()
    bnorm = bb.norm(dim=-1)
    safe = torch.where(bnorm > 0, bnorm, torch.ones_like(bnorm))
    tol = torch.maximum(rtol * bnorm, torch.full_like(bnorm, atol))
    r = bb - op(x) if x0 is not None else bb.clone()
    rnorm = r.norm(dim=-1)
    active = rnorm > tol
    kept: deque = deque(maxlen=max(k, 1))
    _sync(device)
    setup_time = time.perf_counter() - t_setup
    t0 = time.perf_counter()
    hist, times = [(rnorm / safe).cpu()], [0.0]
    it = 0
    while bool(active.any()) and it < maxiter:
        q = direction(r)
        if q.shape != r.shape:
            raise ValueError(f"direction returned shape {list(q.shape)}, expected {list(r.shape)}")
        q = q.to(dtype)
        if k > 0:
            for d, Ad, dAd in kept:  # modified Gram-Schmidt in the A inner product
                q = q - ((q * Ad).sum(-1) / dAd)[:, None] * d
        Aq = op(q)
        qAq = (q * Aq).sum(-1)
        qr = (q * r).sum(-1)
        # safeguard: a useless direction (q.r <= 0 or q.Aq <= 0) falls back to the residual
        bad = active & ((qAq <= 0) | (qr <= 0) | ~torch.isfinite(qAq))
        if bool(bad.any()):
            q = torch.where(bad[:, None], r, q)
            if k > 0:
                for d, Ad, dAd in kept:
                    c = torch.where(bad, (q * Ad).sum(-1) / dAd, 0.0)
                    q = q - c[:, None] * d
            Aq = op(q)
            qAq = (q * Aq).sum(-1)
            qr = (q * r).sum(-1)
        safe_qAq = torch.where(active & (qAq > 0), qAq, torch.ones_like(qAq))
        alpha = torch.where(active, qr / safe_qAq, 0.0)
        x = x + alpha[:, None] * q
        r = bb - op(x)
        rnorm = r.norm(dim=-1)
        if k > 0:
            kept.append((q, Aq, safe_qAq))
        active = active & (rnorm > tol)
        it += 1
        _sync(device)
        times.append(time.perf_counter() - t0)
        hist.append((rnorm / safe).cpu())
        if callback is not None:
            callback(it, x[0] if squeeze else x, rnorm / safe)
    res = rnorm / safe
    converged = rnorm <= tol * (1 + 1e-12)
    extra = {}
    if keep_directions:
        extra["directions"] = torch.stack([d for d, _, _ in kept]) if kept else None
    return SolveResult(
        x=x[0] if squeeze else x,
        converged=bool(converged[0]) if squeeze else converged,
        iterations=it,
        residual=float(res[0]) if squeeze else res,
        residuals=torch.stack(hist),
        times=torch.tensor(times, dtype=torch.float64),
        setup_time=setup_time,
        method=f"dcdm(k={k})",
        extra=extra,
    )


class DCDM:
    """The solver object: a model bound to a system, ``DCDM(model, system).solve(b)``.

    Args:
        model: a :class:`DCDMNet` (default: the shipped 3-D model).
        system: the assembled elliptic system the directions live on.
        coefficient: the cell coefficient used in the assembly (None = 1).
        k: directions kept for A-orthogonalisation (paper: 2).
    """

    def __init__(self, model: DCDMNet | None, system, *, coefficient=None, k: int = 2) -> None:
        t0 = time.perf_counter()
        self.model = model if model is not None else load_model()
        self.system = system
        self.direction = LearnedDirection(self.model, system, coefficient=coefficient)
        self.k = k
        self.setup_time = time.perf_counter() - t0

    def solve(self, b: torch.Tensor, **kwargs) -> SolveResult:
        """``b: [n]`` or ``[B, n]``; keyword arguments as in :func:`dcdm`."""
        kwargs.setdefault("k", self.k)
        res = dcdm(self.system, b, self.direction, **kwargs)
        res.setup_time += self.setup_time
        return res
