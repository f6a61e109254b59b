"""Unstructured meshes: meshio I/O, the dolfinx bridge, and P1 transfer to and from Grids.

A :class:`Mesh` holds ``points [N, gdim]`` and one block of ``cells [M, k]`` of a single
type (``triangle``, ``quad``, ``tetra``, ``hexahedron``; meshio's names and VTK node
order), with optional integer ``cell_markers [M]`` and marked boundary ``facets [F, kf]``
with ``facet_markers [F]``.

Transfer of nodal (P1) values:

* mesh -> points/grid: :meth:`Mesh.interpolation_matrix` locates each point in a cell
  (vectorised bucket search, no Python loop over points) and returns the sparse matrix
  of barycentric weights; quadrilaterals and hexahedra are split into simplices, so
  linear functions are reproduced exactly.
* grid -> mesh nodes: :meth:`Mesh.from_grid` uses :meth:`sciml.grid.Grid.interpolate`.

dolfinx is imported only inside :meth:`Mesh.to_dolfinx` and :meth:`Mesh.from_dolfinx`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import meshio
import numpy as np
import scipy.sparse as sp
import torch
from scipy.spatial import cKDTree

from sciml.grid import Grid

if TYPE_CHECKING:  # pragma: no cover
    import dolfinx
    import meshio
    from mpi4py import MPI

__all__ = ["Mesh"]

# nodes per cell, topological dimension, and facet type of each supported cell type
CELL_TYPES: dict[str, tuple[int, int, str]] = {
    "triangle": (3, 2, "line"),
    "quad": (4, 2, "line"),
    "tetra": (4, 3, "triangle"),
    "hexahedron": (8, 3, "quad"),
}
# meshio/VTK node order -> dolfinx (tensor-product) node order
_TO_DOLFINX = {"quad": [0, 1, 3, 2], "hexahedron": [0, 1, 3, 2, 4, 5, 7, 6]}
_DOLFINX_NAMES = {
    "triangle": "triangle",
    "quad": "quadrilateral",
    "tetra": "tetrahedron",
    "hexahedron": "hexahedron",
}
# simplex split of the composite cells (VTK order); exact for linear functions
_SPLIT = {
    "quad": np.array([[0, 1, 2], [0, 2, 3]]),
    "hexahedron": np.array(
        [[0, 1, 2, 6], [0, 2, 3, 6], [0, 3, 7, 6], [0, 7, 4, 6], [0, 4, 5, 6], [0, 5, 1, 6]]
    ),
}
_OUTSIDE = ("raise", "nan", "nearest")


def _as_indices(values: Any, name: str) -> np.ndarray:
    """``values`` as int64 node indices; non-integers are an error, never truncated."""
    try:
        arr = np.asarray(values)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array of node indices ({exc})") from None
    if arr.size == 0 and arr.dtype.kind not in "iu":
        arr = arr.astype(np.int64)
    if arr.dtype.kind == "f":
        if not (np.isfinite(arr).all() and (arr == np.round(arr)).all()):
            raise ValueError(f"{name} must hold whole-number node indices")
        if arr.size and np.abs(arr).max() >= 2**62:
            raise ValueError(f"{name} holds node indices out of range")
    elif arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer node indices, got dtype {arr.dtype}")
    if arr.dtype.kind == "u" and arr.size and arr.max() >= 2**62:
        raise ValueError(f"{name} holds node indices out of range")
    return arr.astype(np.int64)


def _as_markers(values: Any, name: str) -> np.ndarray:
    """``values`` as a flat int32 marker array (whole numbers within the int32 range)."""
    arr = _as_indices(values, name).reshape(-1)
    if arr.size and (arr.min() < -(2**31) or arr.max() >= 2**31):
        raise ValueError(f"{name} must fit in 32-bit integers")
    return arr.astype(np.int32)


@dataclass
class Mesh:
    """Points, one block of cells, and optional markers.

    Args:
        points: ``[N, gdim]`` float coordinates (gdim 2 or 3).
        cells: ``[M, k]`` node indices, VTK/meshio order.
        cell_type: ``"triangle"``, ``"quad"``, ``"tetra"`` or ``"hexahedron"``.
        cell_markers: optional ``[M]`` integers (subdomains).
        facets: optional ``[F, kf]`` node indices of marked facets.
        facet_markers: optional ``[F]`` integers (boundary ids).
    """

    points: np.ndarray
    cells: np.ndarray
    cell_type: str
    cell_markers: np.ndarray | None = None
    facets: np.ndarray | None = None
    facet_markers: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.cell_type not in CELL_TYPES:
            raise ValueError(
                f"cell_type must be one of {sorted(CELL_TYPES)}, got {self.cell_type!r}"
            )
        k, tdim, _ = CELL_TYPES[self.cell_type]
        self.points = np.ascontiguousarray(np.asarray(self.points, dtype=np.float64))
        if self.points.ndim != 2 or self.points.shape[1] not in (2, 3):
            raise ValueError(f"points must have shape [N, 2] or [N, 3], got {self.points.shape}")
        if self.points.shape[1] < tdim:
            raise ValueError(f"points must have at least {tdim} coordinates for {self.cell_type}")
        if not np.isfinite(self.points).all():
            raise ValueError("points contains NaN or infinite coordinates")
        self.cells = np.ascontiguousarray(_as_indices(self.cells, "cells"))
        if self.cells.ndim != 2 or self.cells.shape[1] != k:
            raise ValueError(
                f"cells must have shape [M, {k}] for {self.cell_type}, got {self.cells.shape}"
            )
        if self.cells.size and (self.cells.min() < 0 or self.cells.max() >= len(self.points)):
            raise ValueError(f"cells must index points in [0, {len(self.points)})")
        if self.cell_markers is not None:
            self.cell_markers = _as_markers(self.cell_markers, "cell_markers")
            if len(self.cell_markers) != len(self.cells):
                raise ValueError(
                    f"cell_markers must have one entry per cell ({len(self.cells)}), "
                    f"got {len(self.cell_markers)}"
                )
        if (self.facets is None) != (self.facet_markers is None):
            raise ValueError("facets and facet_markers must be given together")
        if self.facets is not None:
            self.facets = _as_indices(self.facets, "facets")
            self.facet_markers = _as_markers(self.facet_markers, "facet_markers")
            if self.facets.ndim != 2 or len(self.facets) != len(self.facet_markers):
                raise ValueError("facets must be [F, kf] with one facet_marker per facet")
        self._locator: _Locator | None = None

    # ----------------------------------------------------------------- basics
    @property
    def gdim(self) -> int:
        return self.points.shape[1]

    @property
    def tdim(self) -> int:
        return CELL_TYPES[self.cell_type][1]

    @property
    def num_points(self) -> int:
        return len(self.points)

    @property
    def num_cells(self) -> int:
        return len(self.cells)

    def bounds(self) -> tuple[tuple[float, float], ...]:
        """Axis-aligned bounding box ``((lo, hi), ...)``."""
        return tuple(
            (float(lo), float(hi)) for lo, hi in zip(self.points.min(0), self.points.max(0))
        )

    def simplices(self) -> np.ndarray:
        """Cells as simplices ``[M', tdim + 1]`` (quads/hexes split; exact for P1)."""
        if self.cell_type in _SPLIT:
            return self.cells[:, _SPLIT[self.cell_type]].reshape(-1, self.tdim + 1)
        return self.cells

    # ------------------------------------------------------------ generators
    @classmethod
    def rectangle(
        cls,
        nx: int,
        ny: int,
        bounds: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 1.0), (0.0, 1.0)),
        cell_type: str = "triangle",
    ) -> Mesh:
        """Structured mesh of a rectangle; facet markers 1..4 = left, right, bottom, top."""
        if cell_type not in ("triangle", "quad"):
            raise ValueError(f"cell_type must be 'triangle' or 'quad', got {cell_type!r}")
        if nx < 1 or ny < 1:
            raise ValueError(f"nx and ny must be >= 1, got {nx}, {ny}")
        x = np.linspace(*bounds[0], nx + 1)
        y = np.linspace(*bounds[1], ny + 1)
        X, Y = np.meshgrid(x, y, indexing="ij")
        pts = np.stack([X.ravel(), Y.ravel()], 1)
        node = np.arange((nx + 1) * (ny + 1)).reshape(nx + 1, ny + 1)
        a, b = node[:-1, :-1].ravel(), node[1:, :-1].ravel()
        c, d = node[1:, 1:].ravel(), node[:-1, 1:].ravel()
        if cell_type == "quad":
            cells = np.stack([a, b, c, d], 1)
        else:
            cells = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])
        sides = [node[0, :], node[-1, :], node[:, 0], node[:, -1]]
        facets = np.concatenate([np.stack([s[:-1], s[1:]], 1) for s in sides])
        markers = np.concatenate([np.full(len(s) - 1, i + 1) for i, s in enumerate(sides)])
        return cls(pts, cells, cell_type, facets=facets, facet_markers=markers)

    @classmethod
    def box(
        cls,
        nx: int,
        ny: int,
        nz: int,
        bounds: tuple[tuple[float, float], ...] = ((0.0, 1.0),) * 3,
        cell_type: str = "tetra",
    ) -> Mesh:
        """Structured mesh of a box (tetrahedra: each hexahedron split into six)."""
        if cell_type not in ("tetra", "hexahedron"):
            raise ValueError(f"cell_type must be 'tetra' or 'hexahedron', got {cell_type!r}")
        if min(nx, ny, nz) < 1:
            raise ValueError(f"nx, ny, nz must be >= 1, got {nx}, {ny}, {nz}")
        axes = [np.linspace(*bounds[i], n + 1) for i, n in enumerate((nx, ny, nz))]
        pts = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], 1)
        node = np.arange(len(pts)).reshape(nx + 1, ny + 1, nz + 1)
        corner = [
            node[i : nx + i, j : ny + j, k : nz + k].ravel()
            for (i, j, k) in [
                (0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0),
                (0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1),
            ]
        ]  # fmt: skip
        hexes = np.stack(corner, 1)
        if cell_type == "hexahedron":
            return cls(pts, hexes, "hexahedron")
        return cls(pts, hexes[:, _SPLIT["hexahedron"]].reshape(-1, 4), "tetra")

    @classmethod
    def rectangle_with_holes(
        cls,
        holes: list[tuple[float, float, float]],
        bounds: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 1.0), (0.0, 1.0)),
        h: float = 0.05,
    ) -> Mesh:
        """Triangle mesh (gmsh) of a rectangle minus circular ``holes`` ``(cx, cy, r)``.

        Facet markers as :meth:`rectangle` (1..4 = left, right, bottom, top) and 5 = holes.
        """
        # heavy optional dependency (gmsh): loaded when first used
        import gmsh

        (x0, x1), (y0, y1) = bounds
        for cx, cy, r in holes:
            if r <= 0 or cx - r <= x0 or cx + r >= x1 or cy - r <= y0 or cy + r >= y1:
                raise ValueError(f"hole {(cx, cy, r)} must lie strictly inside bounds {bounds}")
        if h <= 0:
            raise ValueError(f"h must be > 0, got {h}")
        owns = not gmsh.isInitialized()
        if owns:
            gmsh.initialize(["-noenv"], readConfigFiles=False)
        try:
            gmsh.option.setNumber("General.Terminal", 0)
            gmsh.model.add("rectangle_with_holes")
            occ = gmsh.model.occ
            rect = occ.addRectangle(x0, y0, 0, x1 - x0, y1 - y0)
            discs = [(2, occ.addDisk(cx, cy, 0, r, r)) for cx, cy, r in holes]
            if discs:
                occ.cut([(2, rect)], discs)
            occ.synchronize()
            gmsh.option.setNumber("Mesh.CharacteristicLengthMax", h)
            gmsh.option.setNumber("Mesh.CharacteristicLengthMin", h / 2)
            gmsh.model.mesh.generate(2)
            tags, coords, _ = gmsh.model.mesh.getNodes()
            index = np.full(int(tags.max()) + 1, -1, dtype=np.int64)
            index[tags.astype(np.int64)] = np.arange(len(tags))
            pts = coords.reshape(-1, 3)[:, :2]
            etypes, _, enodes = gmsh.model.mesh.getElements(2)
            cells = index[np.asarray(enodes[list(etypes).index(2)], dtype=np.int64)].reshape(-1, 3)
            facets, markers = [], []
            tol = 1e-5 * max(x1 - x0, y1 - y0)  # OCC pads bounding boxes by ~1e-7
            for dim, tag in gmsh.model.getEntities(1):
                bx0, by0, _, bx1, by1, _ = gmsh.model.getBoundingBox(dim, tag)
                marker = 5  # a hole
                if abs(bx1 - bx0) < tol and abs(bx0 - x0) < tol:
                    marker = 1
                elif abs(bx1 - bx0) < tol and abs(bx0 - x1) < tol:
                    marker = 2
                elif abs(by1 - by0) < tol and abs(by0 - y0) < tol:
                    marker = 3
                elif abs(by1 - by0) < tol and abs(by0 - y1) < tol:
                    marker = 4
                _, _, lnodes = gmsh.model.mesh.getElements(dim, tag)
                seg = index[np.asarray(lnodes[0], dtype=np.int64)].reshape(-1, 2)
                facets.append(seg)
                markers.append(np.full(len(seg), marker))
        finally:
            gmsh.model.remove()
            if owns:
                gmsh.finalize()
        used = np.unique(cells)
        remap = np.full(len(pts), -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        facets_arr = remap[np.concatenate(facets)]
        return cls(
            pts[used], remap[cells], "triangle",
            facets=facets_arr, facet_markers=np.concatenate(markers),
        )  # fmt: skip

    # -------------------------------------------------------------------- I/O
    def to_meshio(self) -> meshio.Mesh:
        """This mesh as a :class:`meshio.Mesh` (markers as the ``"markers"`` cell data)."""

        blocks = [(self.cell_type, self.cells)]
        data: dict[str, list] = {}
        if self.facets is not None:
            ftype = CELL_TYPES[self.cell_type][2]
            blocks.insert(0, (ftype, self.facets))
            cm = self.cell_markers if self.cell_markers is not None else np.zeros(self.num_cells)
            data["markers"] = [self.facet_markers, cm.astype(np.int32)]
        elif self.cell_markers is not None:
            data["markers"] = [self.cell_markers]
        return meshio.Mesh(self.points, blocks, cell_data=data)

    @classmethod
    def from_meshio(cls, m: meshio.Mesh) -> Mesh:
        """The highest-dimensional cells of ``m``, its facets and markers (``"markers"``,
        ``"gmsh:physical"`` or ``"medit:ref"`` cell data) as a :class:`Mesh`."""
        blocks = [(b.type, b.data) for b in m.cells]
        kinds = [t for t, _ in blocks if t in CELL_TYPES]
        if not kinds:
            raise ValueError(f"mesh has no supported cells (found {[t for t, _ in blocks]})")
        tdim = max(CELL_TYPES[t][1] for t in kinds)
        ctype = next(t for t in kinds if CELL_TYPES[t][1] == tdim)
        ftype = CELL_TYPES[ctype][2]
        key = next((k for k in ("markers", "gmsh:physical", "medit:ref") if k in m.cell_data), None)

        def gather(kind: str) -> tuple[np.ndarray | None, np.ndarray | None]:
            idx = [i for i, (t, _) in enumerate(blocks) if t == kind]
            if not idx:
                return None, None
            data = np.concatenate([blocks[i][1] for i in idx])
            mk = np.concatenate([m.cell_data[key][i] for i in idx]) if key else None
            return data, mk

        cells, cmark = gather(ctype)
        facets, fmark = gather(ftype) if tdim > 1 else (None, None)
        if facets is not None and fmark is None:
            facets = None
        gdim = 2 if tdim == 2 and np.allclose(m.points[:, 2:], 0) else m.points.shape[1]
        return cls(m.points[:, :gdim], cells, ctype, cmark, facets, fmark)

    def write(self, path: str | Path) -> None:
        """Write with meshio; the format follows the suffix (.xdmf, .vtu, .msh, ...)."""

        path = Path(path)
        if not path.parent.exists():
            raise FileNotFoundError(f"path: folder {path.parent} does not exist")
        formats = meshio.extension_to_filetypes.get(path.suffix.lower())
        if not formats:
            raise ValueError(
                f"path: unknown mesh format {path.suffix!r} for {path}; use one of "
                f"{sorted(meshio.extension_to_filetypes)}"
            )
        m = self.to_meshio()
        if "gmsh" in formats:
            data = m.cell_data.get("markers")
            if data is None:
                data = [np.zeros(len(b.data), dtype=np.int32) for b in m.cells]
            m.cell_data = {"gmsh:physical": data, "gmsh:geometrical": data}
            meshio.write(path, m, file_format="gmsh22", binary=False)
        else:
            meshio.write(path, m)

    @classmethod
    def read(cls, path: str | Path) -> Mesh:
        """Read any format meshio knows (XDMF, VTU, Gmsh .msh, ...)."""

        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"path: mesh file {path} does not exist")
        try:
            m = meshio.read(path)
        except meshio.ReadError as exc:
            raise ValueError(f"path: cannot read {path} as a mesh ({exc})") from None
        return cls.from_meshio(m)

    # ---------------------------------------------------------------- dolfinx
    def to_dolfinx(self, comm: MPI.Comm | None = None, *, root: int = 0) -> tuple[Any, Any, Any]:
        """Create a distributed dolfinx mesh (data taken from rank ``root``).

        Returns ``(mesh, cell_tags, facet_tags)``; the tags are ``None`` when there
        are no markers.
        """
        import dolfinx_solver  # noqa: F401  (orders MPI before dolfinx)

        # heavy optional dependency (FEniCSx): loaded when first used
        import basix.ufl

        # heavy optional dependency (FEniCSx): loaded when first used
        import dolfinx

        # heavy optional dependency (MPI (import dolfinx_solver first)): loaded when first used
        from mpi4py import MPI

        comm = comm or MPI.COMM_WORLD
        on_root = comm.rank == root
        k = CELL_TYPES[self.cell_type][0]
        perm = _TO_DOLFINX.get(self.cell_type, list(range(k)))
        cells = self.cells[:, perm] if on_root else np.empty((0, k), dtype=np.int64)
        pts = self.points if on_root else np.empty((0, self.gdim))
        element = basix.ufl.element(
            "Lagrange", _DOLFINX_NAMES[self.cell_type], 1, shape=(self.gdim,)
        )
        mesh = dolfinx.mesh.create_mesh(comm, cells, element, pts)
        tdim = self.tdim
        cell_tags = facet_tags = None
        if self.cell_markers is not None:
            local = np.arange(mesh.topology.index_map(tdim).size_local, dtype=np.int32)
            # original_cell_index: input index of each local cell
            values = comm.bcast(self.cell_markers if on_root else None, root=root)
            orig = np.asarray(mesh.topology.original_cell_index)[: len(local)]
            cell_tags = dolfinx.mesh.meshtags(mesh, tdim, local, values[orig].astype(np.int32))
        if self.facets is not None:
            fperm = _TO_DOLFINX.get(
                CELL_TYPES[self.cell_type][2], list(range(self.facets.shape[1]))
            )
            ents = (
                self.facets[:, fperm] if on_root else np.empty((0, self.facets.shape[1]), np.int64)
            )
            vals = self.facet_markers if on_root else np.empty(0, np.int32)
            ents, vals = dolfinx.io.distribute_entity_data(mesh, tdim - 1, ents, vals)
            mesh.topology.create_connectivity(tdim - 1, tdim)
            facet_tags = dolfinx.mesh.meshtags_from_entities(
                mesh, tdim - 1, dolfinx.graph.adjacencylist(ents), vals.astype(np.int32)
            )
        return mesh, cell_tags, facet_tags

    @classmethod
    def from_dolfinx(cls, mesh: dolfinx.mesh.Mesh, *, root: int = 0) -> Mesh | None:
        """Gather a (P1-geometry) dolfinx mesh to rank ``root`` in its input numbering.

        Returns the Mesh on ``root`` and ``None`` on the other ranks.
        """
        import dolfinx_solver  # noqa: F401

        comm = mesh.comm
        tdim = mesh.topology.dim
        name = mesh.topology.cell_name()
        ctype = {v: k for k, v in _DOLFINX_NAMES.items()}.get(name)
        if ctype is None:
            raise ValueError(f"mesh: unsupported dolfinx cell type {name!r}")
        n_local_cells = mesh.topology.index_map(tdim).size_local
        dofmap = np.asarray(mesh.geometry.dofmaps[0])[:n_local_cells]
        gidx = np.asarray(mesh.geometry.input_global_indices, dtype=np.int64)
        x = np.asarray(mesh.geometry.x)[:, : mesh.geometry.dim]
        cells_global = gidx[dofmap]
        orig = np.asarray(mesh.topology.original_cell_index, dtype=np.int64)[:n_local_cells]
        parts = comm.gather((gidx, x, cells_global, orig), root=root)
        if comm.rank != root:
            return None
        n_pts = 1 + max(int(p[0].max()) if len(p[0]) else -1 for p in parts)
        pts = np.empty((n_pts, x.shape[1]))
        for g, xx, _, _ in parts:
            pts[g] = xx
        cells = np.concatenate([p[2] for p in parts])
        order = np.argsort(np.concatenate([p[3] for p in parts]), kind="stable")
        inv = np.argsort(_TO_DOLFINX.get(ctype, list(range(cells.shape[1]))))
        return cls(pts, cells[order][:, inv], ctype)

    # --------------------------------------------------------------- transfer
    def interpolation_matrix(
        self, points: np.ndarray | torch.Tensor, outside: str = "raise", tol: float = 1e-10
    ) -> sp.csr_matrix | _NanRows:
        """Sparse P1 interpolation matrix ``W [P, N]``: ``values_at_points = W @ nodal``.

        Args:
            points: ``[P, gdim]`` query points (numpy or torch).
            outside: what to do with points in no cell: ``"raise"`` (ValueError),
                ``"nan"`` (rows give NaN), or ``"nearest"`` (value of the nearest node).
            tol: barycentric tolerance relative to 1 for points on cell boundaries.
        """
        if outside not in _OUTSIDE:
            raise ValueError(f"outside must be one of {_OUTSIDE}, got {outside!r}")
        if isinstance(points, torch.Tensor):
            points = points.detach().cpu().numpy()
        points = np.asarray(points, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != self.gdim:
            raise ValueError(f"points must have shape [P, {self.gdim}], got {points.shape}")
        if not np.isfinite(points).all():
            raise ValueError("points contains NaN or infinite coordinates")
        if self.gdim != self.tdim:
            raise ValueError("interpolation needs a mesh whose gdim equals its tdim")
        if self._locator is None:
            self._locator = _Locator(self.points, self.simplices())
        simplex, bary = self._locator.locate(points, tol)
        found = simplex >= 0
        n_pts, d1 = len(points), self.tdim + 1
        rows = np.repeat(np.arange(n_pts)[found], d1)
        cols = self._locator.simplices[simplex[found]].ravel()
        vals = bary[found].ravel()
        if not found.all():
            missing = np.flatnonzero(~found)
            if outside == "raise":
                raise ValueError(
                    f"points: {len(missing)} of {n_pts} points lie outside the mesh "
                    f"(first: {points[missing[0]].tolist()}); pass outside='nan' or 'nearest'"
                )
            if outside == "nearest":
                pass

                _, near = cKDTree(self.points).query(points[missing])
                rows = np.concatenate([rows, missing])
                cols = np.concatenate([cols, near])
                vals = np.concatenate([vals, np.ones(len(missing))])
        W = sp.csr_matrix((vals, (rows, cols)), shape=(n_pts, self.num_points))
        if outside == "nan" and not found.all():
            W = _NanRows(W, ~found)
        return W

    def sample(
        self,
        values: np.ndarray | torch.Tensor,
        points: np.ndarray | torch.Tensor,
        outside: str = "raise",
    ) -> np.ndarray | torch.Tensor:
        """P1 values ``[..., N]`` at ``points [P, gdim]`` -> ``[..., P]`` (numpy or torch)."""
        W = self.interpolation_matrix(points, outside)
        return _apply(W, values, self.num_points, "values")

    def to_grid(
        self, values: np.ndarray | torch.Tensor, grid: Grid, outside: str = "raise"
    ) -> np.ndarray | torch.Tensor:
        """Nodal values ``[..., N]`` -> ``[..., *grid.shape]`` at the grid points."""
        if grid.ndim != self.gdim:
            raise ValueError(f"grid must have {self.gdim} axes, got {grid.ndim}")
        out = self.sample(values, grid.points(dtype=torch.float64), outside)
        return out.reshape(*out.shape[:-1], *grid.shape)

    def from_grid(self, field: torch.Tensor, grid: Grid) -> torch.Tensor:
        """Grid field ``[B, C, *grid.shape]`` -> nodal values ``[B, C, N]`` (multilinear)."""
        if grid.ndim != self.gdim:
            raise ValueError(f"grid must have {self.gdim} axes, got {grid.ndim}")
        return grid.interpolate(field, torch.as_tensor(self.points, dtype=field.dtype))


class _NanRows:
    """Wraps an interpolation matrix so that rows of points outside the mesh give NaN."""

    def __init__(self, W: sp.csr_matrix, nan_rows: np.ndarray):
        self.W, self.nan_rows, self.shape = W, nan_rows, W.shape

    def __matmul__(self, other: np.ndarray) -> np.ndarray:
        out = np.asarray(self.W @ other, dtype=np.float64)
        out[self.nan_rows] = np.nan
        return out


def _apply(W, values, n: int, name: str):
    is_torch = isinstance(values, torch.Tensor)
    arr = values.detach().cpu().numpy() if is_torch else np.asarray(values)
    if arr.shape[-1] != n:
        raise ValueError(
            f"{name} must have last dimension {n} (one per mesh node), got {arr.shape}"
        )
    lead = arr.shape[:-1]
    out = np.asarray(W @ arr.reshape(-1, n).T).T.reshape(*lead, -1)
    if is_torch:
        return torch.as_tensor(out, dtype=values.dtype, device=values.device)
    return out


class _Locator:
    """Vectorised point-in-simplex search on a uniform background grid of bins."""

    def __init__(self, points: np.ndarray, simplices: np.ndarray):
        self.simplices = simplices
        d = points.shape[1]
        verts = points[simplices]  # [M, d+1, d]
        # barycentric coordinates: lambda[:d] = T^-1 (p - v_d), T columns v_i - v_d
        T = np.transpose(verts[:, :d] - verts[:, d:], (0, 2, 1))
        self.Tinv = np.linalg.inv(T)
        self.vlast = verts[:, d]
        self.lo = points.min(0)
        span = np.maximum(points.max(0) - self.lo, 1e-300)
        nb = max(1, int(round(len(simplices) ** (1.0 / d) / 1.5)))
        self.nbins = np.full(d, nb)
        self.h = span / nb
        blo = self._bin(verts.min(1))
        bhi = self._bin(verts.max(1))
        ext = bhi - blo + 1
        counts = ext.prod(1)
        owner = np.repeat(np.arange(len(simplices)), counts)
        local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        bins = np.zeros_like(local)
        rem = local.copy()
        for ax in reversed(range(d)):  # unravel each simplex's bin box, last axis fastest
            e = ext[owner, ax]
            bins += (blo[owner, ax] + rem % e) * nb ** (d - 1 - ax)
            rem //= e
        order = np.argsort(bins, kind="stable")
        self.cell_of = owner[order]
        self.ptr = np.searchsorted(bins[order], np.arange(nb**d + 1))

    def _bin(self, x: np.ndarray) -> np.ndarray:
        b = np.floor((x - self.lo) / self.h).astype(np.int64)
        return np.clip(b, 0, self.nbins - 1)

    def locate(self, pts: np.ndarray, tol: float):
        d = pts.shape[1]
        b = self._bin(pts)
        flat = np.ravel_multi_index(b.T, tuple(self.nbins))
        start, stop = self.ptr[flat], self.ptr[flat + 1]
        counts = stop - start
        q = np.repeat(np.arange(len(pts)), counts)
        cand = self.cell_of[np.repeat(start, counts) + np.arange(counts.sum())
                            - np.repeat(np.cumsum(counts) - counts, counts)]  # fmt: skip
        lam = np.einsum("kij,kj->ki", self.Tinv[cand], pts[q] - self.vlast[cand])
        lam = np.concatenate([lam, 1 - lam.sum(1, keepdims=True)], 1)
        inside = (lam >= -tol).all(1)
        # points outside the padded bin box (beyond the mesh bounds) are never inside
        outside_box = ((pts < self.lo - tol) | (pts > self.lo + self.h * self.nbins + tol)).any(1)
        inside &= ~outside_box[q]
        simplex = np.full(len(pts), -1, dtype=np.int64)
        bary = np.zeros((len(pts), d + 1))
        hit = np.flatnonzero(inside)
        first_q, first = np.unique(q[hit], return_index=True)
        simplex[first_q] = cand[hit[first]]
        bary[first_q] = lam[hit[first]]
        return simplex, bary
