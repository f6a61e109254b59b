"""What the DCDM network knows about a system: its Jacobi-scaled stencil, read off the matrix.

A system on a grid is ``A [n, n]`` over the fluid cells (``active: bool [*shape]``, C order).
The network never sees ``A``'s raw scale: with ``D = diag(A)`` it sees the symmetrically
scaled operator ``D^(-1/2) A D^(-1/2)`` (unit diagonal), as ``2 + 2 ndim`` channels on the grid:

* channel 0: the fluid indicator (1 in unknowns, 0 in solid cells);
* channel 1: the Dirichlet excess ``(A_ii - sum_{j != i} |A_ij|) / A_ii`` (nonzero next to a
  Dirichlet wall, zero in the interior of a pure Neumann region);
* channels ``2 + 2d`` and ``3 + 2d``: the scaled couplings to the ``+`` and ``-`` neighbour
  along axis ``d``, ``-A_ij / sqrt(A_ii A_jj)`` times ``2 ndim`` (1 in a uniform interior,
  small across a density jump, 0 across a solid face).

All channels are invariant when ``A`` is multiplied by a constant (or the coefficient ``a`` of
``-div(a grad p)`` is), which is half of the "symmetric Jacobi scaling" of the direction
(:class:`~sciml.solvers.dcdm.direction.LearnedDirection` scales residuals by ``D^(-1/2)`` on
the way in and directions on the way out). Because they come from the matrix, a user's own
system needs no coefficient or wall description.

:func:`stencil_features` also reports matrix entries outside the ``2 ndim + 1``-point stencil
(the network cannot see them; the solver still converges through its safeguard).

>>> from sciml.grid import Grid
>>> from sciml.physics.elliptic import assemble_elliptic
>>> sys = assemble_elliptic(Grid((5, 5), centering="cell"), walls={"x-": "neumann"})
>>> f = stencil_features(sys.matrix, sys.active)
>>> f.features.shape, float(f.features[2, 2, 2]), f.outside_stencil
(torch.Size([6, 5, 5]), 1.0, 0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

__all__ = ["StencilFeatures", "stencil_features", "num_feature_channels"]


def num_feature_channels(ndim: int) -> int:
    """Channels of :func:`stencil_features` for an ``ndim``-D grid: ``2 + 2 ndim``."""
    return 2 + 2 * ndim


@dataclass
class StencilFeatures:
    """The network's view of a system.

    Attributes:
        features: ``float32 [2 + 2 ndim, *shape]`` (see the module docstring).
        inv_sqrt_diag: ``float64 [n]``, ``D^(-1/2)`` on the unknowns.
        outside_stencil: number of off-diagonal entries that couple cells which are not grid
            neighbours (0 for a 5-/7-point finite-volume matrix).
        dirichlet_sides: sides (``"x-"``, ...) with a nonzero Dirichlet excess in the interior
            of the face.
    """

    features: torch.Tensor
    inv_sqrt_diag: torch.Tensor
    outside_stencil: int
    dirichlet_sides: tuple[str, ...]


def stencil_features(matrix, active: torch.Tensor) -> StencilFeatures:
    """The scaled-stencil channels of ``matrix`` (scipy sparse ``[n, n]``) on the grid of ``active``.

    Args:
        matrix: SPD matrix over the unknowns, ``n = active.sum()``, unknowns in C order.
        active: ``bool [*shape]`` (2-D or 3-D), True for unknowns.

    Raises:
        ValueError: sizes disagree or the diagonal is not positive.
    """
    if not isinstance(active, torch.Tensor) or active.dtype != torch.bool:
        raise TypeError("active must be a bool tensor [*shape]")
    ndim = active.ndim
    if ndim not in (2, 3):
        raise ValueError(f"active must be 2-D or 3-D, got {ndim}-D")
    A = sp.csr_matrix(matrix)
    shape = tuple(active.shape)
    fluid = active.cpu().numpy()
    n = int(fluid.sum())
    if A.shape != (n, n):
        raise ValueError(f"matrix must be [{n}, {n}] (one row per active cell), got {A.shape}")
    diag = A.diagonal().astype(np.float64)
    if not (diag > 0).all():
        raise ValueError("matrix must have a positive diagonal (an SPD matrix)")
    flat = np.flatnonzero(fluid.ravel())  # unknown -> flat grid index
    index = np.full(fluid.size, -1, dtype=np.int64)
    index[flat] = np.arange(n)
    coords = np.unravel_index(flat, shape)
    feats = np.zeros((num_feature_channels(ndim), *shape), dtype=np.float64)
    feats[0] = fluid
    stride = 1
    strides = []
    for d in reversed(range(ndim)):
        strides.insert(0, stride)
        stride *= shape[d]
    matched = 0
    for d in range(ndim):
        for k, step in enumerate((1, -1)):
            inside = (coords[d] + step >= 0) & (coords[d] + step < shape[d])
            rows = np.flatnonzero(inside)
            cols = index[flat[rows] + step * strides[d]]
            fl = cols >= 0
            rows, cols = rows[fl], cols[fl]
            vals = np.asarray(A[rows, cols], dtype=np.float64).ravel()
            matched += int(np.count_nonzero(vals))
            ch = feats[2 + 2 * d + k].reshape(-1)
            ch[flat[rows]] = -vals / np.sqrt(diag[rows] * diag[cols]) * (2 * ndim)
    off = A.copy()
    off.setdiag(0)
    off.eliminate_zeros()
    absrow = np.asarray(abs(off).sum(axis=1)).ravel()
    excess = np.clip((diag - absrow) / diag, 0.0, 1.0)
    feats[1].reshape(-1)[flat] = excess
    sides = []
    exc = feats[1]
    for d in range(ndim):
        for name, pos in (("-", 0), ("+", shape[d] - 1)):
            face = np.take(exc, pos, axis=d)
            inner = face[tuple(slice(1, -1) if s > 2 else slice(None) for s in face.shape)]
            if (inner > 1e-12).any():
                sides.append("xyz"[d] + name)
    return StencilFeatures(
        features=torch.from_numpy(feats.astype(np.float32)),
        inv_sqrt_diag=torch.from_numpy(1.0 / np.sqrt(diag)),
        outside_stencil=int(off.nnz - matched),
        dirichlet_sides=tuple(sides),
    )
