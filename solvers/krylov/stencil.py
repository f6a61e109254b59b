"""The variable-coefficient 5-point (2-D) / 7-point (3-D) stencil of ``-div(a grad p)`` as one
elementwise expression on the grid, for fused and compiled Krylov loops.

:class:`StencilOperator` applies the matrix of :func:`sciml.physics.elliptic.assemble_elliptic`
without a sparse matrix: the coefficients are the engine's own face transmissibilities and
Dirichlet-wall diagonal (:meth:`EllipticSystem._operators`), nothing is re-derived. With
``T_d`` the transmissibility of the face between cell ``i`` and ``i + e_d`` (zero on faces that
touch a solid cell or leave the box),

    (A p)_i = c_i p_i - sum_d [ T_d,i p_{i+e_d} + T_d,{i-e_d} p_{i-e_d} ],
    c_i = w_i + sum_d (T_d,i + T_d,{i-e_d}),

where ``w`` is the Dirichlet-wall contribution (and a pinned cell's extra diagonal). Per
application this reads ``p``, ``c`` and the ``ndim`` face arrays and writes ``A p``: ``ndim + 3``
arrays of the grid's size, the least a variable-coefficient stencil can move. Written as
shifts of whole arrays (:func:`stencil_apply`), ``torch.compile`` turns it into a single loop
(one Triton kernel on CUDA, one C++ loop nest on the CPU); eager torch runs it as a handful of
vectorised ops.

Solid cells are kept in the field layout as zeros: their diagonal and all their faces are zero,
so ``A`` maps a field that vanishes on solids to one that does too, and Krylov iterates on
fields ``[B, *shape]`` equal those on the unknowns ``[B, n]`` (dot products agree because the
solid entries are zero).

>>> from sciml.grid import Grid
>>> from sciml.physics.elliptic import assemble_elliptic
>>> system = assemble_elliptic(Grid((6, 5), centering="cell"))
>>> op = StencilOperator.from_system(system)
>>> x = torch.randn(3, system.n, dtype=torch.float64)
>>> ref = torch.from_numpy(system.matrix @ x.numpy().T).T
>>> bool((op(x) - ref).abs().max() < 1e-12)
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    import scipy.sparse as sp

    from sciml.physics.elliptic import EllipticSystem

__all__ = ["StencilOperator", "stencil_apply"]


def _shift(x: torch.Tensor, axis: int, offset: int) -> torch.Tensor:
    """``y_i = x_{i + offset}`` along ``axis`` (``offset = +-1``), zero where that leaves the box."""
    n = x.shape[axis]
    pad = [0, 0] * (x.ndim - 1 - axis)
    if offset > 0:
        return F.pad(x.narrow(axis, 1, n - 1), [*pad, 0, 1])
    return F.pad(x.narrow(axis, 0, n - 1), [*pad, 1, 0])


def stencil_apply(
    p: torch.Tensor,
    center: torch.Tensor,
    faces: list[torch.Tensor] | tuple[torch.Tensor, ...],
    periodic: tuple[bool, ...],
) -> torch.Tensor:
    """``A p`` on fields: ``p: [B, *S]``, ``center: [*S]``, ``faces[d]: [*S]`` -> ``[B, *S]``.

    ``faces[d][i]`` is the transmissibility between cells ``i`` and ``i + e_d`` (the
    wrap-around face at the last index of a periodic axis; zero there otherwise). A pure
    function of its arguments. Two formulations with the same operations in the same order:
    under ``torch.compile`` zero-padded shifts of whole arrays (which inductor fuses, with the
    vector updates of a Krylov step around it, into one loop); in eager mode in-place
    multiply-subtracts on slices (3-4x fewer temporaries than the shifts).
    """
    lead = p.ndim - len(faces)
    y = center * p
    compiling = torch.compiler.is_compiling()
    for d, (t, per) in enumerate(zip(faces, periodic)):
        ax = lead + d
        if per:
            y = y - t * torch.roll(p, -1, ax) - torch.roll(t * p, 1, ax)
        elif compiling:
            y = y - t * _shift(p, ax, +1) - _shift(t * p, ax, -1)
        else:
            n = p.shape[ax]
            tp = t.narrow(d, 0, n - 1)
            y.narrow(ax, 0, n - 1).addcmul_(tp, p.narrow(ax, 1, n - 1), value=-1)
            y.narrow(ax, 1, n - 1).addcmul_(tp, p.narrow(ax, 0, n - 1), value=-1)
    return y


class StencilOperator:
    """``A`` of an :class:`~sciml.physics.elliptic.EllipticSystem` as a grid stencil.

    Applies to vectors on the unknowns (``x: [n]`` or ``[B, n]``, like the sparse matrix; so
    it plugs into :func:`~sciml.solvers.krylov.cg.cg` through ``as_operator``, which sees its
    ``matrix`` and ``matvec``) and to fields ``[B, *shape]`` (:meth:`apply_field`, what the
    fused solver iterates on).

    Attributes:
        center: ``[*shape]`` diagonal (zero in solid cells).
        faces: per axis ``[*shape]`` face transmissibilities towards ``i + e_d``.
        periodic: per axis.
        active: ``BoolTensor[*shape]`` unknown (fluid) cells.
        n: number of unknowns; ``shape``: the grid shape.
        matrix: the assembled scipy CSR matrix (for preconditioners that need one).
    """

    def __init__(
        self,
        center: torch.Tensor,
        faces: list[torch.Tensor],
        periodic: tuple[bool, ...],
        active: torch.Tensor,
        *,
        matrix: sp.csr_matrix | None = None,
    ) -> None:
        if len(faces) != center.ndim or len(periodic) != center.ndim:
            raise ValueError(
                f"need one face array and one periodic flag per axis of center {list(center.shape)}"
            )
        for d, t in enumerate(faces):
            if t.shape != center.shape:
                raise ValueError(
                    f"faces[{d}] must have the shape of center {list(center.shape)}, "
                    f"got {list(t.shape)}"
                )
        if active.shape != center.shape or active.dtype != torch.bool:
            raise ValueError(f"active must be a bool tensor of shape {list(center.shape)}")
        self.center = center
        self.faces = list(faces)
        self.periodic = tuple(bool(p) for p in periodic)
        self.active = active.to(center.device)
        self.shape = tuple(center.shape)
        self.n = int(self.active.sum())
        self.matrix = matrix
        self._dense = self.n == self.active.numel()
        self._index = None if self._dense else torch.nonzero(self.active.reshape(-1))[:, 0]

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_system(
        cls,
        system: EllipticSystem,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> StencilOperator:
        """The stencil of an assembled system (its own coefficients, on ``device``/``dtype``)."""
        if not (hasattr(system, "_operators") and hasattr(system, "grid")):
            raise TypeError(
                f"system must be a sciml.physics.elliptic.EllipticSystem, got {type(system)}"
            )
        device = torch.device("cpu") if device is None else torch.device(device)
        face_list, wall = system._operators(device, dtype)  # the engine's coefficients
        shape = system.grid.shape
        faces, center = [], wall.clone()
        for d, (t, per) in enumerate(zip(face_list, system.grid.periodic)):
            if not (per and shape[d] > 1):  # pad the missing last face with zero
                pad = [0, 0] * (len(shape) - 1 - d)
                t = F.pad(t, [*pad, 0, 1])
            faces.append(t.contiguous())
            center = center + t + (torch.roll(t, 1, d) if per else _shift(t, d, -1))
        periodic = tuple(bool(p and n > 1) for p, n in zip(system.grid.periodic, shape))
        return cls(center, faces, periodic, system.active, matrix=system.matrix)

    @classmethod
    def from_matrix(
        cls,
        matrix,
        active: torch.Tensor,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> StencilOperator:
        """The stencil of a user's symmetric matrix on a grid (non-periodic).

        Args:
            matrix: scipy sparse ``[n, n]``, unknown ``i`` the ``i``-th active cell in C order;
                its off-diagonal entries must couple face neighbours only (5-/7-point).
            active: ``BoolTensor[*shape]`` (``n`` True cells).

        Raises:
            ValueError: sizes disagree, or ``matrix`` has entries outside the stencil.
        """

        A = sp.csr_matrix(matrix)
        fluid = active.cpu().numpy().astype(bool)
        shape, n = fluid.shape, int(fluid.sum())
        if A.shape != (n, n):
            raise ValueError(f"matrix must be [{n}, {n}] (one row per active cell), got {A.shape}")
        flat = np.flatnonzero(fluid.ravel())
        index = np.full(fluid.size, -1, dtype=np.int64)
        index[flat] = np.arange(n)
        coords = np.unravel_index(flat, shape)
        strides = np.cumprod((1, *shape[::-1]))[:-1][::-1]
        center = np.zeros(fluid.size)
        center[flat] = A.diagonal()
        faces, matched = [], 0
        for d in range(len(shape)):
            rows = np.flatnonzero(coords[d] + 1 < shape[d])
            cols = index[flat[rows] + strides[d]]
            rows, cols = rows[cols >= 0], cols[cols >= 0]
            vals = np.asarray(A[rows, cols], dtype=np.float64).ravel()
            matched += 2 * int(np.count_nonzero(vals))
            t = np.zeros(fluid.size)
            t[flat[rows]] = -vals
            faces.append(torch.from_numpy(t.reshape(shape)).to(device=device, dtype=dtype))
        off = A.copy()
        off.setdiag(0)
        off.eliminate_zeros()
        if off.nnz != matched:
            raise ValueError(
                f"matrix has {off.nnz - matched} off-diagonal entries that do not couple face "
                "neighbours of the grid (not a 5-/7-point stencil)"
            )
        center_t = torch.from_numpy(center.reshape(shape)).to(device=device, dtype=dtype)
        return cls(center_t, faces, (False,) * len(shape), torch.from_numpy(fluid), matrix=A)

    def to(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> StencilOperator:
        """A copy on ``device`` / in ``dtype``."""
        dtype = dtype or self.center.dtype
        conv = lambda t: t.to(device=device, dtype=dtype).contiguous()  # noqa: E731
        return StencilOperator(
            conv(self.center),
            [conv(t) for t in self.faces],
            self.periodic,
            self.active.to(device),
            matrix=self.matrix,
        )

    @property
    def device(self) -> torch.device:
        return self.center.device

    @property
    def dtype(self) -> torch.dtype:
        return self.center.dtype

    # ------------------------------------------------------------------ layouts
    def to_field(self, vec: torch.Tensor) -> torch.Tensor:
        """``[B, n] -> [B, *shape]`` (zeros in solid cells)."""
        if self._dense:
            return vec.reshape(vec.shape[0], *self.shape)
        out = vec.new_zeros(vec.shape[0], self.active.numel())
        out[:, self._index.to(vec.device)] = vec
        return out.reshape(vec.shape[0], *self.shape)

    def to_vector(self, field: torch.Tensor) -> torch.Tensor:
        """``[B, *shape] -> [B, n]`` (the unknowns in C order)."""
        flat = field.reshape(field.shape[0], -1)
        return flat if self._dense else flat[:, self._index.to(field.device)]

    # ------------------------------------------------------------------ application
    def apply_field(self, p: torch.Tensor) -> torch.Tensor:
        """``A p`` for fields ``p: [B, *shape]`` that vanish on solid cells -> ``[B, *shape]``."""
        if p.shape[1:] != self.shape:
            raise ValueError(f"p must have shape [B, *{list(self.shape)}], got {list(p.shape)}")
        center, faces = self.center, self.faces
        if center.device != p.device or center.dtype != p.dtype:
            center = center.to(p.device, p.dtype)
            faces = [t.to(p.device, p.dtype) for t in faces]
        return stencil_apply(p, center, faces, self.periodic)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``A x`` for ``x: [n]`` or ``[B, n]`` (same shape out), like ``matrix @ x``."""
        if not isinstance(x, torch.Tensor) or x.ndim not in (1, 2) or x.shape[-1] != self.n:
            shape = list(x.shape) if isinstance(x, torch.Tensor) else type(x)
            raise ValueError(f"x must be a tensor [B, {self.n}] or [{self.n}], got {shape}")
        squeeze = x.ndim == 1
        xb = x[None] if squeeze else x
        y = self.to_vector(self.apply_field(self.to_field(xb)))
        return y[0] if squeeze else y

    matvec = __call__

    def diagonal(self) -> torch.Tensor:
        """The diagonal on the unknowns, ``[n]``."""
        return self.to_vector(self.center[None])[0]

    def __repr__(self) -> str:
        return (
            f"StencilOperator(shape={self.shape}, n={self.n}, {len(self.shape) * 2 + 1}-point, "
            f"{self.dtype}, {self.device})"
        )
