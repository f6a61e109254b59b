"""Nodal fields of a mesh sample moved to a Grid, for grid operators on the same problem.

A grid operator (FNO, LSM, U-Net) sees a mesh sample as ``x = [mask, inputs] [1 + C_in, *S]``
and ``y = outputs [C_out, *S]``: the mask is 1 at grid points inside the mesh and 0 outside
(holes, around a channel); inputs and outputs are P1-interpolated inside and *extended by
the value of the nearest node* outside, so that interpolating a grid field back to the
mesh nodes (:func:`grid_to_nodes`, multilinear) does not mix in an arbitrary fill value near
the boundary. Scores of grid operators are taken back on the mesh nodes.

>>> import numpy as np
>>> from sciml.grid import Grid
>>> from sciml.mesh import Mesh
>>> from sciml.datasets.mesh_sample import MeshSample
>>> s = MeshSample.from_mesh(Mesh.rectangle(4, 4), outputs=Mesh.rectangle(4, 4).points[:, 0])
>>> x, y = nodal_to_grid(s, Grid((5, 5)))
>>> x.shape, y.shape, float(x[0].min()), round(float(y[0, 4, 2]), 6)
((1, 5, 5), (1, 5, 5), 1.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from sciml.datasets.mesh_sample import MeshSample
from sciml.grid import Grid

__all__ = ["bounding_grid", "grid_to_nodes", "nodal_to_grid"]


def bounding_grid(
    samples: Sequence[MeshSample], resolution: int | Sequence[int], margin: float = 0.0
) -> Grid:
    """A vertex grid on the bounding box of every sample's nodes (grown by ``margin`` times
    its size per side); ``resolution`` points per axis (an int for all axes)."""
    pts = np.concatenate([s.points for s in samples])
    lo, hi = pts.min(0), pts.max(0)
    pad = margin * (hi - lo)
    d = pts.shape[1]
    shape = (int(resolution),) * d if np.isscalar(resolution) else tuple(int(r) for r in resolution)
    return Grid(shape, bounds=tuple((float(a), float(b)) for a, b in zip(lo - pad, hi + pad)))


def nodal_to_grid(sample: MeshSample, grid: Grid) -> tuple[np.ndarray, np.ndarray | None]:
    """``(x [1 + C_in, *grid.shape], y [C_out, *grid.shape] or None)`` float32 (see the module
    docstring: mask first, nearest-node extension outside the mesh)."""
    if grid.ndim != sample.coord_dim:
        raise ValueError(
            f"grid must have {sample.coord_dim} axes for {sample.coord_dim}-D points, got "
            f"{grid.ndim}"
        )
    mesh = sample.mesh
    pts = grid.points(dtype=torch.float64).numpy()
    inside = np.isfinite(mesh.interpolation_matrix(pts, outside="nan") @ np.ones(len(mesh.points)))
    W = mesh.interpolation_matrix(pts, outside="nearest")
    fields = [inside.astype(np.float64)[None]]
    if sample.in_channels:
        fields.append(np.asarray(W @ sample.inputs.T.astype(np.float64)).T)
    x = np.concatenate(fields).reshape(-1, *grid.shape).astype(np.float32)
    y = None
    if sample.outputs is not None:
        y = np.asarray(W @ sample.outputs.T.astype(np.float64)).T
        y = y.reshape(-1, *grid.shape).astype(np.float32)
    return x, y


def grid_to_nodes(
    field: torch.Tensor, grid: Grid, points: np.ndarray | torch.Tensor
) -> torch.Tensor:
    """Grid fields ``[B, C, *grid.shape]`` at ``points [N, d]`` (multilinear): ``[B, C, N]``.

    Points a hair outside the box (round-off) are clamped onto it."""
    pts = torch.as_tensor(points, dtype=field.dtype, device=field.device)
    lo = torch.tensor([b[0] for b in grid.bounds], dtype=field.dtype, device=field.device)
    hi = torch.tensor([b[1] for b in grid.bounds], dtype=field.dtype, device=field.device)
    return grid.interpolate(field, torch.minimum(torch.maximum(pts, lo), hi))
