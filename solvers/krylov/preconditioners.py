"""Classical preconditioners behind one interface: Jacobi, incomplete Cholesky (PETSc ICC),
algebraic multigrid (PETSc GAMG, PyAMG smoothed aggregation).

A preconditioner is built from the matrix (``M = GAMG(A)``: the setup happens in the
constructor and its wall time is ``M.setup_time``) and applied to row-batched residuals,
``M.apply(r: [B, n]) -> [B, n]`` (also ``[n] -> [n]``), on the residual's device and dtype.
Each class declares its contract as class attributes, which the shared test mixin
(:class:`sciml.testing.preconditioners.PreconditionerContract`) reads and measures:

* ``symmetric``: ``x.My == y.Mx``;
* ``positive_definite``: ``x.Mx > 0``;
* ``linear``: ``M(a x + b y) = a Mx + b My`` (False for learned preconditioners, which then
  need flexible PCG);
* ``needs_matrix``: True when an assembled matrix is needed (not matrix-free);
* ``runs_on_host``: True when it applies on the CPU whatever the residual's device (PETSc,
  PyAMG), so a solver using it is best run on the CPU.

PETSc is imported lazily (``import dolfinx_solver`` first, as the FEniCSx wheel requires);
PETSc and PyAMG work on the CPU in float64, so on a GPU each application copies the vector to
the host and back.

>>> import scipy.sparse as sp
>>> from sciml.solvers.krylov.cg import cg
>>> n = 30
>>> T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n))
>>> A = (sp.kron(T, sp.eye(n)) + sp.kron(sp.eye(n), T)).tocsr()
>>> b = torch.ones(n * n, dtype=torch.float64)
>>> cg(A, b, rtol=1e-8).iterations, cg(A, b, M=PyAMG(A), rtol=1e-8).iterations
(55, 7)
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import torch

from sciml.solvers.krylov.operator import LinearOperator, as_operator

if TYPE_CHECKING:
    import scipy.sparse
    from petsc4py import PETSc

__all__ = ["Preconditioner", "Jacobi", "ICC", "GAMG", "PyAMG", "PRECONDITIONERS", "petsc_matrix"]


class Preconditioner:
    """Base class: builds from ``A`` in ``__init__`` (timed) and applies ``z = M r``."""

    name = "identity"
    symmetric = True
    positive_definite = True
    linear = True
    needs_matrix = False
    runs_on_host = False

    def __init__(self, A=None, *, check: bool = True) -> None:
        if A is None:
            raise TypeError(
                f"{type(self).__name__} is built from the matrix: {type(self).__name__}(A). To "
                f"solve with it, pass the class to PCG, which builds it for each system: "
                f"PCG({type(self).__name__}) (options as keywords, e.g. PCG(ICC, levels=1))"
            )
        t0 = time.perf_counter()
        self.op: LinearOperator = as_operator(A, check=check)
        self.n = self.op.n
        self._setup()
        self.setup_time = time.perf_counter() - t0

    def _setup(self) -> None:
        pass

    def _apply(self, r: torch.Tensor) -> torch.Tensor:
        return r.clone()

    def apply(self, r: torch.Tensor) -> torch.Tensor:
        """``z = M r`` for ``r: [n]`` or ``[B, n]`` (same shape, dtype and device)."""
        if not isinstance(r, torch.Tensor) or r.ndim not in (1, 2) or r.shape[-1] != self.n:
            shape = list(r.shape) if isinstance(r, torch.Tensor) else type(r)
            raise ValueError(f"r must be a tensor [B, {self.n}] or [{self.n}], got {shape}")
        squeeze = r.ndim == 1
        z = self._apply(r[None] if squeeze else r)
        return z[0] if squeeze else z

    __call__ = apply

    def to_dense(self, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """The matrix of a linear preconditioner, ``[n, n]`` (for tests on small sizes)."""
        eye = torch.eye(self.n, dtype=dtype)
        return self.apply(eye).T

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n}, setup_time={self.setup_time:.3g}s)"


class Jacobi(Preconditioner):
    """Diagonal scaling ``M = D^{-1}``."""

    name = "jacobi"
    needs_matrix = True

    def _setup(self) -> None:
        d = self.op.diagonal()
        if not (d > 0).all():
            raise ValueError("Jacobi needs a positive diagonal (A must be SPD)")
        self._inv = 1.0 / d
        self._cache: dict = {}

    def _apply(self, r: torch.Tensor) -> torch.Tensor:
        key = (str(r.device), r.dtype)
        if key not in self._cache:
            self._cache[key] = self._inv.to(device=r.device, dtype=r.dtype)
        return r * self._cache[key]


def petsc_matrix(A_scipy: scipy.sparse.sparray | scipy.sparse.spmatrix) -> PETSc.Mat:
    """A ``scipy.sparse`` matrix as a sequential PETSc AIJ matrix (float64)."""
    import dolfinx_solver  # noqa: F401  (orders MPI before petsc4py)

    # heavy optional dependency (PETSc (import dolfinx_solver first)): loaded when first used
    from petsc4py import PETSc

    m = A_scipy.tocsr()
    mat = PETSc.Mat().createAIJ(
        size=m.shape,
        csr=(
            m.indptr.astype(PETSc.IntType),
            m.indices.astype(PETSc.IntType),
            m.data.astype(PETSc.ScalarType),
        ),
        comm=PETSc.COMM_SELF,
    )
    mat.assemble()
    return mat


class _NumpyPreconditioner(Preconditioner):
    """Applies a float64 host function column by column (PETSc / PyAMG)."""

    needs_matrix = True
    runs_on_host = True

    def _apply_np(self, r: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _apply(self, r: torch.Tensor) -> torch.Tensor:
        rn = r.detach().to("cpu", torch.float64).numpy()
        out = np.stack([self._apply_np(np.ascontiguousarray(col)) for col in rn])
        return torch.from_numpy(out).to(device=r.device, dtype=r.dtype)


class _PETScPC(_NumpyPreconditioner):
    pc_type = "none"

    def __init__(self, A=None, *, options: dict | None = None, check: bool = True) -> None:
        self._options = dict(options or {})
        super().__init__(A, check=check)

    def _setup(self) -> None:
        import dolfinx_solver  # noqa: F401

        # heavy optional dependency (PETSc (import dolfinx_solver first)): loaded when first used
        from petsc4py import PETSc

        self._mat = petsc_matrix(self.op.scipy_matrix)
        prefix = f"sciml_{self.name}_{id(self)}_"
        opts = PETSc.Options()
        for k, v in self._options.items():
            opts[prefix + k] = v
        pc = PETSc.PC().create(comm=PETSc.COMM_SELF)
        pc.setOptionsPrefix(prefix)
        pc.setType(self.pc_type)
        pc.setOperators(self._mat)
        self._configure(pc)
        pc.setFromOptions()
        pc.setUp()
        for k in self._options:
            opts.delValue(prefix + k)
        self._pc = pc
        self._x = self._mat.createVecRight()
        self._y = self._mat.createVecLeft()

    def _configure(self, pc) -> None:
        pass

    def _apply_np(self, r: np.ndarray) -> np.ndarray:
        self._x.setArray(r)
        self._pc.apply(self._x, self._y)
        return self._y.getArray().copy()


class ICC(_PETScPC):
    """Incomplete Cholesky with zero fill, ICC(0), through PETSc (``-pc_type icc``).

    ``levels`` sets the fill level. The factor is ``L L^T`` restricted to the sparsity pattern
    of ``A`` (lower part) and ``M = (L L^T)^{-1}``.
    """

    name = "icc"
    pc_type = "icc"

    def __init__(
        self, A=None, *, levels: int = 0, options: dict | None = None, check: bool = True
    ) -> None:
        self.levels = int(levels)
        super().__init__(A, options=options, check=check)

    def _configure(self, pc) -> None:
        pc.setFactorLevels(self.levels)


class GAMG(_PETScPC):
    """One V-cycle of PETSc's smoothed-aggregation algebraic multigrid (``-pc_type gamg``).

    Defaults are PETSc's (Chebyshev/Jacobi smoothing, which is a fixed polynomial, so the
    V-cycle is symmetric and linear); ``options`` adds PETSc options without the prefix, e.g.
    ``{"pc_gamg_threshold": 0.02}``.
    """

    name = "gamg"
    pc_type = "gamg"

    def _configure(self, pc) -> None:
        pc.setGAMGType("agg")


class PyAMG(_NumpyPreconditioner):
    """One V-cycle of PyAMG's smoothed aggregation (symmetric Gauss-Seidel smoothing)."""

    name = "amg"

    def __init__(self, A, *, check: bool = True, **sa_kwargs) -> None:
        self._kwargs = sa_kwargs
        super().__init__(A, check=check)

    def _setup(self) -> None:
        # heavy optional dependency (PyAMG): loaded when first used
        import pyamg

        kwargs = {"symmetry": "symmetric", "max_coarse": 500, **self._kwargs}
        self.ml = pyamg.smoothed_aggregation_solver(self.op.scipy_matrix, **kwargs)
        self._M = self.ml.aspreconditioner(cycle="V")

    def _apply_np(self, r: np.ndarray) -> np.ndarray:
        return np.asarray(self._M @ r)


#: CLI / benchmark names -> classes (the library itself passes objects).
PRECONDITIONERS: dict[str, type[Preconditioner]] = {
    "jacobi": Jacobi,
    "icc": ICC,
    "gamg": GAMG,
    "amg": PyAMG,
}
