"""A user's own linear system on a grid: ``A`` over the active (fluid) cells, checked once.

Our problem generator assembles :class:`~sciml.physics.elliptic.EllipticSystem` objects; a user
arrives with a matrix. :func:`grid_system` turns ``(A, mask, walls)`` into a
:class:`GridSystem` with the same interface the solvers use (``matrix``, ``active``, ``n``,
``matvec``, ``to_field``, ``to_vector``), after checking what they rely on: ``A`` square,
symmetric, finite, with a positive diagonal, one row per active cell of the mask, and wall
names that exist.

>>> import scipy.sparse as sp
>>> T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(4, 4))
>>> A = sp.kron(T, sp.eye(4)) + sp.kron(sp.eye(4), T)
>>> s = grid_system(A, mask=np.ones((4, 4), dtype=bool))
>>> s.n, s.to_field(torch.ones(16)).shape
(16, torch.Size([4, 4]))
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch

from sciml.solvers.krylov.operator import as_operator

__all__ = ["GridSystem", "grid_system", "WALL_SIDES"]

WALL_SIDES = ("x-", "x+", "y-", "y+", "z-", "z+")


@dataclass
class GridSystem:
    """An SPD system over the active cells of a 2-D or 3-D grid.

    Attributes:
        matrix: ``scipy.sparse.csr_matrix [n, n]`` float64; unknown ``i`` is the ``i``-th active
            cell in C order.
        active: ``BoolTensor[*shape]``.
        walls: side -> ``"dirichlet"`` / ``"neumann"`` as given by the user (or None).
    """

    matrix: sp.csr_matrix
    active: torch.Tensor
    walls: dict[str, str] | None = None
    _ops: dict = field(default_factory=dict, repr=False)
    _index: torch.Tensor | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        """Number of unknowns."""
        return int(self.matrix.shape[0])

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape."""
        return tuple(self.active.shape)

    @property
    def index(self) -> torch.Tensor:
        """Flat (C-order) grid indices of the unknowns, ``LongTensor[n]``."""
        if self._index is None:
            self._index = torch.nonzero(self.active.reshape(-1), as_tuple=False)[:, 0]
        return self._index

    def matvec(self, x: torch.Tensor) -> torch.Tensor:
        """``A x`` for ``x: [n]`` or ``[B, n]`` on any device (scipy on the CPU, else torch)."""

        key = (str(x.device), x.dtype)
        if key not in self._ops:
            self._ops[key] = as_operator(self.matrix, device=x.device, dtype=x.dtype, check=False)
        return self._ops[key](x)

    def to_vector(self, field_: torch.Tensor) -> torch.Tensor:
        """``[B, *shape] -> [B, n]`` (or ``[*shape] -> [n]``)."""
        nd = self.active.ndim
        if tuple(field_.shape[-nd:]) != self.shape or field_.ndim not in (nd, nd + 1):
            raise ValueError(
                f"field must have shape [B, *{list(self.shape)}], got {list(field_.shape)}"
            )
        flat = field_.reshape(*field_.shape[: field_.ndim - nd], -1)
        return flat[..., self.index.to(field_.device)]

    def to_field(self, vec: torch.Tensor) -> torch.Tensor:
        """``[B, n] -> [B, *shape]`` with zeros in inactive cells (or ``[n] -> [*shape]``)."""
        if vec.ndim not in (1, 2) or vec.shape[-1] != self.n:
            raise ValueError(f"vec must have shape [B, {self.n}], got {list(vec.shape)}")
        lead = vec.shape[:-1]
        out = vec.new_zeros(*lead, int(self.active.numel()))
        out[..., self.index.to(vec.device)] = vec
        return out.reshape(*lead, *self.shape)


def _as_scipy(A) -> sp.csr_matrix:
    if sp.issparse(A):
        return sp.csr_matrix(A, dtype=np.float64)
    if isinstance(A, torch.Tensor):
        if A.ndim != 2:
            raise ValueError(f"A must be a matrix [n, n], got shape {list(A.shape)}")
        m = A.detach().cpu()
        if m.layout == torch.sparse_csr:
            return sp.csr_matrix(
                (m.values().double().numpy(), m.col_indices().numpy(), m.crow_indices().numpy()),
                shape=tuple(m.shape),
            )
        if m.layout == torch.sparse_coo:
            m = m.coalesce()
            i = m.indices().numpy()
            return sp.csr_matrix((m.values().double().numpy(), (i[0], i[1])), shape=tuple(m.shape))
        return sp.csr_matrix(m.double().numpy())
    if isinstance(A, np.ndarray):
        if A.ndim != 2:
            raise ValueError(f"A must be a matrix [n, n], got shape {list(A.shape)}")
        return sp.csr_matrix(A.astype(np.float64))
    raise TypeError(
        f"A must be a scipy sparse matrix or a torch (sparse) tensor, got {type(A).__name__}"
    )


def grid_system(A, *, mask, walls: dict[str, str] | None = None) -> GridSystem:
    """Check ``A`` and ``mask`` and return a :class:`GridSystem`.

    Args:
        A: ``[n, n]`` scipy sparse matrix, torch sparse (CSR/COO) or dense tensor, or numpy array.
        mask: ``bool [*shape]`` (numpy or torch; 2-D or 3-D), True for unknowns; ``n`` must be
            its number of True cells.
        walls: optional side -> ``"dirichlet"`` / ``"neumann"`` (sides ``x-, x+, y-, y+[, z-,
            z+]``), recorded for the solvers (the DCDM network reads the walls off the matrix).

    Raises:
        ValueError: with the argument and what was expected (non-square, asymmetric, NaN/inf,
            non-positive diagonal, size mismatch with the mask, bad wall names).
    """
    M = _as_scipy(A)
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"A must be square, got shape {M.shape}")
    if not np.isfinite(M.data).all():
        raise ValueError("A contains NaN or inf entries")
    big = float(np.abs(M.data).max()) if M.nnz else 0.0
    asym = abs(M - M.T)
    if asym.nnz and float(asym.max()) > 1e-12 * big:
        raise ValueError(
            f"A must be symmetric: max |A - A^T| = {float(asym.max()):.3e} "
            f"(largest entry {big:.3e})"
        )
    if not (M.diagonal() > 0).all():
        bad = int(np.flatnonzero(M.diagonal() <= 0)[0])
        raise ValueError(f"A must have a positive diagonal (SPD); A[{bad}, {bad}] <= 0")
    if isinstance(mask, torch.Tensor):
        m = mask.detach().cpu().numpy()
    else:
        m = np.asarray(mask)
    if m.dtype != np.bool_:
        if m.dtype.kind in "iu" and np.isin(m, (0, 1)).all():
            m = m.astype(bool)
        else:
            raise ValueError(f"mask must be a bool array (True = unknown), got dtype {m.dtype}")
    if m.ndim not in (2, 3):
        raise ValueError(f"mask must be 2-D or 3-D, got shape {list(m.shape)}")
    if int(m.sum()) != M.shape[0]:
        raise ValueError(
            f"A has {M.shape[0]} rows but mask has {int(m.sum())} active cells; they must match "
            "(one unknown per True cell, in C order)"
        )
    if walls is not None:
        sides = WALL_SIDES[: 2 * m.ndim]
        if not isinstance(walls, dict):
            raise ValueError(f"walls must be a dict like {{'z+': 'dirichlet'}}, got {walls!r}")
        for k, v in walls.items():
            if k not in sides:
                raise ValueError(f"walls key {k!r} is not a side of a {m.ndim}-D box; use {sides}")
            if str(v).lower() not in ("dirichlet", "neumann"):
                raise ValueError(f"walls[{k!r}] must be 'dirichlet' or 'neumann', got {v!r}")
        walls = {k: str(v).lower() for k, v in walls.items()}
    return GridSystem(matrix=M, active=torch.from_numpy(np.ascontiguousarray(m)), walls=walls)
