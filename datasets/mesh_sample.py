"""One sample of fields on a mesh: its nodes, cells, nodal inputs and nodal outputs.

A :class:`MeshSample` is what a mesh data set is made of (one per sample, each with its own
number of nodes) and what :func:`~sciml.datasets.point_batch.pad_point_sets` batches. It
validates what a user is most likely to get wrong, each with a ``ValueError`` naming the
argument: NaN or infinite coordinates (``points``), a mesh without cells (``cells``), and
nodal values whose count is not the number of nodes (``inputs`` / ``outputs``).

>>> import numpy as np
>>> from sciml.mesh import Mesh
>>> m = Mesh.rectangle(2, 2)
>>> s = MeshSample.from_mesh(m, outputs=m.points[:, 0])
>>> s.num_points, s.in_channels, s.out_channels
(9, 0, 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sciml.mesh import CELL_TYPES, Mesh

__all__ = ["MeshSample", "as_channels"]


def as_channels(values: np.ndarray | None, n: int, name: str) -> np.ndarray:
    """Nodal values as ``[C, n]`` float32: ``[n]`` is one channel, ``[C, n]`` is kept, ``None``
    is ``[0, n]``. ``ValueError`` naming ``name`` when the node count is not ``n`` or a value is
    not finite."""
    if values is None:
        return np.zeros((0, n), dtype=np.float32)
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != n:
        got = arr.shape[-1] if arr.ndim else 0
        raise ValueError(
            f"{name}: expected one value per node ({n} nodes) as [{n}] or [C, {n}], got shape "
            f"{list(arr.shape)} ({got} values for {n} nodes)"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr.astype(np.float32)


@dataclass
class MeshSample:
    """Fields on one mesh.

    Args:
        points: ``[N, d]`` node coordinates (``d`` = 2 or 3), finite.
        cells: ``[M, k]`` node indices of the cells (``M >= 1``; meshio/VTK order).
        cell_type: ``"triangle"``, ``"quad"``, ``"tetra"`` or ``"hexahedron"``.
        inputs: nodal input fields ``[C_in, N]`` (``[N]`` for one; ``None``: none, the
            geometry alone is the input).
        outputs: nodal output fields ``[C_out, N]`` (``[N]`` for one; ``None`` at inference).
    """

    points: np.ndarray
    cells: np.ndarray
    cell_type: str = "triangle"
    inputs: np.ndarray | None = None
    outputs: np.ndarray | None = None

    def __post_init__(self) -> None:
        pts = np.asarray(self.points, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] not in (2, 3) or pts.shape[0] == 0:
            raise ValueError(f"points must have shape [N, 2] or [N, 3], N >= 1, got {pts.shape}")
        if not np.isfinite(pts).all():
            bad = int((~np.isfinite(pts)).any(1).sum())
            raise ValueError(f"points contains NaN or infinite coordinates ({bad} nodes)")
        cells = np.asarray(self.cells)
        if cells.size == 0:
            raise ValueError(
                "cells: the mesh has no cells (a mesh sample needs at least one cell joining "
                "its nodes)"
            )
        if self.cell_type not in CELL_TYPES:
            raise ValueError(
                f"cell_type must be one of {sorted(CELL_TYPES)}, got {self.cell_type!r}"
            )
        self.points = pts
        # Mesh checks the cell array (shape, whole-number indices in range)
        self._mesh = Mesh(pts, cells, self.cell_type)
        self.cells = self._mesh.cells
        n = len(pts)
        self.inputs = as_channels(self.inputs, n, "inputs")
        self.outputs = None if self.outputs is None else as_channels(self.outputs, n, "outputs")

    @classmethod
    def from_mesh(
        cls, mesh: Mesh, inputs: np.ndarray | None = None, outputs: np.ndarray | None = None
    ) -> MeshSample:
        """A sample on ``mesh`` with nodal ``inputs``/``outputs`` (``[N]`` or ``[C, N]``)."""
        if not isinstance(mesh, Mesh):
            raise TypeError(f"mesh must be a sciml.Mesh, got {type(mesh).__name__}")
        return cls(mesh.points, mesh.cells, mesh.cell_type, inputs, outputs)

    @property
    def mesh(self) -> Mesh:
        """The :class:`~sciml.mesh.Mesh` (points and cells) of this sample."""
        return self._mesh

    def nodal_volumes(self) -> np.ndarray:
        """Lumped volume (area in 2-D) of every node ``[N]``: each cell's volume shared
        equally among its nodes (quads and hexahedra through their simplices). The
        quadrature weights of the node values: ``sum_i v_i f(x_i)`` approximates the integral
        of ``f`` over the mesh whatever its resolution. Meshes whose points have more
        coordinates than the cells' dimension (surfaces in 3-D) give equal weights."""
        mesh = self._mesh
        if mesh.gdim != mesh.tdim:
            return np.ones(self.num_points)
        simplices = mesh.simplices()
        verts = self.points[simplices]  # [M, d + 1, d]
        edges = verts[:, 1:] - verts[:, :1]
        vol = np.abs(np.linalg.det(edges)) / math.factorial(mesh.tdim)
        out = np.zeros(self.num_points)
        np.add.at(out, simplices.ravel(), np.repeat(vol / simplices.shape[1], simplices.shape[1]))
        return out

    @property
    def num_points(self) -> int:
        """Number of nodes ``N``."""
        return len(self.points)

    @property
    def coord_dim(self) -> int:
        """Number of coordinates per node ``d``."""
        return self.points.shape[1]

    @property
    def in_channels(self) -> int:
        """Number of nodal input fields ``C_in`` (0: geometry only)."""
        return self.inputs.shape[0]

    @property
    def out_channels(self) -> int:
        """Number of nodal output fields ``C_out`` (0 when there are no outputs)."""
        return 0 if self.outputs is None else self.outputs.shape[0]
