"""Every subcommand's bad-input table: exit code 2, ONE line on stderr, no traceback.

The inputs are the ones a new user hits (issue 11): wrong-shape and inconsistent HDF5 files,
garbage / text / code-running model files, an existing run or file as ``--out``, a file where
a folder belongs, a different ``--model`` on ``--resume``, ``--rtol 0``, ``quickstart --samples
1``, a picture name without extension, ... Each row also names a fragment the message must
contain, so a row cannot pass with an unrelated error. Nothing in the table runs real work:
every error must come before it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import pytest
import torch

from sciml.cli import main
from sciml.grid import Grid

CONFTEST = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(CONFTEST))
from conftest import write_malicious_torch_file  # noqa: E402


def write_data(path, x, y, *, grid=None, **attrs) -> Path:
    """A sciml data file holding ``x``/``y`` (a valid one unless the arguments say otherwise)."""
    with h5py.File(path, "w") as f:
        f["inputs"], f["outputs"] = x, y
        f["seeds"] = np.arange(x.shape[0], dtype=np.int64)
        f["done"] = np.ones(x.shape[0], dtype=bool)
        g = grid if grid is not None else Grid(tuple(x.shape[2:]), periodic=True).to_dict()
        f.attrs["grid"] = g if isinstance(g, str) else json.dumps(g)
        f.attrs["recipe"], f.attrs["params"], f.attrs["complete"] = "toy", "{}", True
        for key, value in attrs.items():
            f.attrs[key] = value
    return path


def _toy(n: int, size: int = 8, channels: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, channels, size, size)).astype(np.float32)
    return x, (2 * x[:, :1]).astype(np.float32)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Good and bad files, and a trained run (1 epoch of a tiny FNO), made once."""
    d = tmp_path_factory.mktemp("bad_inputs")
    x, y = _toy(12)
    p = SimpleNamespace(tmp=d)
    p.data = write_data(d / "toy.h5", x, y)
    # a user's file: channel axis missing ([N, H, W]) but the grid says 8x8
    p.wrong_shape = write_data(d / "wrong_shape.h5", x[:, 0], y[:, 0], grid=Grid((8, 8)).to_dict())
    p.diff_n = write_data(d / "diff_n.h5", x, y[:9])
    p.two_channels = write_data(d / "two_channels.h5", *_toy(12, channels=2))
    p.bad_grid = write_data(d / "bad_grid.h5", x, y, grid="{not json")
    p.unfinished = write_data(d / "unfinished.h5", x, y, complete=False)
    with h5py.File(d / "no_inputs.h5", "w") as f:
        f["something"] = np.zeros(3)
    p.no_inputs = d / "no_inputs.h5"
    p.text = d / "notes.txt"
    p.text.write_text("this is not a model or a data set\n")
    p.garbage = d / "garbage.bin"
    p.garbage.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    p.folder = d / "a_folder"
    p.folder.mkdir()
    p.existing_png = d / "exists.png"
    p.existing_png.write_bytes(b"png")
    p.marker = d / "pwned"
    p.evil_data = d / "evil_data.pt"
    write_malicious_torch_file(p.evil_data, p.marker, like="data")
    torch.save({"x": torch.zeros(4, 8, 8), "y": torch.zeros(3, 8, 8)}, d / "neuralop_n.pt")
    p.neuralop_n = d / "neuralop_n.pt"
    with h5py.File(d / "pdebench_empty.h5", "w") as f:
        f["nu"] = np.zeros((2, 8, 8))
    p.pdebench_bad = d / "pdebench_empty.h5"
    p.obs = d / "obs.json"
    p.obs.write_text(json.dumps({"points": [[0.5, 0.5]], "values": [0.1], "noise_std": 0.01}))
    p.obs_bad = d / "obs_bad.json"
    p.obs_bad.write_text(json.dumps({"points": [[0.5, 0.5]], "values": [0.1, 0.2]}))
    p.config_bad = d / "cfg_bad.json"
    p.config_bad.write_text("{model: fno")
    p.config_unknown = d / "cfg_unknown.json"
    p.config_unknown.write_text(json.dumps({"modle": "fno"}))

    # a user's 2-D system for the multigrid rows: good, not positive definite, NaN b, a
    # shuffled mask with the right count; a learned cycle for 2-D grids
    import scipy.sparse as sp

    from sciml.solvers.multigrid import LearnedCycle, save_model
    from sciml.solvers.poisson_problems import make_problem

    prob = make_problem(12, ndim=2, family="boxes", seed=1)
    A = prob.system.matrix.tocsr()
    p.sys_b, p.sys_mask = d / "sys_b.npy", d / "sys_mask.npy"
    np.save(p.sys_b, prob.b.numpy())
    np.save(p.sys_mask, prob.active.numpy())
    p.sys_A, p.nonspd = d / "sys_A.npz", d / "nonspd.npz"
    sp.save_npz(p.sys_A, A)
    sp.save_npz(p.nonspd, (A - 0.7 * sp.diags(A.diagonal())).tocsr())
    p.nan_b = d / "nan_b.npy"
    np.save(p.nan_b, np.full(A.shape[0], np.nan))
    shuffled = np.zeros(prob.active.shape, dtype=bool)
    rng = np.random.default_rng(0)
    shuffled.reshape(-1)[rng.permutation(shuffled.size)[: A.shape[0]]] = True
    p.shuffled = d / "shuffled.npy"
    np.save(p.shuffled, shuffled)
    p.lmg2d = d / "lmg2d.pt"
    save_model(LearnedCycle(ndim=2), p.lmg2d, {"command": "test"})

    p.run = d / "run"
    rc = main(["train", "--model", "fno", "--data", str(p.data), "--out", str(p.run),
               "--epochs", "1", "--batch-size", "4", "--width", "4", "--modes", "2",
               "--n-test", "3", "--no-progress", "--device", "cpu"])  # fmt: skip
    assert rc == 0

    def variant(name, **replace):
        run = d / name
        shutil.copytree(p.run, run)
        for fname, content in replace.items():
            target = run / fname.replace("_", ".")
            if isinstance(content, Path):
                shutil.copy(content, target)
            elif content is None:
                target.unlink()
            else:
                target.write_text(content)
        return run

    p.run_garbage = variant("run_garbage", model_pt=p.garbage)
    p.run_text = variant("run_text", model_pt=p.text)
    p.run_ckpt = variant("run_ckpt", model_pt=p.run / "last.pt")
    p.run_evil = variant("run_evil")
    write_malicious_torch_file(p.run_evil / "model.pt", p.marker, like="model")
    write_malicious_torch_file(p.run_evil / "last.pt", p.marker, like="checkpoint")
    p.run_split = variant("run_split", split_json="[1, 2")
    p.run_split_range = variant("run_split_range")
    split = json.loads((p.run / "split.json").read_text())
    split["test"] = [0, 999]
    (p.run_split_range / "split.json").write_text(json.dumps(split))
    p.run_config = variant("run_config", config_json=json.dumps({"train": {}}))
    p.run_nomodel = variant("run_nomodel", model_pt=None)
    p.trav = d / "trav"  # a tiny traversal run (seconds), made by the command itself
    assert main(["train-traversal", "--out", str(p.trav), "--budget", "smoke",
                 "--no-progress"]) == 0  # fmt: skip
    p.run_evaluated = variant("run_evaluated")
    (p.run_evaluated / "eval").mkdir()
    (p.run_evaluated / "eval" / "eval.md").write_text("# an earlier evaluation\n")
    # issue 29: files that reach outside themselves, nested inputs, existing outputs
    secret = d / "secret.bin"
    secret.write_bytes(x.tobytes())
    p.h5_external = d / "external.h5"
    with h5py.File(p.h5_external, "w") as f:
        f.create_dataset("inputs", shape=x.shape, dtype=x.dtype,
                         external=[(str(secret), 0, x.nbytes)])  # fmt: skip
    for target in (p.h5_external,):
        with h5py.File(target, "a") as f:
            f["outputs"], f["seeds"] = y, np.arange(x.shape[0], dtype=np.int64)
            f["done"] = np.ones(x.shape[0], dtype=bool)
            f.attrs["grid"] = json.dumps(Grid((8, 8), periodic=True).to_dict())
            f.attrs["recipe"], f.attrs["params"], f.attrs["complete"] = "toy", "{}", True
    p.h5_extlink = write_data(d / "extlink.h5", x, y)
    with h5py.File(p.h5_extlink, "a") as f:
        del f["inputs"]
        f["inputs"] = h5py.ExternalLink(str(p.data), "/inputs")
    p.h5_virtual = write_data(d / "virtual.h5", x, y)
    with h5py.File(p.h5_virtual, "a") as f:
        del f["inputs"]
        layout = h5py.VirtualLayout(shape=x.shape, dtype=x.dtype)
        layout[...] = h5py.VirtualSource(str(p.data), "inputs", shape=x.shape)
        f.create_virtual_dataset("inputs", layout)
    deep = "[" * 50 + "]" * 50
    p.config_deep = d / "cfg_deep.json"
    p.config_deep.write_text('{"model": "fno", "train": {"extra": ' + deep + "}}")
    p.config_recursive = d / "cfg_recursive.json"
    p.config_recursive.write_text("[" * 200_000 + "]" * 200_000)
    p.obs_deep = d / "obs_deep.json"
    p.obs_deep.write_text('{"points": ' + deep + ', "values": [1.0], "noise_std": 0.1}')
    p.old_quickstart = d / "old_quickstart"
    p.old_quickstart.mkdir()
    (p.old_quickstart / "fem_poisson.png").write_bytes(b"png")
    p.xsol = d / "xsol.npy"
    np.save(p.xsol, np.zeros(3))
    p.json_out = d / "rows.json"
    p.json_out.write_text("[]")
    p.bench_old = d / "bench_old"
    (p.bench_old / "physics_speed").mkdir(parents=True)
    (p.bench_old / "physics_speed" / "r.json").write_text("{}")
    import scipy.sparse as sp

    T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(4, 4))
    sp.save_npz(d / "A.npz", (sp.kron(T, sp.eye(4)) + sp.kron(sp.eye(4), T)).tocsr())
    p.A = d / "A.npz"
    np.save(d / "b.npy", np.ones(16))
    p.b = d / "b.npy"
    np.save(d / "mask.npy", np.ones((4, 4), dtype=bool))
    p.mask = d / "mask.npy"
    _mesh_files(p, d)
    p.empty_run = d / "empty_run"
    p.empty_run.mkdir()
    return p


def _mesh_files(p, d) -> None:
    """Mesh data files (good, NaN coordinates, a mesh without cells, a value count that is not
    the node count, 3-D points) and a 2-D Transolver run (1 epoch) trained on the good one."""
    from sciml.datasets.mesh_files import write_mesh_dataset
    from sciml.datasets.mesh_sample import MeshSample
    from sciml.mesh import Mesh

    def samples(dim):
        meshes = [Mesh.rectangle(3 + i % 3, 3) if dim == 2 else Mesh.box(2, 2, 1 + i % 2)
                  for i in range(8)]  # fmt: skip
        return [
            MeshSample.from_mesh(m, outputs=m.points.sum(1) * (1 + i)) for i, m in enumerate(meshes)
        ]

    p.mesh_data = write_mesh_dataset(d / "mesh.h5", samples(2), resolution=8)
    p.mesh_3d = write_mesh_dataset(d / "mesh_3d.h5", samples(3), resolution=4)
    for name, key, edit in [
        ("mesh_nan", "meshes/2/points", lambda a: np.where(np.arange(a.size).reshape(a.shape) == 3, np.nan, a)),
        ("mesh_nocells", "meshes/1/cells", lambda a: a[:0]),
        ("mesh_mismatch", "meshes/0/output_0", lambda a: a[:-1]),
    ]:  # fmt: skip
        path = d / f"{name}.h5"
        shutil.copy(p.mesh_data, path)
        with h5py.File(path, "a") as f:
            arr = edit(f[key][...])
            del f[key]
            f[key] = arr
        setattr(p, name, path)
    p.mesh_run = d / "mesh_run"
    rc = main(["train", "--model", "transolver", "--data", str(p.mesh_data), "--out", str(p.mesh_run),
               "--epochs", "1", "--batch-size", "2", "--width", "8", "--layers", "1", "--heads",
               "2", "--slices", "2", "--n-test", "2", "--no-progress", "--device", "cpu"])  # fmt: skip
    assert rc == 0


D, R = "{data}", "{run}"
#: (id, argv with {placeholders} for the files fixture, fragment of the one-line message)
TABLE = [
    # ---------------------------------------------------------------- sciml info
    ("info-extra-arg", ["info", "extra"], "unrecognized arguments"),
    # ---------------------------------------------------------------- sciml data generate
    ("gen-unknown-recipe", ["data", "generate", "nope", "--n", "1", "--out", "{tmp}/a.h5"],
     "unknown recipe 'nope'"),
    ("gen-n-0", ["data", "generate", "darcy-pwc", "--n", "0", "--out", "{tmp}/a.h5"],
     "argument --n: must be >= 1"),
    ("gen-nan-param", ["data", "generate", "darcy-pwc", "--n", "2", "--param", "tau=nan",
                       "--out", "{tmp}/nan.h5"], "tau must be a finite number"),
    ("gen-negative-param", ["data", "generate", "darcy-pwc", "--n", "2", "--param", "tau=-1",
                            "--out", "{tmp}/neg.h5"], "tau must be >= 0"),
    ("gen-unknown-param", ["data", "generate", "darcy-pwc", "--n", "2", "--param", "tua=1",
                           "--out", "{tmp}/a.h5"], "unknown parameter 'tua'"),
    ("gen-param-syntax", ["data", "generate", "darcy-pwc", "--n", "2", "--param", "tau",
                          "--out", "{tmp}/a.h5"], "--param expects KEY=VALUE"),
    ("gen-small-resolution", ["data", "generate", "darcy-pwc", "--n", "2", "--resolution", "3",
                              "--out", "{tmp}/a.h5"], "resolution must be >= 5"),
    ("gen-out-folder", ["data", "generate", "darcy-pwc", "--n", "2", "--out", "{folder}"],
     "is a folder"),
    ("gen-out-under-file", ["data", "generate", "darcy-pwc", "--n", "2", "--out",
                            "{text}/x.h5"], "is a file, not a folder"),
    ("gen-resume-nothing", ["data", "generate", "darcy-pwc", "--n", "2", "--resume", "--out",
                            "{tmp}/none.h5"], "--resume: neither"),
    ("gen-workers-0", ["data", "generate", "darcy-pwc", "--n", "2", "--workers", "0",
                       "--out", "{tmp}/a.h5"], "argument --workers: must be >= 1"),
    # ---------------------------------------------------------------- sciml data info
    ("info-missing", ["data", "info", "{tmp}/none.h5"], "does not exist"),
    ("info-text-file", ["data", "info", "{text}"], "not a readable HDF5 file"),
    ("info-wrong-shape", ["data", "info", "{wrong_shape}"], "/inputs has shape [12, 8, 8]"),
    ("info-different-n", ["data", "info", "{diff_n}"],
     "/inputs holds 12 samples but /outputs holds 9"),
    ("info-not-a-dataset", ["data", "info", "{no_inputs}"], "no /inputs array"),
    ("info-bad-grid-attr", ["data", "info", "{bad_grid}"], "attribute 'grid' is not valid JSON"),
    ("info-folder", ["data", "info", "{folder}"], "is not a file"),
    # ---------------------------------------------------------------- sciml data show
    ("show-no-extension", ["data", "show", D, "--out", "{tmp}/noext"],
     "must end in a picture extension"),
    ("show-index", ["data", "show", D, "--index", "99", "--out", "{tmp}/s.png"],
     "index must lie in [0, 12)"),
    ("show-negative-index", ["data", "show", D, "--index", "-1", "--out", "{tmp}/s.png"],
     "argument --index: must be >= 0"),
    ("show-wrong-shape", ["data", "show", "{wrong_shape}", "--out", "{tmp}/s.png"],
     "/inputs has shape [12, 8, 8]"),
    ("show-different-n", ["data", "show", "{diff_n}", "--out", "{tmp}/s.png"],
     "/outputs holds 9"),
    ("show-out-exists", ["data", "show", D, "--out", "{existing_png}"],
     "exists; pass --overwrite"),
    ("show-out-under-file", ["data", "show", D, "--out", "{text}/s.png"],
     "is a file, not a folder"),
    # ---------------------------------------------------------------- sciml data import
    ("import-out-exists", ["data", "import", "{neuralop_n}", "--format", "neuralop-pt",
                           "--out", D], "exists; pass --overwrite"),
    ("import-code-running-pt", ["data", "import", "{evil_data}", "--format", "neuralop-pt",
                                "--out", "{tmp}/i.h5"], "was refused"),
    ("import-text-as-pt", ["data", "import", "{text}", "--format", "neuralop-pt", "--out",
                           "{tmp}/i.h5"], "is not a readable torch file"),
    ("import-different-n", ["data", "import", "{neuralop_n}", "--format", "neuralop-pt",
                            "--out", "{tmp}/i.h5"], "holds 4 samples but 'y' holds 3"),
    ("import-pdebench-no-tensor", ["data", "import", "{pdebench_bad}", "--format", "pdebench",
                                   "--out", "{tmp}/i.h5"], "no 'tensor' array"),
    ("import-missing", ["data", "import", "{tmp}/none.pt", "--format", "pdebench", "--out",
                        "{tmp}/i.h5"], "does not exist"),
    ("import-format", ["data", "import", "{text}", "--format", "csv", "--out", "{tmp}/i.h5"],
     "invalid choice: 'csv'"),
    # ---------------------------------------------------------------- sciml train
    ("train-unknown-model", ["train", "--model", "resnet", "--data", D, "--out", "{tmp}/t1"],
     "argument --model: invalid choice: 'resnet'"),
    ("train-missing-data", ["train", "--model", "fno", "--data", "{tmp}/none.h5", "--out",
                            "{tmp}/t2"], "does not exist"),
    ("train-wrong-shape", ["train", "--model", "fno", "--data", "{wrong_shape}", "--out",
                           "{tmp}/t3"], "/inputs has shape [12, 8, 8]"),
    ("train-different-n", ["train", "--model", "fno", "--data", "{diff_n}", "--out",
                           "{tmp}/t4"], "/outputs holds 9"),
    ("train-unfinished", ["train", "--model", "fno", "--data", "{unfinished}", "--out",
                          "{tmp}/t5"], "is not complete"),
    ("train-existing-run", ["train", "--model", "fno", "--data", D, "--out", R],
     "already holds a run"),
    ("train-out-is-file", ["train", "--model", "fno", "--data", D, "--out", "{text}"],
     "is a file, expected a folder"),
    ("train-resume-other-model", ["train", "--model", "unet", "--data", D, "--out", R,
                                  "--resume"], "trained a 'fno' model, not 'unet'"),
    ("train-resume-nothing", ["train", "--model", "fno", "--data", D, "--out", "{empty_run}",
                              "--resume"], "nothing to resume"),
    ("train-resume-and-overwrite", ["train", "--model", "fno", "--data", D, "--out", R,
                                    "--resume", "--overwrite"], "exclude each other"),
    ("train-resume-code-running", ["train", "--model", "fno", "--data", D, "--out",
                                   "{run_evil}", "--resume", "--n-test", "3"], "was refused"),
    ("train-resume-other-split", ["train", "--model", "fno", "--data", D, "--out", R,
                                  "--resume"], "differs from the run's split.json"),
    ("train-epochs-0", ["train", "--model", "fno", "--data", D, "--out", "{tmp}/t6",
                        "--epochs", "0"], "argument --epochs: must be >= 1"),
    ("train-lr-nan", ["train", "--model", "fno", "--data", D, "--out", "{tmp}/t6",
                      "--lr", "nan"], "argument --lr: must be a finite number"),
    ("train-config-not-json", ["train", "--config", "{config_bad}", "--out", "{tmp}/t7"],
     "is not valid JSON"),
    ("train-config-unknown-key", ["train", "--config", "{config_unknown}", "--out",
                                  "{tmp}/t8"], "unknown key(s) ['modle']"),
    ("train-device", ["train", "--model", "fno", "--data", D, "--out", "{tmp}/t9",
                      "--device", "gpu"], "unknown device 'gpu'"),
    ("train-n-train", ["train", "--model", "fno", "--data", D, "--out", "{tmp}/t10",
                       "--n-train", "100"], "n_train=100"),
    ("train-no-model", ["train", "--data", D, "--out", "{tmp}/t11"], "--model is required"),
    # mesh operators on mesh data files (point sets of varying size)
    ("train-mesh-nan-points", ["train", "--model", "transolver", "--data", "{mesh_nan}", "--out",
                               "{tmp}/t12"], "points contains NaN or infinite coordinates"),
    ("train-mesh-no-cells", ["train", "--model", "transolver", "--data", "{mesh_nocells}",
                             "--out", "{tmp}/t13"], "cells: the mesh has no cells"),
    ("train-mesh-value-count", ["train", "--model", "gino", "--data", "{mesh_mismatch}", "--out",
                                "{tmp}/t14"], "outputs: expected one value per node (16 nodes)"),
    ("train-mesh-model-grid-data", ["train", "--model", "geo-lsm", "--data", D, "--out",
                                    "{tmp}/t15"], "holds no per-sample meshes"),
    # ---------------------------------------------------------------- sciml eval
    ("eval-missing-run", ["eval", "{tmp}/none", "--data", D], "does not exist"),
    ("eval-no-model", ["eval", "{run_nomodel}", "--data", D], "has no model.pt"),
    ("eval-garbage-model", ["eval", "{run_garbage}", "--data", D],
     "is not a readable torch file"),
    ("eval-text-model", ["eval", "{run_text}", "--data", D], "is not a readable torch file"),
    ("eval-checkpoint-as-model", ["eval", "{run_ckpt}", "--data", D],
     "has format 'sciml-checkpoint-v2', expected 'sciml-model-v2'"),
    ("eval-code-running-model", ["eval", "{run_evil}", "--data", D], "was refused"),
    ("eval-wrong-shape", ["eval", R, "--data", "{wrong_shape}", "--out", "{tmp}/e1"],
     "/inputs has shape [12, 8, 8]"),
    ("eval-data-does-not-fit", ["eval", R, "--data", "{two_channels}", "--out", "{tmp}/e2"],
     "the model takes 1 input channels, the data have 2"),
    ("eval-resolutions", ["eval", R, "--data", D, "--resolutions", "8,x"],
     "argument --resolutions: expected an integer"),
    ("eval-out-is-file", ["eval", R, "--data", D, "--out", "{text}"],
     "is a file, expected a folder"),
    ("eval-split-not-json", ["eval", "{run_split}", "--data", D], "is not valid JSON"),
    ("eval-split-indices", ["eval", "{run_split_range}", "--data", D],
     "field 'test' must hold sample indices in [0, 12), found 999"),
    ("eval-config-no-model", ["eval", "{run_config}", "--data", D], "missing field 'model'"),
    ("eval-device", ["eval", R, "--data", D, "--device", "gpu"], "unknown device 'gpu'"),
    ("eval-mesh-3d-points", ["eval", "{mesh_run}", "--data", "{mesh_3d}", "--out", "{tmp}/e3"],
     "points: data file"),
    ("eval-mesh-resolutions", ["eval", "{mesh_run}", "--data", "{mesh_data}", "--resolutions",
                               "8,16", "--out", "{tmp}/e4"], "resolutions: the discretisation"),
    # ---------------------------------------------------------------- sciml solve
    ("solve-rtol-0", ["solve", "poisson", "--rtol", "0"], "argument --rtol: must be > 0"),
    ("solve-rtol-text", ["solve", "poisson", "--rtol", "tiny"], "argument --rtol: expected"),
    ("solve-method", ["solve", "poisson", "--method", "lu"], "invalid choice: 'lu'"),
    ("solve-gp-n", ["solve", "gp", "--n", "many"], "argument --n: expected an integer"),
    ("solve-system-no-matrix", ["solve", "system", "--matrix", "{tmp}/none.npz", "--rhs",
                                "{text}", "--mask", "{text}"], "--matrix file"),
    ("solve-system-text-matrix", ["solve", "system", "--matrix", "{text}", "--rhs", "{text}",
                                  "--mask", "{text}"], "expected .npy, .npz"),
    ("solve-mg-not-spd", ["solve", "system", "--matrix", "{nonspd}", "--rhs", "{sys_b}", "--mask",
                          "{sys_mask}", "--method", "mg-pcg", "--device", "cpu"],
     "A is not positive definite"),
    ("solve-mg-nan-rhs", ["solve", "system", "--matrix", "{sys_A}", "--rhs", "{nan_b}", "--mask",
                          "{sys_mask}", "--method", "mg-pcg", "--device", "cpu"],
     "--rhs contains NaN"),
    ("solve-mg-mask-not-A", ["solve", "system", "--matrix", "{sys_A}", "--rhs", "{sys_b}",
                             "--mask", "{shuffled}", "--method", "mg-pcg", "--device", "cpu"],
     "A does not match mask: matrix has"),
    ("solve-lmg-model-2d", ["solve", "poisson", "--n", "8", "--method", "lmg-pcg", "--lmg-model",
                            "{lmg2d}", "--device", "cpu"], "is a 2-D learned cycle"),
    ("solve-lmg-model-code", ["solve", "poisson", "--n", "8", "--method", "lmg-pcg",
                              "--lmg-model", "{run_evil}/model.pt", "--device", "cpu"],
     "was refused"),
    # ---------------------------------------------------------------- sciml train-lmg
    ("train-lmg-existing-run", ["train-lmg", "--out", R, "--budget", "1"], "is not empty"),
    ("train-lmg-budget-0", ["train-lmg", "--out", "{tmp}/l1", "--budget", "0"],
     "argument --budget: must be > 0"),
    # ---------------------------------------------------------------- sciml train-dcdm
    ("train-dcdm-existing-run", ["train-dcdm", "--out", R, "--budget", "1"], "is not empty"),
    ("train-dcdm-model-out-exists", ["train-dcdm", "--out", "{tmp}/d1", "--model-out",
                                     "{text}", "--budget", "1"], "--model-out"),
    # ---------------------------------------------------------------- sciml quickstart
    ("quickstart-samples-1", ["quickstart", "--samples", "1", "--out", "{tmp}/q1"],
     "samples must be an integer >= 20"),
    ("quickstart-out-is-file", ["quickstart", "--out", "{text}"], "is a file, expected a folder"),
    ("quickstart-budget-0", ["quickstart", "--budget", "0"], "argument --budget: must be > 0"),
    ("quickstart-n-2", ["quickstart", "--n", "2", "--out", "{tmp}/q2"], "n must be an integer >= 4"),
    # ---------------------------------------------------------------- sciml nde
    ("nde-json-folder", ["nde", "spiral-ode", "--json", "{folder}"], "is a folder"),
    ("nde-json-under-file", ["nde", "spiral-ode", "--json", "{text}/r.json"],
     "is a file, not a folder"),
    ("nde-reg", ["nde", "spiral-ode", "--reg", "magic"], "invalid choice: 'magic'"),
    ("nde-task", ["nde", "lorenz"], "invalid choice: 'lorenz'"),
    ("nde-weight-scale-0", ["nde", "spiral-ode", "--weight-scale", "0"],
     "argument --weight-scale: must be > 0"),
    # ---------------------------------------------------------------- sciml nde sweep
    ("nde-sweep-task", ["nde", "sweep", "lorenz", "--out", "{tmp}/s"], "invalid choice: 'lorenz'"),
    ("nde-sweep-reg", ["nde", "sweep", "digits", "--reg", "magic", "--out", "{tmp}/s"],
     "invalid choice: 'magic'"),
    ("nde-sweep-reg-no-weight", ["nde", "sweep", "digits", "--reg", "steer", "--out", "{tmp}/s"],
     "a sweep varies the penalty weight of one of ('rnode', 'error'"),
    ("nde-sweep-reg-unsupported", ["nde", "sweep", "spiral-sde", "--reg", "error", "--out",
                                   "{tmp}/s"], "one of ('local-error',), got 'error'"),
    ("nde-sweep-weight-0", ["nde", "sweep", "digits", "--weights", "0", "1", "--out", "{tmp}/s"],
     "weights must be finite and > 0, got [0.0, 1.0]"),
    ("nde-sweep-weight-negative", ["nde", "sweep", "digits", "--weights", "-1", "1", "--out",
                                   "{tmp}/s"], "weights must be finite and > 0"),
    ("nde-sweep-one-weight", ["nde", "sweep", "digits", "--weights", "1", "--out", "{tmp}/s"],
     "a sweep needs at least 2 different weights"),
    ("nde-sweep-one-point", ["nde", "sweep", "digits", "--points", "1", "--out", "{tmp}/s"],
     "a sweep needs at least 2 weights (points >= 2)"),
    ("nde-sweep-seeds-0", ["nde", "sweep", "digits", "--seeds", "0", "--out", "{tmp}/s"],
     "argument --seeds: must be >= 1"),
    ("nde-sweep-no-out", ["nde", "sweep", "digits"], "required: --out"),
    ("nde-sweep-out-exists", ["nde", "sweep", "digits", "--out", "{tmp}/exists"],
     "exists; pass --overwrite"),
    ("nde-sweep-out-under-file", ["nde", "sweep", "digits", "--out", "{text}/s"],
     "is a file, not a folder"),
    # ---------------------------------------------------------------- sciml invert
    ("invert-obs-missing", ["invert", "darcy", R, "--obs", "{tmp}/none.json", "--out",
                            "{tmp}/inv"], "does not exist"),
    ("invert-obs-fields", ["invert", "darcy", R, "--obs", "{obs_bad}", "--out", "{tmp}/inv"],
     "obs_bad.json"),
    ("invert-out-is-file", ["invert", "darcy", R, "--obs", "{obs}", "--out", "{text}"],
     "is a file, expected a folder"),
    ("invert-not-dgno", ["invert", "darcy", R, "--obs", "{obs}", "--out", "{tmp}/inv"],
     "not a DGNO model"),
    ("invert-code-running-model", ["invert", "darcy", "{run_evil}", "--obs", "{obs}", "--out",
                                   "{tmp}/inv"], "was refused"),
    ("invert-garbage-model", ["invert", "darcy", "{run_garbage}", "--obs", "{obs}", "--out",
                              "{tmp}/inv"], "is not a readable torch file"),
    ("invert-method", ["invert", "darcy", R, "--obs", "{obs}", "--out", "{tmp}/inv",
                       "--method", "mcmc"], "invalid choice: 'mcmc'"),
    # ---------------------------------------------------------------- sciml traverse
    ("traverse-no-run", ["traverse", "{tmp}/no_run", "--out", "{tmp}/m"], "does not exist"),
    ("traverse-out-is-file", ["traverse", R, "--out", "{text}"], "is a file, expected a folder"),
    ("traverse-not-traversal", ["traverse", R, "--out", "{tmp}/m"],
     "holds a 'fno' model; expected one of ['latent-traversal']"),
    ("traverse-code-running-model", ["traverse", "{run_evil}", "--out", "{tmp}/m"],
     "model.pt' was refused: it contains Python objects"),
    ("traverse-garbage-model", ["traverse", "{run_garbage}", "--out", "{tmp}/m"],
     "is not a readable torch file"),
    ("traverse-starts-0", ["traverse", R, "--out", "{tmp}/m", "--starts", "0"],
     "argument --starts: must be >= 1"),
    ("invert-seismic-out-is-file", ["invert", "seismic", R, "--data", D, "--out", "{text}"],
     "is a file, expected a folder"),
    ("invert-seismic-data-missing", ["invert", "seismic", R, "--data", "{tmp}/none.h5", "--out",
                                     "{tmp}/inv"], "does not exist"),
    ("invert-seismic-not-seismic-data", ["invert", "seismic", R, "--data", D, "--out",
                                         "{tmp}/inv"], "not an OpenFWI-scheme seismic recipe"),
    ("invert-seismic-iterations", ["invert", "seismic", R, "--data", D, "--out", "{tmp}/inv",
                                   "--iterations", "-1"], "--iterations: must be >= 0"),
    ("invert-seismic-no-model", ["invert", "seismic", "{run_nomodel}", "--data", D, "--out",
                                 "{tmp}/inv"], "no model file"),
    # ---------------------------------------------------------------- sciml bench
    ("bench-unknown", ["bench", "no-such-benchmark"], "unknown benchmark(s) ['no-such-benchmark']"),
    ("bench-out-is-file", ["bench", "physics_speed", "--out", "{text}"],
     "is a file, expected a folder"),
    ("bench-earlier-results", ["bench", "physics_speed", "--out", "{bench_old}"],
     "holds earlier results of ['physics_speed']"),
    # ---------------------------------------------------------------- issue 29: overwrites
    ("solve-system-out-suffix", ["solve", "system", "--matrix", "{A}", "--rhs", "{b}", "--mask",
                                 "{mask}", "--method", "cg", "--out", "{tmp}/xsol"],
     "xsol.npy' exists; pass --overwrite"),
    ("solve-plot-exists", ["solve", "poisson", "--n", "8", "--plot", "{existing_png}"],
     "--plot"),
    ("solve-plot-not-png", ["solve", "poisson", "--n", "8", "--plot", "{tmp}/conv"],
     "expected a .png file name"),
    ("nde-json-exists", ["nde", "spiral-ode", "--json", "{json_out}"], "exists; pass --overwrite"),
    ("eval-twice", ["eval", "{run_evaluated}", "--data", D], "holds an earlier evaluation"),
    ("quickstart-earlier-results", ["quickstart", "--out", "{old_quickstart}"],
     "holds an earlier quickstart's results"),
    ("gen-resume-and-overwrite", ["data", "generate", "darcy-pwc", "--n", "2", "--out",
                                  "{tmp}/g.h5", "--resume", "--overwrite"],
     "--resume and --overwrite exclude each other"),
    # ---------------------------------------------------------------- issue 29: no tracebacks
    ("solve-threads-negative", ["solve", "poisson", "--threads", "-1"],
     "argument --threads: must be >= 0"),
    ("invert-darcy-chains-0", ["invert", "darcy", R, "--obs", "{obs}", "--out", "{tmp}/inv",
                               "--chains", "0"], "argument --chains: must be >= 1"),
    ("solve-system-rhs-batch-bad", ["solve", "system", "--matrix", "{A}", "--rhs", "{mask}",
                                    "--mask", "{mask}", "--method", "cg"], "--rhs"),
    ("gen-n-huge", ["data", "generate", "darcy-pwc", "--n", "1000000000000", "--out",
                    "{tmp}/big.h5"], "of memory, more than the"),
    ("gen-resolution-huge", ["data", "generate", "darcy-pwc", "--n", "2", "--resolution",
                             "100000", "--out", "{tmp}/big.h5"], "of memory, more than the"),
    ("eval-resolutions-huge", ["eval", R, "--data", D, "--resolutions", "50000", "--out",
                               "{tmp}/ebig"], "of memory, more than the"),
    ("solve-poisson-n-huge", ["solve", "poisson", "--n", "100000"], "of memory, more than the"),
    ("solve-gp-n-huge", ["solve", "gp", "--n", "100000000", "--out", "{tmp}/gpbig"],
     "of memory, more than the"),
    ("train-config-nested", ["train", "--config", "{config_deep}", "--out", "{tmp}/t12"],
     "nested too deeply"),
    ("train-config-recursive", ["train", "--config", "{config_recursive}", "--out",
                                "{tmp}/t13"], "nested too deeply"),
    ("invert-darcy-obs-nested", ["invert", "darcy", R, "--obs", "{obs_deep}", "--out",
                                 "{tmp}/inv2"], "nested too deeply"),
    ("train-seismic-model-on-grid-data", ["train", "--model", "latent-unet", "--data", D,
                                          "--out", "{tmp}/t14"], "trains on seismic data"),
    # ---------------------------------------------------------------- issue 29: HDF5 reach
    ("info-external-storage", ["data", "info", "{h5_external}"], "with external storage"),
    ("show-external-link", ["data", "show", "{h5_extlink}", "--out", "{tmp}/s.png"],
     "external link 'inputs'"),
    ("train-virtual-dataset", ["train", "--model", "fno", "--data", "{h5_virtual}", "--out",
                               "{tmp}/t15"], "virtual dataset 'inputs'"),
    ("export-obs-no-observations", ["data", "export-obs", D, "--out", "{tmp}/o.json"],
     "holds no observations"),
    ("export-obs-out-exists", ["data", "export-obs", D, "--out", "{existing_png}"],
     "exists; pass --overwrite"),
    ("traverse-scale-huge", ["traverse", "{trav}", "--out", "{tmp}/m2", "--scale", "100000"],
     "of memory, more than the"),
    ("train-traversal-existing", ["train-traversal", "--out", "{trav}"], "holds a run"),
    # ---------------------------------------------------------------- sciml models (the zoo)
    ("models-info-unknown", ["models", "info", "nope"],
     "no model 'nope' in the zoo; available: dcdm-3d"),
    ("models-eval-unknown", ["models", "eval", "nope"], "no model 'nope' in the zoo"),
    ("models-eval-json-exists", ["models", "eval", "lmg-3d", "--json", "{json_out}"],
     "exists; pass --overwrite"),
    ("zoo-name-unknown", ["solve", "poisson", "--n", "8", "--method", "dcdm", "--model",
                          "zoo:nope"], "no model 'nope' in the zoo; available:"),
    ("zoo-name-wrong-family", ["invert", "darcy", "zoo:dcdm-3d", "--obs", "{obs}", "--out",
                               "{tmp}/inv3"], "holds a 'dcdm-net' model"),
    ("train-traversal-no-vae", ["train-traversal", "--out", "{tmp}/tt", "--vae",
                                "{tmp}/none.pt"], "--vae"),
    ("train-traversal-method", ["train-traversal", "--out", "{tmp}/tt", "--method", "spline"],
     "invalid choice: 'spline'"),
    ("train-traversal-resume-nothing", ["train-traversal", "--out", "{tmp}/tt2", "--resume"],
     "holds no run to continue"),
]  # fmt: skip


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse usage errors
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize(("argv", "fragment"), [t[1:] for t in TABLE], ids=[t[0] for t in TABLE])
def test_bad_input_is_one_line_and_exit_2(files, argv, fragment, capsys):
    argv = [a.format(**vars(files)) for a in argv]
    before = sorted(p.name for p in files.tmp.iterdir())
    rc, out, err = run_cli(argv, capsys)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2, (rc, out[-500:], err[-2000:])
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("sciml") and ": error: " in lines[0], lines[0]
    assert fragment in lines[0], lines[0]
    assert "--only" not in lines[0]  # the bench runner's private option never leaks out
    assert not files.marker.exists(), "a code-running file was unpickled"
    # nothing was created beside the inputs (no <out>.partial, no run folder, no picture)
    assert sorted(p.name for p in files.tmp.iterdir()) == before


def test_the_table_covers_every_subcommand():
    from sciml.commands import COMMANDS

    covered = {t[1][0] for t in TABLE}
    commands = {c.replace("_", "-") for c in COMMANDS}  # train_dcdm.py: sciml train-dcdm
    assert covered >= commands, commands - covered
    data = {t[1][1] for t in TABLE if t[1][0] == "data"}
    assert data >= {"generate", "info", "show", "import", "export-obs"}


def test_data_commands_have_help_for_every_option():
    from sciml.cli import build_parser

    parser = build_parser()
    data = next(a for a in parser._actions if a.dest == "command").choices["data"]
    sub = next(a for a in data._actions if a.dest == "data_command").choices
    for name in ("show", "info", "import", "generate"):
        for action in sub[name]._actions:
            if action.dest != "help":
                assert action.help, f"sciml data {name}: {action.dest} has no help text"


@pytest.mark.parametrize(
    "argv",
    [
        ["data", "show", "{data}", "--out", "{readonly}/s.png"],
        ["data", "import", "{neuralop}", "--format", "neuralop-pt", "--out", "{readonly}/i.h5"],
        ["data", "generate", "darcy-pwc", "--n", "2", "--out", "{readonly}/g.h5"],
        ["train", "--model", "fno", "--data", "{data}", "--out", "{readonly}/run"],
        ["eval", "{run}", "--data", "{data}", "--out", "{readonly}/eval"],
        ["quickstart", "--out", "{readonly}/q"],
        ["nde", "spiral-ode", "--json", "{readonly}/r.json"],
        ["nde", "sweep", "digits", "--out", "{readonly}/s"],
        ["invert", "darcy", "{run}", "--obs", "{obs}", "--out", "{readonly}/inv"],
        ["traverse", "{run}", "--out", "{readonly}/media"],
        ["invert", "seismic", "{run}", "--data", "{data}", "--out", "{readonly}/inv"],
    ],
    ids=[
        "data-show",
        "data-import",
        "data-generate",
        "train",
        "eval",
        "quickstart",
        "nde",
        "nde-sweep",
        "invert",
        "traverse",
        "invert-seismic",
    ],  # fmt: skip
)
def test_read_only_output_folder_is_one_line_and_exit_2(files, readonly_dir, argv, capsys):
    good_pt = files.tmp / "good_neuralop.pt"
    if not good_pt.exists():
        torch.save({"x": torch.zeros(2, 8, 8), "y": torch.zeros(2, 8, 8)}, good_pt)
    names = {"data": files.data, "run": files.run, "readonly": readonly_dir, "neuralop": good_pt,
             "obs": files.obs}  # fmt: skip
    rc, out, err = run_cli([a.format(**names) for a in argv], capsys)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2 and len(lines) == 1 and "not writable" in lines[0], err
    assert list(readonly_dir.iterdir()) == []


def test_a_real_process_prints_one_line_and_runs_no_code(files):
    """The demonstrated attack end to end in a fresh process: ``sciml eval`` on a run whose
    model.pt unpickles to ``os.system``: refused, one line, exit 2, no marker file."""
    r = subprocess.run(
        [sys.executable, "-m", "sciml.cli", "eval", str(files.run_evil), "--data", str(files.data)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stderr[-2000:]
    assert len(r.stderr.strip().splitlines()) == 1 and "was refused" in r.stderr, r.stderr
    assert not files.marker.exists()
