"""Generation is reproducible, parallel-invariant, resumable and atomic."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from sciml.datasets import GridDataset, generate, partial_path, read_meta, sample_seeds

ROOT = Path(__file__).resolve().parents[2]
PARAMS = {"resolution": 9, "refine": 2}
ARRAYS = ("inputs", "outputs", "seeds", "extras/solution_on_mesh")


def arrays(path):
    with h5py.File(path, "r") as f:
        return {k: f[k][...] for k in ARRAYS}


def same(a, b):
    return all(np.array_equal(a[k], b[k]) for k in ARRAYS)


@pytest.fixture(scope="module")
def serial_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "darcy.h5"
    generate("darcy-pwc", 6, out, params=PARAMS, progress=False)
    return out


def test_serial_file_schema_and_metadata(serial_file):
    meta = read_meta(serial_file)
    assert meta["complete"] and meta["recipe"] == "darcy-pwc" and meta["n"] == 6
    assert meta["arrays"]["inputs"]["shape"] == [6, 1, 9, 9]
    assert meta["grid"]["shape"] == [9, 9] and meta["params"]["resolution"] == 9
    assert {"sciml", "torch", "dolfinx", "h5py"} <= set(meta["versions"])
    with h5py.File(serial_file) as f:
        assert np.array_equal(f["seeds"][...], sample_seeds(0, 6))
        assert set(np.unique(f["inputs"][...])) == {3.0, 12.0}  # the FNO coefficient values
        u = f["outputs"][...]
        assert (
            np.abs(u[:, :, 0, :]).max() == 0 and u.max() > 1e-3
        )  # u = 0 on the wall, f = 1 inside


def test_workers_give_the_same_arrays_bit_for_bit(serial_file, tmp_path):
    out = generate("darcy-pwc", 6, tmp_path / "w.h5", params=PARAMS, workers=2, progress=False)
    assert same(arrays(serial_file), arrays(out))


def test_mpi_ranks_give_the_same_arrays_bit_for_bit(serial_file, tmp_path):
    out = tmp_path / "mpi.h5"
    cmd = [str(Path(sys.executable).parent / "mpirun"), "-n", "2", sys.executable, "-m",
           "sciml.cli", "data", "generate", "darcy-pwc", "--n", "6", "--out", str(out),
           "--resolution", "9", "--param", "refine=2", "--quiet"]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    assert same(arrays(serial_file), arrays(out))


def test_killed_run_resumes_to_the_same_file(serial_file, tmp_path):
    out = tmp_path / "resume.h5"
    # a run that stops after 2 of 6 samples (what a kill leaves behind)
    left = generate("darcy-pwc", 6, out, params=PARAMS, progress=False, max_batches=2)
    assert left == partial_path(out) and not out.exists()
    with h5py.File(left) as f:
        assert f["done"][...].sum() == 2 and not f.attrs["complete"]
    with pytest.raises(ValueError, match="not complete"):
        GridDataset(left)
    generate("darcy-pwc", 6, out, params=PARAMS, progress=False)
    assert out.exists() and not partial_path(out).exists()
    assert same(arrays(serial_file), arrays(out))


def test_rerunning_a_complete_file_does_nothing(serial_file):
    before = os.stat(serial_file).st_mtime_ns
    generate("darcy-pwc", 6, serial_file, params=PARAMS, progress=False)
    assert os.stat(serial_file).st_mtime_ns == before


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_bad_input_gives_clear_errors_and_leaves_files_untouched(serial_file, tmp_path):
    with pytest.raises(ValueError, match="recipe: unknown recipe 'darcy-typo'"):
        generate("darcy-typo", 4, tmp_path / "x.h5")
    with pytest.raises(ValueError, match="n must be a positive integer"):
        generate("darcy-pwc", -3, tmp_path / "x.h5")
    with pytest.raises(FileNotFoundError, match="out: folder"):
        generate("darcy-pwc", 2, tmp_path / "missing" / "x.h5")
    with pytest.raises(ValueError, match="params: unknown parameter 'resolutoin'"):
        generate("darcy-pwc", 2, tmp_path / "x.h5", params={"resolutoin": 9})
    digest = _digest(serial_file)
    with pytest.raises(ValueError, match="was made with recipe='darcy-pwc'.*left untouched"):
        generate("darcy-smooth", 6, serial_file, params=PARAMS, progress=False)
    with pytest.raises(ValueError, match="was made with n=6"):
        generate("darcy-pwc", 7, serial_file, params=PARAMS, progress=False)
    assert _digest(serial_file) == digest


def test_unwritable_folder_is_reported(tmp_path):
    if os.geteuid() == 0:
        locked = Path("/proc/sciml-not-writable")  # root can write anywhere else
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
    with pytest.raises((PermissionError, FileNotFoundError), match="out: folder"):
        generate("darcy-pwc", 2, locked / "x.h5")


def test_cli_generate_info_show_and_errors(tmp_path):
    sciml = [sys.executable, "-m", "sciml.cli"]
    out = tmp_path / "e.h5"
    r = subprocess.run(
        [*sciml, "data", "generate", "elasticity-holes", "--n", "2", "--resolution", "16",
         "--param", "mesh_size=0.08", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    info = subprocess.run([*sciml, "data", "info", str(out)], capture_output=True, text=True)
    assert "elasticity-holes" in info.stdout and "[2, 1, 16, 16]" in info.stdout
    png = tmp_path / "s.png"
    subprocess.run([*sciml, "data", "show", str(out), "--index", "1", "--out", str(png)], check=True,
                   capture_output=True)  # fmt: skip
    assert png.stat().st_size > 5000
    with h5py.File(out) as f:
        mask, stress = f["inputs"][1, 0], f["outputs"][1, 0]
        assert 0.2 < mask.mean() < 1.0 and stress[mask > 0].min() >= 0
        assert "meshes/1/von_mises" in f
    bad = subprocess.run([*sciml, "data", "generate", "nope", "--n", "1", "--out", str(out)],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and "unknown recipe 'nope'" in bad.stderr
    missing = subprocess.run([*sciml, "data", "info", str(tmp_path / "none.h5")],
                             capture_output=True, text=True)  # fmt: skip
    assert missing.returncode == 2 and "does not exist" in missing.stderr
