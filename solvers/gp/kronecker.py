"""Kronecker algebra for product kernels on a tensor-product grid.

On a grid with axes of sizes ``n_1, ..., n_D`` and a product kernel
``k(x, x') = prod_d k_d(x_d, x'_d)``, the covariance of the values is
``K = K_1 (x) ... (x) K_D`` (``(x)`` = Kronecker product, C order: last axis fastest, matching
``Grid.points()``). It is never formed. With per-axis Cholesky factors ``K_d = L_d L_d^T``:

* ``K^{-1} u``, ``u^T K^{-1} u`` (= ``||L^{-1} u||^2``) and ``L^{-1} u`` are mode-wise
  triangular solves;
* ``log det K = sum_d (N / n_d) log det K_d`` with ``N = prod n_d``;
* the conditional mean's derivatives at the grid points, e.g. ``d^2 m / dx_1^2``, are
  ``(K_1'' K_1^{-1}) (x) I (x) ... (x) I`` applied to ``vec(U)`` -- one ``n_1 x n_1`` matrix
  applied along axis 1 (a *mode-wise product*).

Memory is ``O(sum n_d^2 + prod n_d)``; one evaluation costs ``O(sum n_d^3 + (sum n_d) prod n_d)``.

Where we use linear_operator and where we go beyond it
------------------------------------------------------
:meth:`KroneckerFactors.operator` returns ``linear_operator``'s
``KroneckerProductLinearOperator``; the covariance matvec :meth:`KroneckerFactors.matmul`
and the dense form used by the tests go through it. The solve, the quadratic form and the
log-determinant are written here on per-axis Cholesky factors because linear_operator's
versions do not fit this solver: its Kronecker ``_logdet`` goes through a symmetric
eigendecomposition and clamps eigenvalues at 1e-7 -- spectral-mixture kernels on fine grids
have most eigenvalues far below that, so the log-det would be biased, and ``eigh``'s backward
pass is unstable when eigenvalues nearly coincide (they do, for near-low-rank kernels); its
``inv_quad`` takes the generic (CG / Lanczos) path above ``max_cholesky_size``. Mode-wise
derivative operators ``K_d^(k) K_d^{-1}`` have no counterpart there at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from linear_operator.operators import DenseLinearOperator, KroneckerProductLinearOperator

__all__ = ["mode_apply", "KroneckerFactors"]


def mode_apply(mats: Sequence[torch.Tensor | None], u: torch.Tensor) -> torch.Tensor:
    """Apply ``mats[d]: [m_d, n_d]`` along axis ``d`` of ``u: [*batch, n_1, ..., n_D]``.

    ``None`` leaves an axis alone. Equals ``(A_1 (x) ... (x) A_D) vec(u)`` in C order.
    Returns ``[*batch, m_1, ..., m_D]``. Each axis is one (batched) matrix product on a view
    ``[P, n_d, R]`` of ``u`` (no transposed copies), so it runs as GEMMs on CPU and GPU.
    """
    ndim = len(mats)
    if u.ndim < ndim:
        raise ValueError(f"u must have at least {ndim} axes, got shape {list(u.shape)}")
    for d, a in enumerate(mats):
        if a is None:
            continue
        axis = u.ndim - ndim + d
        n = u.shape[axis]
        if a.shape[-1] != n:
            raise ValueError(
                f"mats[{d}] has {a.shape[-1]} columns but axis {d} of u has {n} points"
            )
        lead, trail = u.shape[:axis], u.shape[axis + 1 :]
        if not trail:  # last axis: [..., n] @ [n, m]
            u = u @ a.transpose(0, 1)
        else:
            rest = math.prod(trail)
            u = torch.matmul(a, u.reshape(-1, n, rest)).reshape(*lead, a.shape[0], *trail)
    return u


def _mode_fn(u: torch.Tensor, axis: int, fn) -> torch.Tensor:
    """Apply ``fn: [n, M] -> [n, M]`` along ``axis`` of ``u``."""
    x = torch.movedim(u, axis, 0)
    shape = x.shape
    y = fn(x.reshape(shape[0], -1))
    return torch.movedim(y.reshape(shape), 0, axis)


class KroneckerFactors:
    """Per-axis covariance factors ``K_d: [n_d, n_d]`` with their Cholesky factors.

    Args:
        mats: the SPD factors ``K_1, ..., K_D``.
        jitter: added to each diagonal, relative to its mean diagonal, before factorising
            (the factors in :attr:`mats` keep the jitter, so everything here describes
            the same matrix ``K``).
    """

    def __init__(self, mats: Sequence[torch.Tensor], *, jitter: float = 0.0) -> None:
        if len(mats) == 0:
            raise ValueError("mats must hold at least one factor")
        out, chols = [], []
        for d, k in enumerate(mats):
            if k.ndim != 2 or k.shape[0] != k.shape[1]:
                raise ValueError(f"mats[{d}] must be square [n, n], got {list(k.shape)}")
            if jitter > 0:
                scale = k.diagonal().mean().detach()
                k = k + (jitter * scale) * torch.eye(k.shape[0], dtype=k.dtype, device=k.device)
            out.append(k)
            chol, info = torch.linalg.cholesky_ex(k)
            if int(info) != 0:
                raise torch.linalg.LinAlgError(
                    f"factor {d} ({k.shape[0]}x{k.shape[0]}) is not positive definite at "
                    f"jitter {jitter:g}; increase the jitter"
                )
            chols.append(chol)
        self.mats = out
        self.chols = chols
        self._inverses: list[torch.Tensor] | None = None
        self._eigh: tuple[list[torch.Tensor], list[torch.Tensor]] | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape ``(n_1, ..., n_D)``."""
        return tuple(k.shape[0] for k in self.mats)

    @property
    def numel(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    def operator(self) -> KroneckerProductLinearOperator:
        """``K`` as linear_operator's ``KroneckerProductLinearOperator`` ``[N, N]``."""
        return KroneckerProductLinearOperator(*[DenseLinearOperator(k) for k in self.mats])

    def matmul(self, u: torch.Tensor) -> torch.Tensor:
        """``K vec(u)`` for ``u: [*shape]`` -> ``[*shape]`` (through linear_operator)."""
        return (self.operator() @ u.reshape(-1, 1)).reshape(u.shape)

    def solve(self, u: torch.Tensor) -> torch.Tensor:
        """``K^{-1} vec(u)`` for ``u: [*batch, *shape]`` -> same shape."""
        nd = len(self.shape)
        for d, chol in enumerate(self.chols):
            u = _mode_fn(u, u.ndim - nd + d, lambda x, c=chol: torch.cholesky_solve(x, c))
        return u

    def half_solve(self, u: torch.Tensor) -> torch.Tensor:
        """``L^{-1} vec(u)`` with ``L = L_1 (x) ... (x) L_D`` (whitening), same shape as ``u``."""
        nd = len(self.shape)
        for d, chol in enumerate(self.chols):
            u = _mode_fn(
                u,
                u.ndim - nd + d,
                lambda x, c=chol: torch.linalg.solve_triangular(c, x, upper=False),
            )
        return u

    def half_matmul(self, z: torch.Tensor) -> torch.Tensor:
        """``L vec(z)`` (colouring: ``z ~ N(0, I)`` gives ``L z ~ N(0, K)``), same shape."""
        return mode_apply(self.chols, z)

    def inv_quad(self, u: torch.Tensor) -> torch.Tensor:
        """``vec(u)^T K^{-1} vec(u)`` for ``u: [*shape]`` (a scalar)."""
        return self.half_solve(u).pow(2).sum()

    def logdet(self) -> torch.Tensor:
        """``log det K = sum_d (N / n_d) log det K_d`` (a scalar)."""
        n = self.numel
        return sum((n // c.shape[0]) * 2 * c.diagonal().log().sum() for c in self.chols)

    def inverses(self) -> list[torch.Tensor]:
        """``[K_1^{-1}, ..., K_D^{-1}]`` from the Cholesky factors (computed once).

        ``K^{-1} = (x)_d K_d^{-1}``: with these a solve is a mode-wise matrix product
        (:func:`mode_apply`), which runs as GEMMs -- the matrix-free Gauss-Newton operator
        uses it at every CG iteration.
        """
        if self._inverses is None:
            self._inverses = [torch.cholesky_inverse(c) for c in self.chols]
        return self._inverses

    def eigh(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Per-axis eigendecompositions ``K_d = Q_d diag(lambda_d) Q_d^T`` (computed once).

        Returns ``([lambda_1, ...], [Q_1, ...])`` with ``lambda_d: [n_d]`` ascending and
        ``Q_d: [n_d, n_d]`` orthogonal; ``K = (x)_d Q_d diag((x)_d lambda_d) (x)_d Q_d^T``.
        """
        if self._eigh is None:
            pairs = [torch.linalg.eigh(k) for k in self.mats]
            self._eigh = ([p[0] for p in pairs], [p[1] for p in pairs])
        return self._eigh

    def right_solve(self, d: int, a: torch.Tensor) -> torch.Tensor:
        """``A K_d^{-1}`` for ``a: [m, n_d]`` (uses ``K_d`` symmetric) -> ``[m, n_d]``."""
        return torch.cholesky_solve(a.transpose(0, 1), self.chols[d]).transpose(0, 1)

    def right_half_solve(self, d: int, a: torch.Tensor) -> torch.Tensor:
        """``A L_d^{-T}`` for ``a: [m, n_d]`` -> ``[m, n_d]`` (derivatives of whitened values)."""
        return torch.linalg.solve_triangular(
            self.chols[d], a.transpose(0, 1), upper=False
        ).transpose(0, 1)
