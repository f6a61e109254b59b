"""The Gauss-Newton normal equations of GP-HM as a matrix-free Kronecker operator.

With the kernel and the noise precisions fixed, the negative log joint in the grid values
``U`` (``N`` points) is

    L(U) = 1/2 U^T K^{-1} U + tau_b / 2 ||B U - g||^2 + tau_r / 2 ||R(U)||^2

(``tau_b`` includes the boundary weight ``lambda_b``; ``B`` picks the boundary points; ``R``
is the pointwise PDE residual). Linearising ``R`` at the current values ``U_0`` gives the
Jacobian

    J = diag(a) + sum_key diag(c_key) D_key,     a = dR/du,  c_key = dR/dd_key,

where ``D_key = A_1 (x) ... (x) A_D`` is the derivative operator of the GP conditional mean
(``A_d = K_d^(o) K_d^{-1}`` on the axes the key differentiates, identity elsewhere), and the
Gauss-Newton step ``dU`` solves

    H dU = -grad L(U_0),    H = K^{-1} + tau_b B^T B + tau_r J^T J.

:class:`GaussNewtonSystem` applies ``H`` with mode-wise products of the per-axis ``n_d x n_d``
matrices only (``K_d^{-1}``, ``A_d`` and their transposes): ``O(N sum_d n_d)`` work and
``O(N + sum_d n_d^2)`` memory per product, never an ``[N, N]`` matrix. Vectors are
row-batched ``[B, N]`` as in :mod:`sciml.solvers.krylov`, so the same code runs batched on a
GPU (no host synchronisation inside a product).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from sciml.solvers.gp.kronecker import KroneckerFactors, mode_apply

if TYPE_CHECKING:
    from sciml.solvers.gp.model import KroneckerGPSolver

__all__ = ["GaussNewtonSystem", "derivative_factors", "linearize"]


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


def linearize(
    model: KroneckerGPSolver, u0: torch.Tensor, derivs: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor | None, dict[str, torch.Tensor | None]]:
    """The residual and its pointwise partial derivatives at the values ``u0``.

    Args:
        model: the model (its PDE's ``residual_from`` and points are used).
        u0: values ``[N]``; derivs: ``{key: [N]}`` derivatives of the conditional mean.

    Returns:
        ``(r, a, c)``: ``r: [N]`` the residual, ``a = dR/du: [N]`` and
        ``c = {key: dR/dd_key: [N]}`` (``None`` where the residual does not depend on it),
        from one autograd pass through ``pde.residual_from`` (the residual is pointwise).
    """
    with torch.enable_grad():
        u = u0.detach().clone().requires_grad_(True)
        d = {k: v.detach().clone().requires_grad_(True) for k, v in derivs.items()}
        r = model.pde.residual_from(u, d, model.points).reshape(-1)
        grads = torch.autograd.grad(r.sum(), [u, *d.values()], allow_unused=True)
    return r.detach(), grads[0], dict(zip(d, grads[1:]))


class GaussNewtonSystem:
    """``H = K^{-1} + tau_b B^T B + tau_r J^T J`` and ``-grad L`` at the model's current values.

    Args:
        model: a :class:`~sciml.solvers.gp.model.KroneckerGPSolver` (kernel, precisions and
            values are read once, at construction).
        fac, ops: the model's ``factors_and_derivatives()`` if already computed.

    Attributes:
        shape: grid shape; n: ``N``; u0: current values ``[*shape]``; r: residual ``[*shape]``;
        a: ``dR/du`` ``[*shape]`` or ``None``; terms: ``[(c_key [*shape], [A_d or None])]``;
        tau_b (``lambda_b tau_b``), tau_r: 0-d tensors; mask: boundary indicator ``[*shape]``
        (0/1 values); g: boundary data scattered on the grid ``[*shape]``; factors: the
        :class:`~sciml.solvers.gp.kronecker.KroneckerFactors`.
    """

    def __init__(
        self,
        model: KroneckerGPSolver,
        fac: KroneckerFactors | None = None,
        ops: dict[tuple[int, int], torch.Tensor] | None = None,
    ) -> None:
        with torch.no_grad():
            if fac is None or ops is None:
                fac, ops = model.factors_and_derivatives()
            self.factors = fac
            self.model = model
            self.shape = tuple(model.grid.shape)
            self.n = model.grid.size
            factors = derivative_factors(model, fac, ops)
            u0 = model.values(fac).detach()
            self.u0 = u0
            derivs = {k: mode_apply(a, u0).reshape(-1) for k, a in factors.items()}
            r, a, c = linearize(model, u0.reshape(-1), derivs)
            self.r = r.reshape(self.shape)
            self.a = None if a is None else a.reshape(self.shape)
            self.terms = [
                (c[k].reshape(self.shape), factors[k]) for k in factors if c[k] is not None
            ]
            self.kinv = fac.inverses()
            self.tau_b = model.boundary_weight * model.log_tau_b.detach().exp()
            self.tau_r = model.log_tau_r.detach().exp()
            self.mask = model.mask.to(u0.dtype)
            g = torch.zeros(self.n, dtype=u0.dtype, device=u0.device)
            g[model.mask.flatten()] = model.g
            self.g = g.reshape(self.shape)

    # ---------------------------------------------------------------- pieces
    def _grid(self, v: torch.Tensor) -> torch.Tensor:
        if v.shape[-1] != self.n:
            raise ValueError(f"vectors must end in N = {self.n}, got {list(v.shape)}")
        return v.reshape(*v.shape[:-1], *self.shape)

    def jacobian(self, v: torch.Tensor) -> torch.Tensor:
        """``J v`` for grid fields ``v: [B, *shape]`` -> ``[B, *shape]``."""
        out = self.a * v if self.a is not None else torch.zeros_like(v)
        for c, mats in self.terms:
            out = out + c * mode_apply(mats, v)
        return out

    def jacobian_t(self, w: torch.Tensor) -> torch.Tensor:
        """``J^T w`` for ``w: [B, *shape]`` -> ``[B, *shape]``."""
        out = self.a * w if self.a is not None else torch.zeros_like(w)
        for c, mats in self.terms:
            out = out + mode_apply([None if m is None else m.T for m in mats], c * w)
        return out

    def prior_solve(self, v: torch.Tensor) -> torch.Tensor:
        """``K^{-1} v`` for ``v: [B, *shape]`` (mode-wise products with ``K_d^{-1}``)."""
        return mode_apply(self.kinv, v)

    # ------------------------------------------------------------ the system
    def matvec(self, v: torch.Tensor) -> torch.Tensor:
        """``H v`` for ``v: [B, N]`` (or ``[N]``) -> same shape."""
        x = self._grid(v)
        y = self.prior_solve(x) + self.tau_b * self.mask * x
        y = y + self.tau_r * self.jacobian_t(self.jacobian(x))
        return y.reshape(v.shape)

    __call__ = matvec

    def gradient(self) -> torch.Tensor:
        """``grad L(U_0)`` ``[N]``."""
        u = self.u0
        grad = self.prior_solve(u) + self.tau_b * self.mask * (u - self.g)
        grad = grad + self.tau_r * self.jacobian_t(self.r)
        return grad.reshape(-1)

    def rhs(self) -> torch.Tensor:
        """``-grad L(U_0)`` ``[N]``: the right-hand side of the step."""
        return -self.gradient()

    def to_dense(self) -> torch.Tensor:
        """``H`` as a dense ``[N, N]`` tensor (small grids; for tests)."""
        eye = torch.eye(self.n, dtype=self.u0.dtype, device=self.u0.device)
        return self.matvec(eye).T
