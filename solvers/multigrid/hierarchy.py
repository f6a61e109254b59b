"""The grid hierarchy of a cell-centred stencil: aggregation of ``2^d`` cells, Galerkin coarse
stencils, transfers, and the coarsest level's dense inverse.

A :class:`Level` is the 5-point (2-D) / 7-point (3-D) stencil of one grid in the layout of
:class:`~sciml.solvers.krylov.stencil.StencilOperator`: a diagonal ``center [*S]`` and per axis
the face coefficients ``faces[d] [*S]`` (``faces[d][i]`` couples cells ``i`` and ``i + e_d``;
zero on faces that touch a solid cell or leave the box), so ``A`` is
``(A p)_i = c_i p_i - sum_d [T_d,i p_{i+e_d} + T_d,{i-e_d} p_{i-e_d}]``.

**Coarsening** (:func:`coarsen`) aggregates the ``2 x 2 (x 2)`` blocks of cells (an odd axis
gets one padding cell that is solid). The prolongation ``P`` copies a coarse value to the
active cells of its block (piecewise constant) and the restriction is ``R = P^T`` (the sum
over the block). The coarse operator is Galerkin's ``A_c = P^T A P``, which for this ``P`` is
again a 5-/7-point stencil, in closed form:

* coarse face ``I -> I + e_d`` = the sum of the ``2^(d-1)`` fine faces that cross between
  the two blocks;
* coarse centre = the sum of the block's fine centres minus twice its internal faces (the
  Dirichlet-wall part of the diagonal is summed; a block's inner fluxes cancel).

So the coarse operator *is* the flux balance of the union of the cells: solid cells and walls
carry no flux at any level, a density jump enters through the fine faces that cross it, and
``A_c`` is symmetric positive definite whenever ``A`` is (``P`` has full column rank: a
coarse cell is active when one of its fine cells is). Building a level costs a few reductions
of the fine arrays: the setup is ~2 fine matvecs.

The coarsest level (at most :data:`MAX_COARSE` cells) is solved exactly: its dense matrix is
factored by Cholesky in float64 once and its inverse stored (a matrix product per cycle, no
host sync, CUDA-graph friendly). A failing factorisation means ``A`` is not positive definite
and raises ``ValueError`` naming ``A``.

>>> from sciml.grid import Grid
>>> from sciml.physics.elliptic import assemble_elliptic
>>> from sciml.solvers.krylov.stencil import StencilOperator
>>> op = StencilOperator.from_system(assemble_elliptic(Grid((16, 16), centering="cell")))
>>> h = Hierarchy.from_operator(op, max_coarse=16)
>>> [lv.shape for lv in h.levels], h.coarse_inverse.shape
([(16, 16), (8, 8), (4, 4)], torch.Size([16, 16]))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from sciml.solvers.krylov.stencil import StencilOperator

__all__ = ["Level", "Hierarchy", "coarsen", "restrict", "prolong", "plan_depth", "MAX_COARSE"]

#: the coarsest level has at most this many cells (a dense inverse of this size per cycle)
MAX_COARSE = 512


@dataclass
class Level:
    """One grid of the hierarchy (tensors on one device and dtype).

    Attributes:
        center: ``[*S]`` diagonal (zero in solid cells).
        faces: per axis ``[*S]`` face coefficients towards ``i + e_d``.
        periodic: per axis.
        active: ``BoolTensor[*S]`` unknown cells.
        dinv: ``[*S]`` inverse diagonal (zero in solid cells).
        bound: Gershgorin bound of the spectrum of ``D^-1 A`` (2 for a diagonally dominant
            stencil): Jacobi weights are scaled by ``2 / bound``, so a weight in ``(0, 1]``
            is an A-norm contraction for every SPD stencil.
    """

    center: torch.Tensor
    faces: list[torch.Tensor]
    periodic: tuple[bool, ...]
    active: torch.Tensor
    dinv: torch.Tensor
    bound: float

    @property
    def shape(self) -> tuple[int, ...]:
        """The grid shape."""
        return tuple(self.center.shape)

    @property
    def cells(self) -> int:
        """Number of cells (active or not)."""
        return math.prod(self.shape)

    @classmethod
    def from_stencil(
        cls,
        center: torch.Tensor,
        faces: list[torch.Tensor],
        periodic: tuple[bool, ...],
        active: torch.Tensor,
    ) -> Level:
        """A level from a stencil; computes ``dinv`` and the Gershgorin bound."""
        safe = torch.where(active, center, torch.ones_like(center))
        if bool((safe <= 0).any()):
            raise ValueError("A must have a positive diagonal on every active cell (SPD)")
        dinv = torch.where(active, 1.0 / safe, torch.zeros_like(center))
        off = torch.zeros_like(center)
        for d, (t, per) in enumerate(zip(faces, periodic)):
            a = t.abs()
            off += a
            if per:
                off += torch.roll(a, 1, d)
            elif t.shape[d] > 1:
                off.narrow(d, 1, t.shape[d] - 1).add_(a.narrow(d, 0, t.shape[d] - 1))
        bound = 1.0 + float(torch.where(active, off * dinv, 0.0).max())
        return cls(center, list(faces), tuple(periodic), active, dinv, max(bound, 1.0))


def _shift_back(t: torch.Tensor, axis: int) -> torch.Tensor:
    """``y_i = t_{i-1}`` along ``axis`` (zero at the first index)."""
    n = t.shape[axis]
    pad = [0, 0] * (t.ndim - 1 - axis)
    return F.pad(t.narrow(axis, 0, n - 1), [*pad, 1, 0])


def _pad_even(x: torch.Tensor, ndim: int) -> torch.Tensor:
    """Zero-pad the last ``ndim`` axes of ``x`` to even sizes (at the end)."""
    pad = []
    for n in reversed(x.shape[x.ndim - ndim :]):
        pad += [0, n % 2]
    return F.pad(x, pad) if any(pad) else x


def _blocks(x: torch.Tensor, ndim: int) -> torch.Tensor:
    """The view ``[n1/2, 2, n2/2, 2, ...]`` of an even-sized (unbatched) ``x``."""
    split = []
    for n in x.shape:
        split += [n // 2, 2]
    return x.reshape(split)


def restrict(x: torch.Tensor, ndim: int) -> torch.Tensor:
    """``R = P^T``: the sum over each ``2^ndim`` block of the last ``ndim`` axes.

    ``x: [..., *S] -> [..., *ceil(S / 2)]``.
    """
    x = _pad_even(x, ndim)
    lead = x.shape[: x.ndim - ndim]
    split = []
    for n in x.shape[x.ndim - ndim :]:
        split += [n // 2, 2]
    x = x.reshape(*lead, *split)
    return x.sum(tuple(len(lead) + 2 * k + 1 for k in range(ndim)))


def prolong(xc: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """``P``: copy each coarse value to its ``2^ndim`` fine cells, ``[..., *Sc] -> [..., *S]``.

    Values land on solid fine cells too; the stencil ignores them and the cycle masks its
    output (see :mod:`~sciml.solvers.multigrid.cycle`).
    """
    ndim = len(shape)
    lead = xc.shape[: xc.ndim - ndim]
    view, full = [], []
    for n in xc.shape[xc.ndim - ndim :]:
        view += [n, 1]
        full += [n, 2]
    x = xc.reshape(*lead, *view).expand(*lead, *full)
    x = x.reshape(*lead, *(2 * n for n in xc.shape[xc.ndim - ndim :]))
    for d, n in enumerate(shape):
        if x.shape[len(lead) + d] != n:
            x = x.narrow(len(lead) + d, 0, n)
    return x


def _neighbour_sum(faces: list[torch.Tensor], periodic: tuple[bool, ...]) -> torch.Tensor:
    """``sum_d (T_d,i + T_d,{i-e_d})``: the off-diagonal row sums of a stencil."""
    total = torch.zeros_like(faces[0])
    for d, (t, per) in enumerate(zip(faces, periodic)):
        total = total + t + (torch.roll(t, 1, d) if per else _shift_back(t, d))
    return total


def coarsen(
    level: Level,
    *,
    face_scale: float | torch.Tensor = 1.0,
    wall_scale: float | torch.Tensor = 1.0,
) -> Level | None:
    """The Galerkin coarse level ``P^T A P`` of ``level`` (None when an axis cannot coarsen:
    a periodic axis of odd size or of size 2).

    ``face_scale`` / ``wall_scale`` (floats, tensors of the coarse shape, or scalar tensors;
    positive) multiply the coarse face coefficients and the coarse Dirichlet-wall diagonal:
    1 is Galerkin; the coarse operator stays SPD for every positive value (a weighted graph
    Laplacian plus a positive wall diagonal on every connected region), so the cycle does too.
    """
    ndim = len(level.shape)
    for n, per in zip(level.shape, level.periodic):
        if per and (n % 2 or n == 2):
            return None  # an odd periodic axis has no 2-cell blocks; 2 -> 1 has no ring
    parity = tuple(2 * k + 1 for k in range(ndim))  # the in-block axes of a block view
    inner = None
    coarse_faces = []
    for d, t in enumerate(level.faces):
        blocks = _blocks(_pad_even(t, ndim), ndim)
        rest = tuple(a - (a > 2 * d + 1) for a in parity if a != 2 * d + 1)
        # faces inside a block (between 2I and 2I+1) and from block I to block I+1
        within = blocks.select(2 * d + 1, 0).sum(rest)
        inner = within if inner is None else inner + within
        coarse_faces.append(blocks.select(2 * d + 1, 1).sum(rest))
    coarse_center = restrict(level.center, ndim) - 2 * inner
    coarse_active = _blocks(_pad_even(level.active, ndim), ndim).amax(parity)
    # a non-periodic axis keeps a zero last face: the fine face at the last (odd, or padded)
    # index is zero; a periodic axis (even, >= 4) keeps its wrap-around face
    periodic = level.periodic
    if not (_is_one(face_scale) and _is_one(wall_scale)):
        wall = coarse_center - _neighbour_sum(coarse_faces, periodic)
        coarse_faces = [t * face_scale for t in coarse_faces]
        coarse_center = wall * wall_scale + _neighbour_sum(coarse_faces, periodic)
    # a coarse cell whose fine cells are all solid keeps a zero row
    coarse_center = torch.where(coarse_active, coarse_center, torch.zeros_like(coarse_center))
    return Level.from_stencil(coarse_center, coarse_faces, periodic, coarse_active)


def _is_one(x: float | torch.Tensor) -> bool:
    return not isinstance(x, torch.Tensor) and float(x) == 1.0


def plan_depth(
    shape: tuple[int, ...], periodic: tuple[bool, ...], max_coarse: int = MAX_COARSE
) -> int:
    """The number of levels :meth:`Hierarchy.from_operator` builds for a grid."""
    shape, depth = tuple(shape), 1
    while math.prod(shape) > max_coarse:
        if any(per and (n % 2 or n == 2) for n, per in zip(shape, periodic)):
            break
        nxt = tuple((n + 1) // 2 for n in shape)
        if nxt == shape:
            break
        shape, depth = nxt, depth + 1
    return depth


def _last(t: torch.Tensor, d: int) -> torch.Tensor:
    return torch.tensor([t.shape[d] - 1], device=t.device)


def dense_matrix(level: Level) -> torch.Tensor:
    """The level's operator as a dense ``[cells, cells]`` matrix (solid cells: identity rows)."""
    shape = level.shape
    m = level.cells
    idx = torch.arange(m, device=level.center.device).reshape(shape)
    A = torch.diag(torch.where(level.active, level.center, 1.0).reshape(-1))
    for d, (t, per) in enumerate(zip(level.faces, level.periodic)):
        nbr = torch.roll(idx, -1, d)
        keep = t != 0
        if not per:
            last = torch.zeros(shape, dtype=torch.bool, device=t.device)
            last.index_fill_(d, _last(t, d), True)
            keep = keep & ~last
        i, j, v = idx[keep], nbr[keep], t[keep]
        A.index_put_((i, j), -v, accumulate=True)
        A.index_put_((j, i), -v, accumulate=True)
    return A


@dataclass
class Hierarchy:
    """The levels of a stencil, finest first, and the coarsest level's dense inverse.

    Attributes:
        levels: :class:`Level` s, ``levels[0]`` the operator itself.
        coarse_inverse: ``[m, m]`` inverse of the coarsest level's dense matrix (solid cells
            identity rows), ``m = levels[-1].cells``.
    """

    levels: list[Level]
    coarse_inverse: torch.Tensor

    @property
    def ndim(self) -> int:
        """Grid dimension (2 or 3)."""
        return len(self.levels[0].shape)

    @property
    def depth(self) -> int:
        """Number of levels."""
        return len(self.levels)

    @classmethod
    def from_operator(
        cls,
        op: StencilOperator,
        *,
        max_coarse: int = MAX_COARSE,
        scales: list[tuple[float | torch.Tensor, float | torch.Tensor]] | None = None,
    ) -> Hierarchy:
        """Coarsen ``op`` (a :class:`StencilOperator`) until a level has ``<= max_coarse``
        cells; factor the coarsest level.

        ``scales[l] = (face_scale, wall_scale)`` for the coarse operator of level ``l + 1``
        (see :func:`coarsen`; default Galerkin; :func:`plan_depth` tells the number of levels
        in advance). Differentiable with respect to tensor scales.

        Raises:
            ValueError: ``A`` is not positive definite (non-positive diagonal, or the coarsest
                Galerkin matrix has no Cholesky factor), or the grid is not 2-D / 3-D.
        """
        if len(op.shape) not in (2, 3):
            raise ValueError(f"multigrid needs a 2-D or 3-D grid, got shape {list(op.shape)}")
        levels = [Level.from_stencil(op.center, op.faces, op.periodic, op.active)]
        while levels[-1].cells > max_coarse:
            l = len(levels) - 1
            f, g = scales[min(l, len(scales) - 1)] if scales else (1.0, 1.0)
            nxt = coarsen(levels[-1], face_scale=f, wall_scale=g)
            if nxt is None or nxt.cells == levels[-1].cells:
                break
            levels.append(nxt)
        coarsest = levels[-1]
        if coarsest.cells > 4 * max_coarse:
            raise ValueError(
                f"A: the grid {list(op.shape)} cannot be coarsened below {coarsest.cells} "
                "cells (a periodic axis of odd size); multigrid needs even periodic axes"
            )
        dense = dense_matrix(coarsest).to(torch.float64)
        L, info = torch.linalg.cholesky_ex(dense)
        if int(info) != 0:
            raise ValueError(
                f"A is not positive definite: the Galerkin coarse matrix on level "
                f"{len(levels) - 1} ({coarsest.shape}) has no Cholesky factor"
            )
        inverse = torch.cholesky_inverse(L)
        inverse = torch.where(coarsest.active.reshape(-1, 1) & coarsest.active.reshape(1, -1),
                              inverse, 0.0)  # fmt: skip
        return cls(levels, inverse.to(op.dtype))

    def to(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> Hierarchy:
        """A copy on ``device`` / in ``dtype``."""

        def conv(t: torch.Tensor) -> torch.Tensor:
            if t.dtype == torch.bool:
                return t.to(device)
            return t.to(device=device, dtype=dtype or t.dtype).contiguous()

        levels = [
            Level(
                conv(lv.center),
                [conv(t) for t in lv.faces],
                lv.periodic,
                conv(lv.active),
                conv(lv.dinv),
                lv.bound,
            )  # fmt: skip
            for lv in self.levels
        ]
        return Hierarchy(levels, conv(self.coarse_inverse))

    def __repr__(self) -> str:
        shapes = " -> ".join("x".join(map(str, lv.shape)) for lv in self.levels)
        return f"Hierarchy({shapes}, {self.levels[0].center.dtype})"
