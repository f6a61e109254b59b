"""The multigrid V-cycle as a symmetric positive definite preconditioner ``z = B r``.

On level ``l`` (finest ``l = 0``) with the smoother weights ``w_l = (w_1..w_k)`` and the
coarse-correction scale ``alpha_l``:

.. code-block:: text

    z  = w_1 D^-1 r;  z += w_j D^-1 (r - A z), j = 2..k      pre-smoothing from zero
    zc = cycle(l + 1, R (r - A z))                           R = P^T: block sums
    z += alpha_l P zc                                        P: piecewise-constant copy
    z += w_j D^-1 (r - A z), j = k..1                        post-smoothing, reversed
    coarsest level: zc = A_c^-1 rc                           dense inverse (Cholesky)

**SPD.** With ``S`` the pre-smoother's error propagation and ``S* `` the post-smoother's (its
A-adjoint: same polynomial in ``D^-1 A``), ``B = [I - S* S] A^-1 + S* P (alpha B_c) P^T S``
(the second term with the transpose on the left); the first term is SPD when the smoother
converges (``|p| < 1``, guaranteed by :mod:`~sciml.solvers.multigrid.smoothers`), the second is
positive semi-definite when ``B_c`` is, and by induction ``B`` is SPD for every
``alpha_l > 0``. So the cycle is a plain PCG preconditioner (not only a flexible one).

**Why** ``alpha``: a piecewise-constant ``P`` with Galerkin coarse operators under-corrects
the smooth error of a cell-centred problem (``A_c = P^T A P`` is about twice the
rediscretised coarse operator), and the loss compounds with the number of levels. Scaling the
correction (``alpha`` in ``(1, 2)``, "over-correction") restores most of it;
:class:`CycleParameters` holds one ``alpha`` per level, and the learned cycle
(:mod:`~sciml.solvers.multigrid.learned`) trains them with the smoothers' weights.

Cost of a cycle with ``k`` sweeps: ``2 k`` stencil applications on each level (the first
pre-smoothing sweep from zero is free, the residual before restriction costs one), i.e.
about ``2 k (1 + 2^-d + 4^-d + ...)`` fine matvecs, plus block sums and copies.

:func:`vcycle` is a pure function of tensors and floats (``torch.compile``-able; no host
sync, so a PCG loop around it can be captured as a CUDA graph); :class:`VCycle` binds it to a
:class:`~sciml.solvers.multigrid.hierarchy.Hierarchy` and applies it to vectors on the
unknowns or to fields.

>>> from sciml.grid import Grid
>>> from sciml.physics.elliptic import assemble_elliptic
>>> from sciml.solvers.krylov.cg import cg
>>> system = assemble_elliptic(Grid((32, 32), centering="cell"))
>>> M = VCycle.from_system(system)
>>> b = torch.ones(system.n, dtype=torch.float64)
>>> cg(system.matrix, b, rtol=1e-8).iterations, cg(system.matrix, b, M=M, rtol=1e-8).iterations
(59, 8)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from sciml.solvers.krylov.stencil import StencilOperator
from sciml.solvers.multigrid.hierarchy import MAX_COARSE, Hierarchy, Level, prolong, restrict
from sciml.solvers.multigrid.smoothers import ChebyshevSmoother, JacobiSmoother, residual, sweep

__all__ = ["CycleParameters", "VCycle", "vcycle"]


@dataclass
class CycleParameters:
    """Per-level weights of a V-cycle: ``weights[l]`` (normalised smoother weights, see
    :mod:`~sciml.solvers.multigrid.smoothers`) and ``alphas[l]`` (coarse-correction scale) for
    the levels that have a coarser one. Levels beyond the lists reuse the last entry, so one
    parameter set serves every grid size.
    """

    weights: list[list[float]] = field(default_factory=lambda: [JacobiSmoother().weights(1)])
    alphas: list[float] = field(default_factory=lambda: [1.0])

    def __post_init__(self) -> None:
        if not self.weights or not self.alphas:
            raise ValueError("weights and alphas need at least one level each")
        k = len(self.weights[0])
        if k < 1 or any(len(w) != k for w in self.weights):
            raise ValueError(
                f"every level needs the same number (>= 1) of sweeps, got {self.weights}"
            )
        if any(not a > 0 for a in self.alphas):
            raise ValueError(
                f"alphas must be > 0 (the cycle is SPD for alpha > 0), got {self.alphas}"
            )

    @property
    def sweeps(self) -> int:
        """Smoothing sweeps per level (before and after the coarse correction)."""
        return len(self.weights[0])

    def level(self, l: int) -> tuple[list[float], float]:
        """``(weights, alpha)`` of level ``l`` (the last entries beyond the lists)."""
        return self.weights[min(l, len(self.weights) - 1)], self.alphas[
            min(l, len(self.alphas) - 1)
        ]

    @classmethod
    def plain(
        cls,
        ndim: int,
        *,
        smoother: JacobiSmoother | ChebyshevSmoother | None = None,
        sweeps: int = 2,
        alpha: float = 2.0,
    ) -> CycleParameters:
        """One smoother and one ``alpha`` on every level. The default is the unlearned cycle of
        ``mg-pcg``, set from textbook values, not tuned: Chebyshev smoothing of degree 2 on the
        high-frequency part of the spectrum of the 7-/5-point Laplacian (``[1/3, 2]`` in 3-D,
        ``[1/2, 2]`` in 2-D of the normalised ``D^-1 A``) and ``alpha = 2``, which turns the
        Galerkin aggregation operator (twice the rediscretised one on a uniform grid) into the
        rediscretised one. ``alpha = 1`` is plain Galerkin (iterations grow with the levels)."""
        if smoother is None:
            smoother = ChebyshevSmoother(lower=1.0 / 6.0 if ndim == 3 else 1.0 / 4.0)
        return cls(weights=[smoother.weights(sweeps)], alphas=[float(alpha)])

    def to_dict(self) -> dict:
        """JSON-like form."""
        return {"weights": [list(map(float, w)) for w in self.weights],
                "alphas": list(map(float, self.alphas))}  # fmt: skip


def vcycle(
    r: torch.Tensor,
    levels: list[Level],
    coarse_inverse: torch.Tensor,
    weights: list[list[float | torch.Tensor]],
    alphas: list[float | torch.Tensor],
) -> torch.Tensor:
    """One V-cycle ``z = B r`` on fields ``r: [B, *S]`` that vanish on solid cells.

    ``weights[l]`` are the *effective* sweep weights of level ``l`` (normalised weight times
    ``2 / bound``), ``alphas[l]`` its coarse-correction scale, for ``l < len(levels) - 1``.
    ``alphas[l]`` may also be a tensor of the coarse level's shape ``s``: it multiplies both the
    restricted residual and the coarse correction (the correction is scaled by ``s^2`` cell by
    cell and the cycle stays symmetric; what the upper-bound experiment of the model card
    optimised).
    Floats run the eager path in place; tensors (training) the pure one. Returns ``z``
    ``[B, *S]`` (zero on solid cells).
    """
    inplace = not (torch.is_grad_enabled() or torch.compiler.is_compiling())
    depth = len(levels)
    rs, zs = [], []
    for l in range(depth - 1):
        lv, w = levels[l], weights[l]
        z = torch.mul(lv.dinv, r).mul_(w[0]) if inplace else (w[0] * lv.dinv) * r
        for wj in w[1:]:
            z = sweep(z, r, lv, wj, inplace=inplace)
        s = residual(z, r, lv, inplace=inplace)
        rs.append(r)
        zs.append(z)
        r = restrict(s, len(lv.shape))
        if isinstance(alphas[l], torch.Tensor) and alphas[l].ndim > 0:  # a field: sqrt on each side
            r = r * alphas[l]
    shape = r.shape
    zc = (r.reshape(shape[0], -1) @ coarse_inverse).reshape(shape)
    for l in reversed(range(depth - 1)):
        lv, w = levels[l], weights[l]
        field = isinstance(alphas[l], torch.Tensor) and alphas[l].ndim > 0
        up = prolong(zc * alphas[l] if field else zc, lv.shape)
        if field:
            z = zs[l] + up
        elif inplace:
            z = zs[l].add_(up, alpha=float(alphas[l]))
        else:
            z = zs[l] + alphas[l] * up
        for wj in reversed(w):
            z = sweep(z, rs[l], lv, wj, inplace=inplace)
        zc = z
    if depth == 1:
        return zc
    return zc * levels[0].active


class VCycle:
    """A V-cycle bound to a hierarchy: the SPD preconditioner ``z = B r``.

    Applies to vectors on the unknowns (``apply(r: [B, n] or [n])``, the
    :class:`~sciml.solvers.krylov.preconditioners.Preconditioner` interface, usable by
    :func:`~sciml.solvers.krylov.cg.cg`) and to fields (``apply_field(r: [B, *S])``, what
    :func:`~sciml.solvers.multigrid.pcg.mg_pcg` iterates on). The cycle runs in its own dtype
    (``dtype``, e.g. float32 inside a float64 PCG: half the memory traffic) and returns the
    residual's dtype.

    Args:
        hierarchy: the levels (:class:`~sciml.solvers.multigrid.hierarchy.Hierarchy`).
        params: :class:`CycleParameters` (default: the plain textbook cycle).
        op: the finest stencil (for ``to_field`` / ``to_vector``).
    """

    name = "mg"
    symmetric = True
    positive_definite = True
    linear = True
    needs_matrix = False
    runs_on_host = False

    def __init__(
        self, hierarchy: Hierarchy, params: CycleParameters | None = None, *, op: StencilOperator
    ) -> None:
        self.hierarchy = hierarchy
        self.params = params if params is not None else CycleParameters.plain(hierarchy.ndim)
        self.op = op
        self.n = op.n
        self.dtype = hierarchy.levels[0].center.dtype
        self.setup_time = 0.0
        self._bind()

    def _bind(self) -> None:
        self.weights, self.alphas = [], []
        for l, lv in enumerate(self.hierarchy.levels[:-1]):
            w, a = self.params.level(l)
            self.weights.append([float(x) * 2.0 / lv.bound for x in w])
            self.alphas.append(float(a))

    @classmethod
    def from_system(
        cls,
        system,
        params: CycleParameters | None = None,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float64,
        max_coarse: int = MAX_COARSE,
    ) -> VCycle:
        """Build the hierarchy of ``system`` (an ``EllipticSystem``, a ``GridSystem`` or a
        :class:`StencilOperator`) on ``device`` in ``dtype`` (the setup is timed)."""
        t0 = time.perf_counter()
        op = stencil_of(system, device=device)
        hierarchy = Hierarchy.from_operator(op, max_coarse=max_coarse)
        if dtype != op.dtype:
            hierarchy = hierarchy.to(dtype=dtype)
        M = cls(hierarchy, params, op=op)
        M.setup_time = time.perf_counter() - t0
        return M

    @property
    def cost(self) -> float:
        """Stencil applications per cycle in fine-matvec units (``2 k`` per level, weighted by
        the level's share of cells)."""
        fine = self.hierarchy.levels[0].cells
        k = self.params.sweeps
        return sum(2 * k * lv.cells / fine for lv in self.hierarchy.levels[:-1])

    def apply_field(self, r: torch.Tensor) -> torch.Tensor:
        """``z = B r`` on fields ``r: [B, *S]`` (zero on solid cells) -> ``[B, *S]``."""
        out_dtype = r.dtype
        levels = self.hierarchy.levels
        z = vcycle(
            r.to(self.dtype), levels, self.hierarchy.coarse_inverse, self.weights, self.alphas
        )
        return z.to(out_dtype)

    @torch.no_grad()
    def apply(self, r: torch.Tensor) -> torch.Tensor:
        """``z = B r`` for ``r: [n]`` or ``[B, n]`` on the unknowns (same shape and dtype)."""
        if not isinstance(r, torch.Tensor) or r.ndim not in (1, 2) or r.shape[-1] != self.n:
            shape = list(r.shape) if isinstance(r, torch.Tensor) else type(r)
            raise ValueError(f"r must be a tensor [B, {self.n}] or [{self.n}], got {shape}")
        squeeze = r.ndim == 1
        rb = r[None] if squeeze else r
        dev = self.op.center.device
        z = self.op.to_vector(self.apply_field(self.op.to_field(rb.to(dev))))
        z = z.to(device=r.device, dtype=r.dtype)
        return z[0] if squeeze else z

    __call__ = apply

    def to_dense(self, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """``B`` as a dense ``[n, n]`` matrix (small sizes, tests)."""
        eye = torch.eye(self.n, dtype=dtype)
        return self.apply(eye).T

    def __repr__(self) -> str:
        return (f"VCycle({self.hierarchy!r}, sweeps={self.params.sweeps}, "
                f"alphas={[round(a, 3) for a in self.alphas]})")  # fmt: skip


def stencil_of(system, *, device: torch.device | str | None = None) -> StencilOperator:
    """The float64 :class:`StencilOperator` of an ``EllipticSystem`` (its own coefficients),
    a ``GridSystem`` (from its matrix and mask) or a ``StencilOperator``.

    Raises:
        TypeError: ``system`` has no grid structure (a bare matrix); use an algebraic multigrid
            (PyAMG, PETSc GAMG) for those.
        ValueError: the matrix is not a 5-/7-point stencil on the mask.
    """
    if isinstance(system, StencilOperator):
        return system.to(device=device, dtype=torch.float64)
    if hasattr(system, "_operators") and hasattr(system, "grid"):
        return StencilOperator.from_system(system, device=device, dtype=torch.float64)
    if hasattr(system, "matrix") and hasattr(system, "active"):
        try:
            return StencilOperator.from_matrix(
                system.matrix, system.active, device=device, dtype=torch.float64
            )
        except ValueError as exc:
            raise ValueError(
                f"A does not match mask: {exc}; geometric multigrid needs the 5-/7-point "
                "stencil of the grid (for other matrices use an algebraic multigrid: PyAMG or "
                "PETSc GAMG)"
            ) from None

    raise TypeError(
        f"geometric multigrid needs a system on a grid (an EllipticSystem, a GridSystem from "
        f"sciml.solvers.grid_system(A, mask=...), or a StencilOperator), got "
        f"{type(system).__name__}; for a matrix without grid structure use an algebraic "
        "multigrid: PyAMG (method 'amg') or PETSc GAMG (methods 'gamg', 'petsc-gamg')"
    )
