"""The training signal of the learned cycle: the measured PCG convergence factor, differentiable.

:func:`pcg_log_factor` runs ``steps`` iterations of PCG with the V-cycle from a known error
``e0`` (right-hand side ``A e0``, start 0) and returns, per column, the log of the A-norm error
reduction per iteration,

    log rho = log( ||e_m||_A / ||e_0||_A ) / m,

which is what PCG's iteration count to a tolerance is governed by (``iterations ~ log(tol) /
log rho``). It is invariant to the scale of the cycle (PCG is), differentiable with respect to
the cycle's weights (autograd through the cycle and the CG recurrences), and needs no
solution. :func:`leftover_errors` makes the errors to measure it on: random errors after a
few steepest-descent steps with the current cycle, i.e. "what the cycle leaves".
"""

from __future__ import annotations

import torch

from sciml.solvers.krylov.stencil import stencil_apply
from sciml.solvers.multigrid.cycle import vcycle
from sciml.solvers.multigrid.hierarchy import Hierarchy

__all__ = ["pcg_log_factor", "leftover_errors", "effective_weights"]


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).flatten(1).sum(1)


def effective_weights(
    hierarchy: Hierarchy, weights: list[list[torch.Tensor | float]]
) -> list[list[torch.Tensor | float]]:
    """Normalised per-level weights times each level's ``2 / bound``."""
    return [[w * (2.0 / lv.bound) for w in ws] for ws, lv in zip(weights, hierarchy.levels[:-1])]


def pcg_log_factor(
    hierarchy: Hierarchy,
    weights: list[list[torch.Tensor | float]],
    alphas: list[torch.Tensor | float],
    e0: torch.Tensor,
    steps: int,
) -> torch.Tensor:
    """``[B]`` log A-norm error reduction per PCG iteration over ``steps`` iterations.

    Args:
        hierarchy: the levels (``levels[0]`` is ``A``).
        weights, alphas: normalised per-level weights and scales (finest first), e.g. from
            :meth:`~sciml.solvers.multigrid.learned.LearnedCycle.level_tensors`.
        e0: ``[B, *S]`` errors (zero on solid cells).
        steps: PCG iterations (>= 1).
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    lv = hierarchy.levels[0]
    eff = effective_weights(hierarchy, weights)

    def A(v: torch.Tensor) -> torch.Tensor:
        return stencil_apply(v, lv.center, lv.faces, lv.periodic)

    def B(v: torch.Tensor) -> torch.Tensor:
        return vcycle(v, hierarchy.levels, hierarchy.coarse_inverse, eff, alphas)

    view = (-1,) + (1,) * (e0.ndim - 1)
    r = A(e0)
    energy0 = _dot(e0, r)
    x = torch.zeros_like(e0)
    z = B(r)
    p = z
    rz = _dot(r, z)
    for k in range(steps):
        ap = A(p)
        alpha = rz / _dot(p, ap)
        x = x + alpha.view(view) * p
        r = r - alpha.view(view) * ap
        if k + 1 < steps:
            z = B(r)
            rz_new = _dot(r, z)
            p = z + (rz_new / rz).view(view) * p
            rz = rz_new
    e = e0 - x
    ratio = _dot(e, A(e)) / energy0
    return 0.5 * torch.log(ratio.clamp_min(1e-300)) / steps


@torch.no_grad()
def leftover_errors(
    hierarchy: Hierarchy,
    weights: list[list[torch.Tensor | float]],
    alphas: list[torch.Tensor | float],
    e0: torch.Tensor,
    steps: int,
) -> torch.Tensor:
    """``e0`` after ``steps`` preconditioned steepest-descent steps ``e -= s B A e`` (``s`` the
    exact line search), normalised to ``||e||_A = 1`` per column."""
    lv = hierarchy.levels[0]
    eff = [[float(w) for w in ws] for ws in effective_weights(hierarchy, weights)]
    al = [float(a) for a in alphas]
    view = (-1,) + (1,) * (e0.ndim - 1)
    e = e0.clone()
    for _ in range(steps):
        r = stencil_apply(e, lv.center, lv.faces, lv.periodic)
        z = vcycle(r, hierarchy.levels, hierarchy.coarse_inverse, eff, al)
        az = stencil_apply(z, lv.center, lv.faces, lv.periodic)
        s = _dot(r, z) / _dot(z, az).clamp_min(1e-300)
        e = e - s.view(view) * z
    energy = _dot(e, stencil_apply(e, lv.center, lv.faces, lv.periodic))
    return e / energy.clamp_min(1e-300).sqrt().view(view)
