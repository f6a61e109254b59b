import numpy as np
import pytest
import torch

from sciml.grid import Grid
from sciml.mesh import Mesh


def lin2(p):
    return 1 + 2 * p[..., 0] - 3 * p[..., 1]


def lin3(p):
    return 1 + 2 * p[..., 0] - 3 * p[..., 1] + 0.5 * p[..., 2]


MESHES = {
    "triangle": lambda: Mesh.rectangle(7, 5, bounds=((0, 2), (-1, 1))),
    "quad": lambda: Mesh.rectangle(4, 6, bounds=((0, 2), (-1, 1)), cell_type="quad"),
    "tetra": lambda: Mesh.box(3, 4, 2),
    "hexahedron": lambda: Mesh.box(2, 3, 2, cell_type="hexahedron"),
}


@pytest.mark.parametrize("kind", sorted(MESHES))
def test_mesh_to_grid_reproduces_linear_functions(kind):
    mesh = MESHES[kind]()
    lin = lin2 if mesh.gdim == 2 else lin3
    grid = Grid((13, 11) if mesh.gdim == 2 else (6, 7, 5), bounds=mesh.bounds())
    vals = mesh.to_grid(lin(mesh.points), grid)
    truth = lin(grid.points(dtype=torch.float64).numpy()).reshape(grid.shape)
    assert np.abs(vals - truth).max() < 1e-12


@pytest.mark.parametrize("kind", sorted(MESHES))
def test_grid_to_mesh_reproduces_linear_functions(kind):
    mesh = MESHES[kind]()
    lin = lin2 if mesh.gdim == 2 else lin3
    grid = Grid((9, 8) if mesh.gdim == 2 else (5, 4, 6), bounds=mesh.bounds())
    field = lin(grid.coords(dtype=torch.float64).movedim(0, -1))[None, None]
    nodal = mesh.from_grid(field, grid)
    assert nodal.shape == (1, 1, mesh.num_points)
    assert (nodal[0, 0] - lin(torch.as_tensor(mesh.points))).abs().max() < 1e-12


def test_transfer_is_vectorised_and_batched():
    mesh = Mesh.rectangle(40, 40)
    values = torch.stack([lin2(torch.as_tensor(mesh.points)), torch.ones(mesh.num_points)])
    grid = Grid((50, 50))
    out = mesh.to_grid(values, grid)
    assert out.shape == (2, 50, 50) and torch.allclose(out[1], torch.ones(50, 50, dtype=out.dtype))


def test_points_outside_mesh_policies():
    mesh = Mesh.rectangle_with_holes([(0.5, 0.5, 0.2)], h=0.08)
    pts = np.array([[0.5, 0.5], [0.05, 0.05], [1.5, 0.2]])
    vals = lin2(mesh.points)
    with pytest.raises(ValueError, match="points: 2 of 3 points lie outside the mesh"):
        mesh.sample(vals, pts)
    out = mesh.sample(vals, pts, outside="nan")
    assert np.isnan(out[0]) and np.isnan(out[2]) and abs(out[1] - lin2(pts[1])) < 1e-12
    near = mesh.sample(vals, pts, outside="nearest")
    assert np.isfinite(near).all()
    with pytest.raises(ValueError, match="outside must be one of"):
        mesh.sample(vals, pts, outside="zero")


def test_holes_are_marked_and_empty():
    mesh = Mesh.rectangle_with_holes([(0.3, 0.3, 0.1), (0.7, 0.6, 0.15)], h=0.05)
    assert set(np.unique(mesh.facet_markers)) == {1, 2, 3, 4, 5}
    r = np.linalg.norm(mesh.points - [0.3, 0.3], axis=1)
    assert r.min() > 0.1 - 1e-9
    # area of the meshed domain equals the rectangle minus the discs (polygonal: within 1%)
    p = mesh.points[mesh.cells]
    a, b = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
    area = 0.5 * np.abs(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum()
    assert abs(area - (1 - np.pi * (0.1**2 + 0.15**2))) < 0.01


@pytest.mark.parametrize("suffix", [".xdmf", ".vtu", ".msh"])
def test_meshio_round_trip_keeps_points_cells_and_markers(tmp_path, suffix):
    mesh = Mesh.rectangle(5, 4)
    path = tmp_path / f"m{suffix}"
    mesh.write(path)
    back = Mesh.read(path)
    assert back.cell_type == "triangle"
    assert np.allclose(back.points, mesh.points)
    assert np.array_equal(back.cells, mesh.cells)
    assert np.array_equal(back.facet_markers, mesh.facet_markers)


def test_meshio_round_trip_3d(tmp_path):
    mesh = Mesh.box(2, 2, 3)
    mesh.write(tmp_path / "b.vtu")
    back = Mesh.read(tmp_path / "b.vtu")
    assert np.allclose(back.points, mesh.points) and np.array_equal(back.cells, mesh.cells)


def test_io_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Mesh.read(tmp_path / "missing.xdmf")
    bad = tmp_path / "mesh.unknownformat"
    bad.write_text("x")
    with pytest.raises(ValueError, match="path"):
        Mesh.read(bad)
    with pytest.raises(ValueError, match="unknown mesh format"):
        Mesh.rectangle(2, 2).write(tmp_path / "m.unknownformat")


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.zeros((3, 2)), np.array([[0, 1, 2]]), "pentagon"), "cell_type"),
        ((np.zeros((3, 1)), np.array([[0, 1, 2]]), "triangle"), r"points must have shape"),
        ((np.full((3, 2), np.nan), np.array([[0, 1, 2]]), "triangle"), "NaN"),
        ((np.zeros((3, 2)), np.array([[0, 1]]), "triangle"), r"cells must have shape \[M, 3\]"),
        ((np.zeros((3, 2)), np.array([[0, 1, 5]]), "triangle"), "cells must index points"),
    ],
)
def test_bad_mesh_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        Mesh(*args)


def test_dolfinx_round_trip_keeps_the_mesh():
    for mesh in [Mesh.rectangle(4, 3), Mesh.rectangle(3, 2, cell_type="quad"), Mesh.box(2, 2, 1)]:
        dmesh, _, facet_tags = mesh.to_dolfinx()
        assert dmesh.topology.index_map(mesh.tdim).size_global == mesh.num_cells
        back = Mesh.from_dolfinx(dmesh)
        assert back.cell_type == mesh.cell_type
        assert np.allclose(back.points, mesh.points)
        assert np.array_equal(back.cells, mesh.cells)
        if mesh.facets is not None:
            assert len(facet_tags.values) == len(mesh.facets)


def test_import_sciml_does_not_import_dolfinx():
    import subprocess
    import sys

    code = "import sys, sciml, sciml.physics, sciml.solvers, sciml.datasets; print('dolfinx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
