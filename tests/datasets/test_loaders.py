import h5py
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from sciml.datasets import GridDataset, generate, import_file, split_indices

RNG = np.random.default_rng(0)


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("load") / "d.h5"
    return generate("darcy-smooth", 5, out, params={"resolution": 9}, progress=False)


def test_dataset_items_grid_and_dataloader_workers(small_file):
    ds = GridDataset(small_file)
    x, y = ds[2]
    assert x.shape == (1, 9, 9) and y.shape == (1, 9, 9) and x.dtype == torch.float32
    assert ds.grid.shape == (9, 9) and ds.meta["recipe"] == "darcy-smooth"
    batches = list(DataLoader(ds, batch_size=2, num_workers=2))
    xs = torch.cat([b[0] for b in batches])
    assert torch.equal(xs, ds.inputs_array())
    sub = ds.subset([4, 0])
    assert torch.equal(sub[0][1], ds[4][1]) and torch.equal(sub.outputs_array()[1], ds[0][1])


def test_split_indices_is_deterministic_and_disjoint():
    a = split_indices(100, [0.7, 0.1, 0.2], seed=3)
    b = split_indices(100, [0.7, 0.1, 0.2], seed=3)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert [len(s) for s in a] == [70, 10, 20]
    assert len(np.unique(np.concatenate(a))) == 100
    with pytest.raises(ValueError, match="only 10 exist"):
        split_indices(10, [8, 5])


def test_loader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        GridDataset(tmp_path / "none.h5")
    (tmp_path / "junk.h5").write_text("not hdf5")
    with pytest.raises(ValueError, match="not a readable HDF5"):
        GridDataset(tmp_path / "junk.h5")


def test_neuralop_pt_files_import(tmp_path):
    # neuraloperator's published layout: channels squeezed, x [N, *S] and y [N, *S]
    x = torch.rand(4, 16, 16)
    torch.save({"x": x, "y": 2 * x}, tmp_path / "darcy_train_16.pt")
    out = import_file(tmp_path / "darcy_train_16.pt", tmp_path / "d.h5", fmt="neuralop-pt")
    ds = GridDataset(out)
    assert len(ds) == 4 and torch.allclose(ds[1][1], 2 * x[1][None])
    # Burgers: x [N, X] -> y [N, T, X]
    torch.save({"x": torch.rand(3, 32), "y": torch.rand(3, 5, 32)}, tmp_path / "burgers.pt")
    b = GridDataset(import_file(tmp_path / "burgers.pt", tmp_path / "b.h5", fmt="neuralop-pt"))
    assert b[0][0].shape == (1, 32) and b[0][1].shape == (5, 32)
    with pytest.raises(ValueError, match="bad.pt': missing field 'x'"):
        torch.save({"a": x}, tmp_path / "bad.pt")
        import_file(tmp_path / "bad.pt", tmp_path / "bad.h5", fmt="neuralop-pt")


def test_pdebench_files_import(tmp_path):
    n, h = 3, 8
    centres = (np.arange(h) + 0.5) / h
    with h5py.File(tmp_path / "2D_DarcyFlow_beta1.0_Train.hdf5", "w") as f:
        f["nu"] = RNG.random((n, h, h)).astype(np.float32)
        f["tensor"] = RNG.random((n, 1, h, h)).astype(np.float32)
        f["x-coordinate"] = centres
        f["y-coordinate"] = centres
    out = import_file(
        tmp_path / "2D_DarcyFlow_beta1.0_Train.hdf5", tmp_path / "p.h5", fmt="pdebench"
    )
    ds = GridDataset(out)
    assert ds.grid.centering == "cell" and np.allclose(ds.grid.bounds, [(0, 1), (0, 1)])
    assert ds[0][0].shape == (1, h, h)
    with h5py.File(tmp_path / "1D_Burgers.hdf5", "w") as f:
        f["tensor"] = RNG.random((n, 6, 16)).astype(np.float32)
        f["x-coordinate"] = (np.arange(16) + 0.5) / 16
    b = GridDataset(import_file(tmp_path / "1D_Burgers.hdf5", tmp_path / "b.h5", fmt="pdebench"))
    assert b[0][0].shape == (1, 16) and b[0][1].shape == (5, 16)
    with pytest.raises(ValueError, match="fmt: unknown format"):
        import_file(tmp_path / "1D_Burgers.hdf5", tmp_path / "c.h5", fmt="csv")


def test_cli_style_parameters_are_typed():
    from sciml.datasets import get_recipe

    rec = get_recipe("darcy-pwc")
    p = rec.params({"store_mesh_values": "false", "resolution": "33", "alpha": "2.5"})
    assert p.store_mesh_values is False and p.resolution == 33 and p.alpha == 2.5
    with pytest.raises(ValueError, match="store_mesh_values must be true or false"):
        rec.params({"store_mesh_values": "maybe"})
    with pytest.raises(ValueError, match="resolution must be a int"):
        rec.params({"resolution": "3.5"})
