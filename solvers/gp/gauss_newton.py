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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from sciml.solvers.gp.adam import adam_phase
from sciml.solvers.gp.strategy import FitStrategy

if TYPE_CHECKING:
    from sciml.grid import Grid
    from sciml.solvers.gp.kronecker import KroneckerFactors
    from sciml.solvers.gp.model import KroneckerGPSolver
    from sciml.solvers.gp.monitor import Monitor

__all__ = ["GaussNewton", "dense_gauss_newton_step", "derivative_factors"]


def derivative_factors(
    model: KroneckerGPSolver,
    fac: KroneckerFactors,
    ops: dict[tuple[int, int], torch.Tensor],
) -> dict[str, list[torch.Tensor | None]]:
    """Per-axis factors of each derivative operator ACTING ON THE VALUES ``U``.

    ``{key: [A_1, ..., A_D]}`` with ``D_key = A_1 (x) ... (x) A_D``, ``A_d = K_d^(o) K_d^{-1}``
    (``[n_d, n_d]``) on the axes the key differentiates and ``None`` (identity) elsewhere.
    ``ops`` are the model's ``factors_and_derivatives()``: in the whitened parametrisation
    they act on ``z`` (``K_d^(o) L_d^{-T}``) and are turned into operators on ``U`` here.
    """
    out = {}
    for key, orders in model.orders.items():
        mats: list[torch.Tensor | None] = []
        for ax, o in enumerate(orders):
            if not o:
                mats.append(None)
            elif model.whitened:  # K^(o) L^{-T} -> K^(o) K^{-1} = (.) L^{-1}
                mats.append(
                    torch.linalg.solve_triangular(
                        fac.chols[ax], ops[(ax, o)], upper=False, left=False
                    )
                )
            else:
                mats.append(ops[(ax, o)])
        out[key] = mats
    return out


def _dense_kron(mats: Sequence[torch.Tensor | None], shape: Sequence[int], like) -> torch.Tensor:
    """Dense ``A_1 (x) ... (x) A_D`` ``[N, N]`` (``None`` = identity); small grids only."""
    out = None
    for n, a in zip(shape, mats):
        if a is None:
            a = torch.eye(n, dtype=like.dtype, device=like.device)
        out = a if out is None else torch.kron(out, a)
    return out


def _linearize(model: KroneckerGPSolver, u0: torch.Tensor, derivs: dict[str, torch.Tensor]):
    """Residual ``r: [N]`` and its pointwise partials at ``u0``: ``dR/du: [N]`` (or None) and
    ``{key: dR/dd_key: [N] or None}`` (one autograd pass through ``pde.residual_from``)."""
    with torch.enable_grad():
        u = u0.clone().requires_grad_(True)
        d = {k: v.clone().requires_grad_(True) for k, v in derivs.items()}
        r = model.pde.residual_from(u, d, model.points).reshape(-1)
        grads = torch.autograd.grad(r.sum(), [u, *d.values()], allow_unused=True)
    return r.detach(), grads[0], dict(zip(d, grads[1:]))


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
    r, du, dd = _linearize(model, u0, {k: m @ u0 for k, m in dense.items()})
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


@dataclass
class GaussNewton(FitStrategy):
    """``newton_steps`` Gauss-Newton solves for the values, with ``adam_steps`` Adam steps on
    the kernel hyperparameters spread evenly between them (a fresh Adam each time).

    The precisions are held fixed (``learn_noise = False``) at ``default_noise_level = 1e-7``
    relative to the data (the best of 1e-5, 1e-7, 1e-9 measured on the 1-D problems).
    ``dense_limit``: largest grid the dense step accepts.
    """

    newton_steps: int = 3
    adam_steps: int = 200
    lr: float = 1e-2
    dense_limit: int = 6000

    name: ClassVar[str] = "gauss-newton"
    learn_noise: ClassVar[bool] = False
    default_noise_level: ClassVar[float | None] = 1e-7

    def __post_init__(self) -> None:
        if self.adam_steps < 0 or self.newton_steps < 0:
            raise ValueError("adam_steps and newton_steps must be >= 0")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")

    def check(self, grid: Grid) -> None:
        if grid.size > self.dense_limit:
            raise ValueError(
                f"method='gauss-newton' solves densely: grid has {grid.size} points > "
                f"dense_limit={self.dense_limit}; use method='adam+lbfgs' or a coarser grid"
            )

    @property
    def total_steps(self) -> int:
        return self.adam_steps + self.newton_steps

    def step(self, model: KroneckerGPSolver) -> dict[str, Any]:
        """One Gauss-Newton step (in place); returns what it reports."""
        return {"relative_change": dense_gauss_newton_step(model, dense_limit=self.dense_limit)}

    def fit(self, model: KroneckerGPSolver, monitor: Monitor) -> dict[str, Any]:
        hyper = model.hyperparameters()
        n_chunks = max(self.newton_steps - 1, 0)
        chunks = [self.adam_steps // max(self.newton_steps - 1, 1)] * n_chunks
        reports = []

        def newton() -> None:
            reports.append(self.step(model))
            monitor.step(float(model.loss()[0].detach()))
            monitor.record()

        if self.newton_steps:
            newton()
        for chunk in chunks:
            adam_phase(model, hyper, chunk, self.lr, monitor)
            newton()
        return {"newton": reports}
