"""One adapter from "something that applies a matrix" to a torch linear operator.

Every Krylov solver in :mod:`sciml.solvers` takes its matrix through :func:`as_operator`, which
accepts

* a ``scipy.sparse`` matrix (converted once to a torch sparse CSR tensor),
* a torch sparse CSR (or COO) tensor, or a dense torch tensor ``[n, n]``,
* an object with a ``matrix`` attribute and a ``matvec`` method (e.g.
  :class:`sciml.physics.elliptic.EllipticSystem`; its matrix-free ``matvec`` is used on GPU
  and for autograd, scipy's CSR kernel for plain CPU tensors),
* a matrix-free callable ``f(x: [B, n]) -> [B, n]`` together with ``n=``.

and checks what the solvers rely on: square, right shape, finite, symmetric (a cheap randomized
test ``|y.Ax - x.Ay| <= tol |Ax||y|`` with two random vectors).

Vectors are row-batched: ``x: [n]`` or ``[B, n]``.

>>> import scipy.sparse as sp
>>> A = as_operator(sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(5, 5)))
>>> A.n, A(torch.ones(5, dtype=torch.float64)).tolist()
(5, [1.0, 0.0, 0.0, 0.0, 1.0])
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
import torch

if TYPE_CHECKING:
    import scipy.sparse as sp

    from sciml.physics.elliptic import EllipticSystem
    from sciml.solvers.krylov.stencil import StencilOperator

__all__ = ["LinearOperator", "as_operator", "check_rhs", "scipy_to_torch"]


class _SymmetricSparseMatmul(torch.autograd.Function):
    """``y = x A^T`` for sparse symmetric ``A``; backward uses ``A`` again (no sparse transpose)."""

    @staticmethod
    def forward(
        ctx: torch.autograd.function.FunctionCtx, matrix: torch.Tensor, x: torch.Tensor
    ) -> torch.Tensor:  # x: [B, n]
        ctx.matrix = matrix
        return (matrix @ x.T).T

    @staticmethod
    def backward(
        ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor
    ) -> tuple[None, torch.Tensor]:
        return None, (ctx.matrix @ grad.T).T


class LinearOperator:
    """A square linear operator on row-batched vectors ``x: [n]`` or ``[B, n]``.

    Attributes:
        n: size.
        dtype, device: of the stored matrix (``None`` for a matrix-free callable).
        matrix: the torch sparse CSR / dense matrix, or ``None`` when matrix-free.
        scipy_matrix: the scipy CSR form when one is available (built lazily from a torch
            matrix), used by PETSc / PyAMG preconditioners.
    """

    def __init__(
        self,
        n: int,
        apply: Callable[[torch.Tensor], torch.Tensor],
        *,
        matrix: torch.Tensor | None = None,
        scipy_matrix: sp.csr_matrix | None = None,
        name: str = "operator",
    ) -> None:
        self.n = int(n)
        self._apply = apply
        self.matrix = matrix
        self._scipy = scipy_matrix
        self.name = name
        self._diag_cache: dict = {}

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n, self.n)

    @property
    def dtype(self) -> torch.dtype | None:
        return None if self.matrix is None else self.matrix.dtype

    @property
    def device(self) -> torch.device | None:
        return None if self.matrix is None else self.matrix.device

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``A x`` for ``x: [n]`` or ``[B, n]`` (same shape out)."""
        squeeze = x.ndim == 1
        xb = x[None] if squeeze else x
        y = self._apply(xb)
        return y[0] if squeeze else y

    matvec = __call__

    def to(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> LinearOperator:
        """A copy of the operator whose stored matrix lives on ``device`` / has ``dtype``."""
        if self.matrix is None:
            return self
        m = self.matrix.to(device=device, dtype=dtype or self.matrix.dtype)
        op = _from_torch(m, scipy_matrix=self._scipy, name=self.name)
        if m.device.type == "cpu" and self._scipy is not None:
            op._apply = _scipy_apply(self._scipy, op._apply)
        return op

    @property
    def scipy_matrix(self) -> sp.csr_matrix:
        """The matrix as ``scipy.sparse.csr_matrix`` (float64); error when matrix-free."""
        if self._scipy is None:
            if self.matrix is None:
                raise TypeError(
                    f"{self.name} is matrix-free; this preconditioner needs an assembled matrix "
                    "(pass a scipy sparse matrix or a torch sparse CSR tensor)"
                )

            m = self.matrix.detach().cpu()
            if m.layout == torch.sparse_csr:
                self._scipy = sp.csr_matrix(
                    (
                        m.values().double().numpy(),
                        m.col_indices().numpy(),
                        m.crow_indices().numpy(),
                    ),
                    shape=self.shape,
                )
            elif m.layout == torch.sparse_coo:
                m = m.coalesce()
                i = m.indices().numpy()
                self._scipy = sp.csr_matrix(
                    (m.values().double().numpy(), (i[0], i[1])), shape=self.shape
                )
            else:
                self._scipy = sp.csr_matrix(m.double().numpy())
        return self._scipy

    def diagonal(
        self, device: torch.device | str | None = None, dtype: torch.dtype = torch.float64
    ) -> torch.Tensor:
        """The diagonal ``[n]``; needs an assembled matrix."""
        key = (str(device), dtype)
        if key not in self._diag_cache:
            d = torch.as_tensor(np.asarray(self.scipy_matrix.diagonal()), dtype=dtype)
            self._diag_cache[key] = d.to(device)
        return self._diag_cache[key]

    def __repr__(self) -> str:
        kind = "matrix-free" if self.matrix is None else str(self.matrix.layout)
        return f"LinearOperator(n={self.n}, {kind}, name={self.name!r})"


def _from_torch(m: torch.Tensor, *, scipy_matrix=None, name: str = "matrix") -> LinearOperator:
    if m.layout == torch.sparse_coo:
        m = m.coalesce().to_sparse_csr()
    if m.layout == torch.sparse_csr:

        def apply(x: torch.Tensor) -> torch.Tensor:
            x = x.to(m.dtype)
            if x.requires_grad and torch.is_grad_enabled():
                return _SymmetricSparseMatmul.apply(m, x)
            return (m @ x.T).T

    elif m.layout == torch.strided:

        def apply(x: torch.Tensor) -> torch.Tensor:
            return x.to(m.dtype) @ m.T

    else:
        raise TypeError(f"A: unsupported torch layout {m.layout}; use dense, sparse CSR or COO")
    return LinearOperator(m.shape[0], apply, matrix=m, scipy_matrix=scipy_matrix, name=name)


def as_operator(
    A: LinearOperator
    | sp.sparray
    | sp.spmatrix
    | np.ndarray
    | torch.Tensor
    | EllipticSystem
    | StencilOperator
    | Callable[[torch.Tensor], torch.Tensor],
    *,
    n: int | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    check: bool = True,
    symmetric_rtol: float | None = None,
) -> LinearOperator:
    """Wrap ``A`` as a :class:`LinearOperator` and validate it.

    Args:
        A: scipy sparse matrix, torch sparse CSR/COO or dense ``[n, n]`` tensor, an object with
            ``matrix`` and ``matvec`` (an assembled elliptic system), a callable
            ``f(x: [B, n]) -> [B, n]``, or an existing :class:`LinearOperator`.
        n: size; required for a callable.
        device, dtype: where/how a stored matrix is kept (default: CPU float64 for scipy input,
            unchanged for torch input).
        check: run the validation (square, finite, randomized symmetry test).
        symmetric_rtol: tolerance of the symmetry test (default ``1e-10`` for float64,
            ``1e-4`` for float32).

    Raises:
        ValueError: non-square, wrong output shape, non-finite entries, not symmetric.
        TypeError: unsupported ``A``.
    """
    if isinstance(A, LinearOperator):
        op = A.to(device, dtype) if (device is not None or dtype is not None) else A
    elif hasattr(A, "matrix") and hasattr(A, "matvec") and callable(A.matvec):
        # an assembled system: use its matrix for the scipy view and its matrix-free matvec
        sm = A.matrix
        if sm.shape[0] != sm.shape[1]:
            raise ValueError(f"A must be square, got shape {tuple(sm.shape)}")
        cast = dtype

        def apply(x: torch.Tensor) -> torch.Tensor:
            return A.matvec(x if cast is None else x.to(cast))

        sm = sm.tocsr()
        op = LinearOperator(
            sm.shape[0], _scipy_apply(sm, apply), scipy_matrix=sm, name=type(A).__name__
        )
        if check and not np.isfinite(sm.data).all():
            raise ValueError("A contains NaN or inf entries")
    elif _is_scipy_sparse(A) or isinstance(A, np.ndarray):
        pass

        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"A must be a square matrix [n, n], got shape {tuple(A.shape)}")
        sm = sp.csr_matrix(A, dtype=np.float64)
        if check and not np.isfinite(sm.data).all():
            raise ValueError("A contains NaN or inf entries")
        m = scipy_to_torch(sm, device=device, dtype=dtype or torch.float64)
        op = _from_torch(m, scipy_matrix=sm, name="scipy")
        if m.device.type == "cpu":
            op._apply = _scipy_apply(sm, op._apply)
    elif isinstance(A, torch.Tensor):
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"A must be a square matrix [n, n], got shape {tuple(A.shape)}")
        m = A.to(device=device, dtype=dtype or A.dtype)
        if check:
            vals = m.values() if m.layout == torch.sparse_csr else m
            if m.layout == torch.sparse_coo:
                vals = m.coalesce().values()
            if not torch.isfinite(vals).all():
                raise ValueError("A contains NaN or inf entries")
        op = _from_torch(m, name="torch")
    elif callable(A):
        if n is None:
            raise ValueError("n must be given for a matrix-free callable A")
        op = LinearOperator(n, A, name=getattr(A, "__name__", "callable"))
    else:
        raise TypeError(
            "A must be a scipy sparse matrix, a torch tensor (dense or sparse CSR), an assembled "
            f"system with .matrix/.matvec, or a callable; got {type(A)}"
        )
    if check:
        _check_operator(op, dtype or op.dtype or torch.float64, device, symmetric_rtol)
    return op


def scipy_to_torch(
    sm: sp.sparray | sp.spmatrix,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """A scipy sparse matrix as a torch sparse CSR tensor ``[n, m]``."""

    sm = sp.csr_matrix(sm)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Ss]parse.*")
        m = torch.sparse_csr_tensor(
            torch.as_tensor(sm.indptr, dtype=torch.int64),
            torch.as_tensor(sm.indices, dtype=torch.int64),
            torch.as_tensor(sm.data, dtype=dtype),
            size=sm.shape,
            check_invariants=False,
        )
    return m.to(device)


def _scipy_apply(sm, torch_apply):
    """CPU apply through scipy's (single-threaded, fast) CSR kernel when no gradient is needed.

    torch's CPU sparse CSR matmul is far slower when cores are oversubscribed; autograd and
    non-CPU tensors still go through ``torch_apply``.
    """
    cache = {np.dtype(np.float64): sm}

    def apply(x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu" or (x.requires_grad and torch.is_grad_enabled()):
            return torch_apply(x)
        xn = x.detach().numpy()
        if xn.dtype not in cache:
            cache[xn.dtype] = sm.astype(xn.dtype)
        return torch.from_numpy(np.ascontiguousarray((cache[xn.dtype] @ xn.T).T))

    return apply


def _is_scipy_sparse(A) -> bool:
    try:
        pass
    except ImportError:  # pragma: no cover
        return False
    return sp.issparse(A)


def _check_operator(op: LinearOperator, dtype, device, rtol: float | None) -> None:
    gen = torch.Generator().manual_seed(1234)
    dev = op.device if op.device is not None else device
    x = torch.randn(2, op.n, generator=gen, dtype=torch.float64).to(device=dev, dtype=dtype)
    with torch.no_grad():
        y = op(x)
    if tuple(y.shape) != (2, op.n):
        raise ValueError(
            f"A must map [B, {op.n}] to [B, {op.n}] (a square operator), got output shape "
            f"{list(y.shape)}"
        )
    if not torch.isfinite(y).all():
        raise ValueError("A produced NaN or inf for a random input (non-finite entries?)")
    if rtol is None:
        rtol = 1e-10 if dtype == torch.float64 else 1e-4
    y = y.double()
    x = x.double()
    lhs = torch.dot(x[1], y[0])
    rhs = torch.dot(x[0], y[1])
    scale = (y[0].norm() * x[1].norm()).clamp_min(torch.finfo(torch.float64).tiny)
    if (lhs - rhs).abs() > rtol * scale:
        raise ValueError(
            f"A must be symmetric: randomized test |y.Ax - x.Ay| / (|Ax||y|) = "
            f"{float((lhs - rhs).abs() / scale):.2e} > {rtol:.0e}"
        )


def check_rhs(b: torch.Tensor, n: int, name: str = "b") -> tuple[torch.Tensor, bool]:
    """Validate a right-hand side ``[n]`` or ``[B, n]``; return it as ``[B, n]`` and a squeeze flag."""
    if not isinstance(b, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor [n] or [B, n], got {type(b)}")
    if b.ndim not in (1, 2) or b.shape[-1] != n:
        raise ValueError(f"{name} must have shape [{n}] or [B, {n}], got {list(b.shape)}")
    if not torch.isfinite(b).all():
        raise ValueError(f"{name} contains NaN or inf")
    if not b.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {b.dtype}")
    squeeze = b.ndim == 1
    return (b[None] if squeeze else b), squeeze


def prepare_system(
    A: object, b: torch.Tensor, x0: torch.Tensor | None, *, check: bool
) -> tuple[LinearOperator, torch.Tensor, bool, torch.Tensor]:
    """The common start of every Krylov solve: ``(op, b [B, n], squeeze, x [B, n])``.

    ``A`` becomes a :class:`LinearOperator` (validated when ``check``; an operator is used as
    it is otherwise) on ``b``'s device and dtype; ``b`` and ``x0`` are checked
    (:func:`check_rhs`) and ``x`` is a fresh copy of ``x0`` (zeros when None).
    """
    op = A if (isinstance(A, LinearOperator) and not check) else as_operator(A, check=check)
    bb, squeeze = check_rhs(b, op.n, "b")
    device, dtype = bb.device, bb.dtype
    if op.matrix is not None and (op.device != device or op.dtype != dtype):
        op = op.to(device, dtype)
    if x0 is None:
        return op, bb, squeeze, torch.zeros_like(bb)
    x0b, _ = check_rhs(x0, op.n, "x0")
    if x0b.shape != bb.shape:
        raise ValueError(f"x0 must have the shape of b {list(b.shape)}, got {list(x0.shape)}")
    return op, bb, squeeze, x0b.to(device=device, dtype=dtype).clone()
