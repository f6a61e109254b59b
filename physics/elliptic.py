"""Sparse assembly of the elliptic operator ``-div(a grad p)`` on cell-centred grids.

Cell-centred finite volumes (the classic "5-point / 7-point" Poisson matrix of fluid
simulation and reservoir codes). Every fluid cell is one unknown. The flux through the face
between fluid cells ``i`` and ``j`` along axis ``d`` is ``T_ij (p_i - p_j)`` with the
transmissibility ``T_ij = a_f |face| / h_d`` and ``a_f = 2 a_i a_j / (a_i + a_j)`` (harmonic
mean). A Dirichlet wall (``p = 0`` on the box side) sits half a cell from the centre, so it adds
``2 a_i |face| / h_d`` to the diagonal; Neumann walls and faces between fluid and solid cells
carry no flux. The matrix therefore approximates ``-div(a grad p)`` integrated over each cell
(times the cell volume): it is symmetric, and positive definite when every connected fluid
region touches a Dirichlet face. The discretisation is second-order accurate for smooth ``a``
and ``p`` (see ``tests/physics/test_physics_elliptic.py``).

>>> from sciml.grid import Grid
>>> system = assemble_elliptic(Grid((4, 4), centering="cell"))
>>> system.n, system.matrix.shape, round(float(system.matrix[0, 0]), 6)
(16, (16, 16), 6.0)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components

from sciml.grid import Grid

__all__ = ["EllipticSystem", "assemble_elliptic", "WALL_KEYS"]

WALL_KEYS = ("x-", "x+", "y-", "y+", "z-", "z+")
_WALL_KINDS = ("dirichlet", "neumann")
_SINGULAR = ("error", "allow", "pin")


def _face_slices(n: int, periodic: bool):
    """Index arrays (left, right) along ``axis`` of the faces between neighbouring cells."""
    left = np.arange(n - 1)
    right = np.arange(1, n)
    if periodic and n > 1:
        left = np.append(left, n - 1)
        right = np.append(right, 0)
    return left, right


@dataclass
class EllipticSystem:
    """The assembled system for ``-div(a grad p)`` on the fluid cells of ``grid``.

    Attributes:
        matrix: ``scipy.sparse.csr_matrix [n, n]`` float64, symmetric; approximates
            ``-div(a grad p)`` times the cell volume (not divided by ``h^2``).
        active: ``BoolTensor[*shape]``, True where a cell is an unknown (fluid).
        grid: the cell-centred :class:`~sciml.grid.Grid`.
        n: number of unknowns.
        face_transmissibility: per axis, ``float64 ndarray`` of the face coefficients
            ``T`` between neighbouring cells (shape ``shape`` with ``n_d - 1`` along the axis,
            or ``n_d`` on a periodic axis, the last entry being the wrap-around face); zero on
            faces that touch a solid cell.
        wall_diagonal: ``float64 ndarray[*shape]``, the Dirichlet-wall contribution to the
            diagonal (zero away from Dirichlet walls and in solid cells).
        pinned: flat indices (into the unknowns) of the cells pinned to ``p = 0`` when
            ``on_singular="pin"``; empty otherwise.
    """

    matrix: sp.csr_matrix
    active: torch.Tensor
    grid: Grid
    n: int
    face_transmissibility: list[np.ndarray]
    wall_diagonal: np.ndarray
    pinned: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _pin_value: float = field(default=0.0, repr=False)
    _index: torch.Tensor | None = field(default=None, repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ helpers
    @property
    def index(self) -> torch.Tensor:
        """Flat (C-order) grid indices of the unknowns, ``LongTensor[n]``."""
        if self._index is None:
            self._index = torch.nonzero(self.active.reshape(-1), as_tuple=False)[:, 0]
        return self._index

    def rhs(self, forcing: torch.Tensor) -> torch.Tensor:
        """Right-hand side for ``-div(a grad p) = f``: ``f`` on the unknowns times the cell volume.

        ``forcing: [B, *shape]`` (or ``[*shape]``) -> ``[B, n]`` (or ``[n]``), same dtype.
        """
        return self.to_vector(forcing) * self.grid.cell_volume

    def to_torch(
        self, device: torch.device | str | None = None, dtype: torch.dtype = torch.float64
    ) -> torch.Tensor:
        """The matrix as a torch sparse CSR tensor ``[n, n]``."""
        m = self.matrix
        with warnings.catch_warnings():  # torch flags sparse CSR as "beta" on every construction
            warnings.simplefilter("ignore", UserWarning)
            return torch.sparse_csr_tensor(
                torch.as_tensor(m.indptr, dtype=torch.int64),
                torch.as_tensor(m.indices, dtype=torch.int64),
                torch.as_tensor(m.data, dtype=dtype),
                size=m.shape,
                check_invariants=False,
            ).to(device)

    def to_vector(self, field_: torch.Tensor) -> torch.Tensor:
        """``[B, *shape] -> [B, n]`` (fluid cells in C order); ``[*shape] -> [n]`` also works."""
        shape = self.grid.shape
        if not isinstance(field_, torch.Tensor):
            raise TypeError(f"field must be a torch.Tensor [B, *{list(shape)}], got {type(field_)}")
        if tuple(field_.shape[-len(shape) :]) != shape or field_.ndim not in (
            len(shape),
            len(shape) + 1,
        ):
            raise ValueError(
                f"field must have shape [B, *{list(shape)}] or {list(shape)}, "
                f"got {list(field_.shape)}"
            )
        flat = field_.reshape(*field_.shape[: field_.ndim - len(shape)], -1)
        return flat[..., self.index.to(field_.device)]

    def to_field(self, vec: torch.Tensor) -> torch.Tensor:
        """``[B, n] -> [B, *shape]`` with zeros in solid cells; ``[n] -> [*shape]`` also works."""
        if not isinstance(vec, torch.Tensor):
            raise TypeError(f"vec must be a torch.Tensor [B, {self.n}], got {type(vec)}")
        if vec.ndim not in (1, 2) or vec.shape[-1] != self.n:
            raise ValueError(
                f"vec must have shape [B, {self.n}] or [{self.n}], got {list(vec.shape)}"
            )
        lead = vec.shape[:-1]
        out = vec.new_zeros(*lead, self.grid.size)
        out[..., self.index.to(vec.device)] = vec
        return out.reshape(*lead, *self.grid.shape)

    def _operators(self, device: torch.device, dtype: torch.dtype):
        key = (str(device), dtype)
        if key not in self._cache:
            faces = [
                torch.as_tensor(t, dtype=dtype, device=device) for t in self.face_transmissibility
            ]
            diag = torch.as_tensor(self.wall_diagonal, dtype=dtype, device=device).clone()
            if len(self.pinned):
                flat = diag.reshape(-1)
                flat[self.index.to(device)[torch.as_tensor(self.pinned, device=device)]] += (
                    torch.as_tensor(self._pin_value, dtype=dtype, device=device)
                )
            self._cache[key] = (faces, diag)
        return self._cache[key]

    def matvec(self, x: torch.Tensor) -> torch.Tensor:
        """Matrix-free ``A x`` for ``x: [n]`` or ``[B, n]`` on any device (equals ``matrix @ x``).

        Differentiable with respect to ``x``. Uses only shifts and products on the grid.
        """
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor [B, {self.n}], got {type(x)}")
        if x.ndim not in (1, 2) or x.shape[-1] != self.n:
            raise ValueError(f"x must have shape [B, {self.n}] or [{self.n}], got {list(x.shape)}")
        squeeze = x.ndim == 1
        xb = x[None] if squeeze else x
        faces, diag = self._operators(xb.device, xb.dtype)
        p = self.to_field(xb)  # [B, *shape]
        out = p * diag
        for axis, t in enumerate(faces):
            d = axis + 1
            n = p.shape[d]
            if self.grid.periodic[axis] and n > 1:
                right = torch.roll(p, -1, dims=d)
                flux = t * (p - right)  # flux out of cell i into i+1 (wrap included)
                out = out + flux - torch.roll(flux, 1, dims=d)
            else:
                flux = t * (p.narrow(d, 0, n - 1) - p.narrow(d, 1, n - 1))
                zero = torch.zeros_like(p.narrow(d, 0, 1))
                out = out + torch.cat([flux, zero], dim=d) - torch.cat([zero, flux], dim=d)
        y = self.to_vector(out)
        return y[0] if squeeze else y


def _validate_walls(grid: Grid, walls: dict[str, str] | None) -> dict[str, str]:
    keys = WALL_KEYS[: 2 * grid.ndim]
    resolved = {k: "dirichlet" for k in keys}
    if walls is None:
        return resolved
    if not isinstance(walls, dict):
        raise TypeError(f"walls must be a dict like {{'x-': 'neumann'}}, got {type(walls)}")
    for k, v in walls.items():
        if k not in keys:
            raise ValueError(f"walls key {k!r} is not a side of this {grid.ndim}-D box; use {keys}")
        if not isinstance(v, str) or v.lower() not in _WALL_KINDS:
            raise ValueError(f"walls[{k!r}] must be one of {_WALL_KINDS}, got {v!r}")
        axis = keys.index(k) // 2
        if grid.periodic[axis]:
            raise ValueError(f"walls[{k!r}] given, but axis {axis} of the grid is periodic")
        resolved[k] = v.lower()
    return resolved


def assemble_elliptic(
    grid: Grid,
    *,
    coefficient: torch.Tensor | np.ndarray | None = None,
    solid: torch.Tensor | np.ndarray | None = None,
    walls: dict[str, str] | None = None,
    on_singular: str = "error",
    dirichlet_offset: float = 0.5,
) -> EllipticSystem:
    """Assemble cell-centred finite volumes of ``-div(a grad p)`` on ``grid`` (1-, 2- or 3-D).

    Args:
        grid: a cell-centred :class:`~sciml.grid.Grid` (periodic axes wrap around).
        coefficient: ``a > 0`` per cell, ``[*grid.shape]``; default 1 everywhere.
            Harmonic mean on faces. Values in solid cells are ignored.
        solid: ``bool [*grid.shape]``, True = solid (not an unknown; no flux through its faces).
        walls: per box side ``"x-", "x+", "y-", "y+", "z-", "z+"`` -> ``"dirichlet"``
            (``p = 0`` on that side) or ``"neumann"`` (no flux); default all Dirichlet.
            Sides of periodic axes must not be given.
        on_singular: what to do when a connected fluid region touches no Dirichlet face (its
            matrix block is singular, constants are in the null space):
            ``"error"`` (default) raises ``ValueError``; ``"allow"`` returns the singular,
            positive semi-definite matrix (the caller handles the null space, e.g. projects out
            the mean); ``"pin"`` fixes ``p = 0`` softly at the first cell of every such region
            by adding the matrix's largest diagonal entry to that cell's diagonal, which makes the
            matrix SPD (the solution then differs from a mean-free one by a constant per region).
        dirichlet_offset: distance from the outermost cell centres to a Dirichlet wall, in cell
            widths: 0.5 for a cell-centred grid whose box edge is the wall (default); 1.0 when
            the unknowns are the interior nodes of a vertex grid whose boundary nodes carry
            ``p = 0`` (the FNO Darcy layout; see :func:`sciml.physics.steppers.darcy.solve_darcy`).

    Returns:
        :class:`EllipticSystem` with ``matrix`` (scipy CSR ``[n, n]``), ``active``, ``grid``, ``n``.
    """
    if not isinstance(grid, Grid):
        raise TypeError(f"grid must be a sciml.grid.Grid, got {type(grid)}")
    if grid.centering != "cell":
        raise ValueError(
            "grid must be cell-centred (centering='cell') for finite volumes, "
            f"got {grid.centering!r}"
        )
    if not dirichlet_offset > 0:
        raise ValueError(f"dirichlet_offset must be > 0 (in cell widths), got {dirichlet_offset}")
    if on_singular not in _SINGULAR:
        raise ValueError(f"on_singular must be one of {_SINGULAR}, got {on_singular!r}")
    shape = grid.shape
    ndim = grid.ndim
    wall = _validate_walls(grid, walls)

    if coefficient is None:
        a = np.ones(shape)
    else:
        if isinstance(coefficient, torch.Tensor):
            coefficient = coefficient.detach().cpu().numpy()
        a = np.asarray(coefficient, dtype=np.float64)
        if a.shape != shape:
            raise ValueError(f"coefficient must have shape {list(shape)}, got {list(a.shape)}")
    if solid is None:
        fluid = np.ones(shape, dtype=bool)
    else:
        if isinstance(solid, torch.Tensor):
            solid = solid.detach().cpu().numpy()
        s = np.asarray(solid)
        if s.shape != shape or s.dtype != np.bool_:
            raise ValueError(
                f"solid must be a bool tensor of shape {list(shape)}, got {s.dtype} {list(s.shape)}"
            )
        fluid = ~s
    if not (np.isfinite(a[fluid]).all() and (a[fluid] > 0).all()):
        raise ValueError("coefficient must be finite and > 0 in every fluid cell")
    a = np.where(fluid, a, 1.0)

    n = int(fluid.sum())
    if n == 0:
        raise ValueError("solid covers every cell: there are no unknowns")
    index = np.full(shape, -1, dtype=np.int64)
    index[fluid] = np.arange(n)
    h = grid.spacing
    volume = grid.cell_volume

    rows, cols, vals = [], [], []
    diag = np.zeros(shape)
    faces = []
    for axis in range(ndim):
        scale = volume / h[axis] ** 2  # |face| / h
        left, right = _face_slices(shape[axis], grid.periodic[axis])
        a_l, a_r = np.take(a, left, axis=axis), np.take(a, right, axis=axis)
        f_l, f_r = np.take(fluid, left, axis=axis), np.take(fluid, right, axis=axis)
        both = f_l & f_r
        t = np.where(both, 2 * a_l * a_r / (a_l + a_r) * scale, 0.0)
        faces.append(t)
        i_l, i_r = np.take(index, left, axis=axis)[both], np.take(index, right, axis=axis)[both]
        tv = t[both]
        rows += [i_l, i_r, i_l, i_r]
        cols += [i_r, i_l, i_l, i_r]
        vals += [-tv, -tv, tv, tv]
        if not grid.periodic[axis]:
            for side, pos in (("-", 0), ("+", shape[axis] - 1)):
                if wall["xyz"[axis] + side] == "dirichlet":
                    sl = [slice(None)] * ndim
                    sl[axis] = pos
                    sl = tuple(sl)
                    diag[sl] += np.where(fluid[sl], a[sl] * scale / dirichlet_offset, 0.0)
    diag = np.where(fluid, diag, 0.0)
    rows.append(index[fluid])
    cols.append(index[fluid])
    vals.append(diag[fluid])
    matrix = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    matrix.sum_duplicates()
    matrix.eliminate_zeros()

    # every connected fluid region needs a Dirichlet face, otherwise the block is singular
    pinned = np.zeros(0, dtype=np.int64)
    pin_value = 0.0
    ncomp, labels = connected_components(matrix, directed=False)
    anchored = np.zeros(ncomp, dtype=bool)
    anchored[np.unique(labels[diag[fluid] > 0])] = True
    if not anchored.all():
        floating = np.flatnonzero(~anchored)
        if on_singular == "error":
            raise ValueError(
                f"{len(floating)} connected fluid region(s) touch no Dirichlet wall, so the matrix "
                "is singular (constants in its null space); give a Dirichlet wall, or pass "
                "on_singular='allow' (PSD matrix) or 'pin' (fix p=0 at one cell per region)"
            )
        if on_singular == "pin":
            _, first_of = np.unique(labels, return_index=True)  # first cell of each region
            first = first_of[floating].astype(np.int64)
            pin_value = float(np.abs(matrix.diagonal()).max())
            matrix = matrix + sp.csr_matrix(
                (np.full(len(first), pin_value), (first, first)), shape=(n, n)
            )
            pinned = first
    system = EllipticSystem(
        matrix=matrix.tocsr(),
        active=torch.as_tensor(fluid),
        grid=grid,
        n=n,
        face_transmissibility=faces,
        wall_diagonal=diag,
        pinned=pinned,
    )
    system._pin_value = pin_value
    return system
