"""Fields on meshes: validated samples, padded batches, the /meshes/<i> file layout, the grid
view of a mesh sample, and the mesh recipes (seed -> sample, serial == MPI, resumable)."""

import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from sciml.datasets import generate, partial_path
from sciml.datasets.mesh_files import mesh_fields, read_mesh_samples, write_mesh_dataset
from sciml.datasets.mesh_grid import grid_to_nodes, nodal_to_grid
from sciml.datasets.mesh_sample import MeshSample
from sciml.datasets.point_batch import pad_point_sets
from sciml.grid import Grid
from sciml.mesh import Mesh

pytestmark = pytest.mark.usefixtures("one_thread")


def _samples(n=3):
    meshes = [Mesh.rectangle(2 + i, 3) for i in range(n)]
    return [
        MeshSample.from_mesh(m, m.points[:, 0], np.stack([m.points[:, 1], m.points.sum(1)]))
        for m in meshes
    ]


def test_mesh_sample_refuses_what_users_get_wrong():
    m = Mesh.rectangle(2, 2)
    bad = m.points.copy()
    bad[4, 0] = np.nan
    with pytest.raises(
        ValueError, match=r"points contains NaN or infinite coordinates \(1 nodes\)"
    ):
        MeshSample(bad, m.cells)
    with pytest.raises(ValueError, match="cells: the mesh has no cells"):
        MeshSample(m.points, np.zeros((0, 3), dtype=int))
    with pytest.raises(ValueError, match=r"outputs: expected one value per node \(9 nodes\)"):
        MeshSample.from_mesh(m, outputs=np.ones(8))
    with pytest.raises(ValueError, match="inputs contains NaN"):
        MeshSample.from_mesh(m, inputs=np.full(9, np.nan))
    with pytest.raises(ValueError, match="cells must index points"):
        MeshSample(m.points, m.cells + 100)
    s = MeshSample.from_mesh(m, outputs=np.ones((2, 9)))
    assert (s.in_channels, s.out_channels, s.coord_dim, s.num_points) == (0, 2, 2, 9)


def test_padded_batch_masks_and_trims():
    samples = _samples()
    batch = pad_point_sets(samples)
    counts = [s.num_points for s in samples]  # 12, 16, 20
    assert batch.points.shape == (3, 20, 2) and batch.inputs.shape == (3, 1, 20)
    assert batch.outputs.shape == (3, 2, 20) and batch.counts.tolist() == counts
    # padding repeats the first node, carries zeros
    assert torch.equal(batch.points[0, 12:], batch.points[0, :1].expand(8, 2))
    assert (batch.outputs[0, :, 12:] == 0).all() and (batch.inputs[0, :, 12:] == 0).all()
    sub = batch.take([1, 0])
    assert sub.points.shape == (2, 16, 2) and sub.counts.tolist() == [16, 12]
    with pytest.raises(ValueError, match="points: sample 1 has 3-D points"):
        pad_point_sets(
            [samples[0], MeshSample.from_mesh(Mesh.box(1, 1, 1), np.zeros(8), np.zeros((2, 8)))]
        )


def test_write_and_read_back_a_users_meshes(tmp_path):
    samples = _samples()
    path = write_mesh_dataset(
        tmp_path / "m.h5", samples, input_names=["a"], output_names=["u", "v"]
    )
    got, meta = read_mesh_samples(path, [2, 0])
    assert meta["mesh_fields"] == {"cell_type": "triangle", "inputs": ["a"], "outputs": ["u", "v"]}
    for g, s in zip(got, [samples[2], samples[0]]):
        assert np.array_equal(g.points, s.points) and np.array_equal(g.cells, s.cells)
        assert np.array_equal(g.inputs, s.inputs) and np.array_equal(g.outputs, s.outputs)
    with h5py.File(path) as f:  # the grid view for grid operators: mask + inputs, outputs
        assert f["inputs"].shape == (3, 2, 32, 32) and f["outputs"].shape == (3, 2, 32, 32)
    assert not list(tmp_path.glob(".*tmp"))  # written atomically


def test_grid_view_is_exact_for_linear_fields_and_marks_holes():
    mesh = Mesh.rectangle_with_holes([(0.5, 0.5, 0.2)], h=0.08)
    lin = 1 + 2 * mesh.points[:, 0] - mesh.points[:, 1]
    sample = MeshSample.from_mesh(mesh, lin, lin)
    grid = Grid((21, 21))
    x, y = nodal_to_grid(sample, grid)
    pts = grid.points(dtype=torch.float64).numpy()
    inside = np.hypot(pts[:, 0] - 0.5, pts[:, 1] - 0.5) > 0.2 + 1e-3
    mask = x[0].ravel() > 0.5
    far = np.abs(np.hypot(pts[:, 0] - 0.5, pts[:, 1] - 0.5) - 0.2) > 0.02  # off the polygonal edge
    assert np.array_equal(mask[far], inside[far])
    exact = (1 + 2 * pts[:, 0] - pts[:, 1])[mask]
    assert np.abs(y[0].ravel()[mask] - exact).max() < 1e-5  # P1 reproduces linear fields (float32)
    # back to the nodes: multilinear interpolation of a linear field is exact away from the hole
    back = grid_to_nodes(torch.as_tensor(y[None], dtype=torch.float64), grid, mesh.points)[0, 0]
    away = np.hypot(mesh.points[:, 0] - 0.5, mesh.points[:, 1] - 0.5) > 0.3
    assert np.abs(back.numpy()[away] - lin[away]).max() < 1e-5


@pytest.fixture(scope="module")
def pipe_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("pipe") / "pipe.h5"
    return generate("stokes-pipe", 4, out, params=PIPE, progress=False)


PIPE = {"resolution": 12, "mesh_nx": 12, "mesh_ny": 4}


def _mesh_arrays(path):
    with h5py.File(path) as f:
        return {
            f"{g}/{k}": f[f"meshes/{g}/{k}"][...] for g in f["meshes"] for k in f[f"meshes/{g}"]
        }


def test_mesh_recipe_files_read_as_mesh_samples(pipe_file, tmp_path):
    samples, meta = read_mesh_samples(pipe_file)
    assert meta["mesh_fields"]["outputs"] == ["velocity_x", "velocity_y"]
    assert len(samples) == 4 and all(
        s.num_points == 13 * 5 and s.out_channels == 2 for s in samples
    )
    assert not np.allclose(samples[0].points, samples[1].points)  # the geometry varies
    # elasticity-holes files written before the mesh_fields attribute: the recipe says
    old = tmp_path / "old.h5"
    generate(
        "elasticity-holes", 2, old, params={"resolution": 8, "mesh_size": 0.15}, progress=False
    )
    with h5py.File(old, "a") as f:
        del f.attrs["mesh_fields"]
    got, meta = read_mesh_samples(old)
    assert mesh_fields(meta)["outputs"] == ["von_mises"] and got[0].in_channels == 0
    assert got[0].num_points != got[1].num_points


def test_mesh_recipes_serial_equals_mpi_and_resume(pipe_file, tmp_path):
    out = tmp_path / "mpi.h5"
    cmd = [str(Path(sys.executable).parent / "mpirun"), "-n", "2", sys.executable, "-m",
           "sciml.cli", "data", "generate", "stokes-pipe", "--n", "4", "--out", str(out),
           "--resolution", "12", "--param", "mesh_nx=12", "--param", "mesh_ny=4", "--quiet"]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    ref = _mesh_arrays(pipe_file)
    mpi = _mesh_arrays(out)
    assert ref.keys() == mpi.keys() and all(np.array_equal(ref[k], mpi[k]) for k in ref)
    # a run killed after 2 of 4 samples resumes to the same file
    res = tmp_path / "resume.h5"
    left = generate("stokes-pipe", 4, res, params=PIPE, progress=False, max_batches=2)
    assert left == partial_path(res)
    generate("stokes-pipe", 4, res, params=PIPE, progress=False)
    again = _mesh_arrays(res)
    assert all(np.array_equal(ref[k], again[k]) for k in ref)


def test_darcy_holes_grid_and_mesh_views_agree(tmp_path):
    from sciml.datasets import get_recipe

    rec = get_recipe("darcy-holes")
    p = rec.params({"resolution": 16, "mesh_size": 0.1, "field_resolution": 33})
    mesh, coef, pressure, holes = rec.sample(11, p)
    assert set(np.unique(coef)) <= {3.0, 12.0} and len(holes) >= 1
    outer = np.isin(np.arange(mesh.num_points), mesh.facets[mesh.facet_markers <= 4].ravel())
    assert np.abs(pressure[outer]).max() < 1e-12 and pressure.max() > 1e-3  # u = 0 outside
    on_hole = np.unique(mesh.facets[mesh.facet_markers == 5].ravel())
    assert pressure[on_hole].min() > 0  # no flux through the holes: u is not pinned there
    batch = rec.worker(p)(np.array([11]))
    assert batch.inputs.shape == (1, 2, 16, 16) and batch.outputs.shape == (1, 1, 16, 16)
    assert np.array_equal(batch.meshes[0]["pressure"], pressure)


def test_nodal_volumes_are_quadrature_weights():
    """Lumped volumes sum to the domain's measure and integrate linear functions exactly on
    uniform meshes; batch weights have mean 1 per sample and vanish on padding."""
    rect = MeshSample.from_mesh(Mesh.rectangle(6, 4, ((0.0, 1.5), (0.0, 1.0))))
    assert rect.nodal_volumes().sum() == pytest.approx(1.5)
    box = MeshSample.from_mesh(Mesh.box(3, 2, 2, cell_type="hexahedron"))
    assert box.nodal_volumes().sum() == pytest.approx(1.0)
    holes = MeshSample.from_mesh(Mesh.rectangle_with_holes([(0.5, 0.5, 0.2)], h=0.05))
    assert holes.nodal_volumes().sum() == pytest.approx(1 - np.pi * 0.2**2, rel=5e-3)
    batch = pad_point_sets([rect, holes])
    w = batch.weights
    assert (
        torch.allclose(w.sum(1) / batch.counts, torch.ones(2))
        and (w[0, rect.num_points :] == 0).all()
    )
