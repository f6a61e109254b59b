"""`sciml train` and `sciml eval` end to end on a tiny data file in the CONTRACTS D schema."""

import json
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from train_problems import smooth_inputs, smoothing_operator  # noqa: E402

from sciml.cli import main  # noqa: E402
from sciml.grid import Grid  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture
def data_file(tmp_path):
    """20 samples of a smooth operator on a 16x16 periodic grid, written like `sciml data`."""
    x = smooth_inputs(20, size=16, seed=0)
    y = smoothing_operator(x)
    path = tmp_path / "toy.h5"
    with h5py.File(path, "w") as f:
        f["inputs"] = x.numpy()
        f["outputs"] = y.numpy()
        f["seeds"] = np.arange(20, dtype=np.int64)
        f["done"] = np.ones(20, dtype=bool)
        f.attrs["recipe"] = "toy"
        f.attrs["params"] = json.dumps({})
        f.attrs["grid"] = json.dumps(Grid((16, 16), periodic=True).to_dict())
        f.attrs["complete"] = True
    return path


def test_cli_train_then_eval(tmp_path, data_file, capsys):
    run = tmp_path / "run"
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"model_options": {"modes": 6}, "train": {"lr": 5e-3}}))
    rc = main(
        ["train", "--model", "fno", "--data", str(data_file), "--out", str(run), "--epochs", "3",
         "--batch-size", "4", "--width", "8", "--config", str(cfg), "--n-test", "5",
         "--no-progress"]
    )  # fmt: skip
    assert rc == 0
    spec = json.loads((run / "config.json").read_text())
    assert spec["model"]["kwargs"]["modes"] == 6 and spec["train"]["lr"] == 5e-3  # config file
    assert spec["model"]["kwargs"]["width"] == 8 and spec["train"]["epochs"] == 3  # flags
    split = json.loads((run / "split.json").read_text())
    assert len(split["test"]) == 5 and not set(split["test"]) & set(split["train"])

    rc = main(["eval", str(run), "--data", str(data_file), "--resolutions", "8,16,32"])
    assert rc == 0
    res = json.loads((run / "eval" / "eval.json").read_text())
    assert res["n"] == 5  # the held-out test split, not the training samples
    assert 0 < res["rel_l2_mean"] < 2
    by_res = {r["resolution"]: r for r in res["transfer"]}
    # at the training resolution the transfer path is the plain evaluation
    assert by_res[16]["rel_l2"] == pytest.approx(res["rel_l2_mean"], rel=1e-4)
    for name in ("eval.md", "error_histogram.png", "samples.png"):
        assert (run / "eval" / name).stat().st_size > 0
    assert "relative L2 (mean)" in capsys.readouterr().out


def test_cli_errors_are_clear(tmp_path, data_file, capsys):
    with pytest.raises(SystemExit) as exc:  # an unknown name is argparse's one line, exit 2
        main(["train", "--model", "resnet", "--data", str(data_file), "--out", str(tmp_path)])
    assert exc.value.code == 2 and "invalid choice: 'resnet'" in capsys.readouterr().err
    rc = main(["train", "--model", "fno", "--data", str(tmp_path / "no.h5"), "--out", "x"])
    assert rc == 2 and "does not exist" in capsys.readouterr().err
    rc = main(["eval", str(tmp_path / "nothing"), "--data", str(data_file)])
    assert rc == 2 and "nothing' does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    rc = main(["eval", str(tmp_path / "empty"), "--data", str(data_file)])
    assert rc == 2 and "has no model.pt" in capsys.readouterr().err


def test_cli_rollout_train_then_eval(tmp_path):
    """Time-dependent data (inputs = initial frame, outputs = later frames): 2 in -> 3 out."""
    from train_problems import heat_trajectories

    u0, frames = heat_trajectories(12, frames=5, size=16, seed=2)
    path = tmp_path / "heat.h5"
    with h5py.File(path, "w") as f:
        f["inputs"], f["outputs"] = u0.numpy(), frames.numpy()
        f["seeds"], f["done"] = np.arange(12, dtype=np.int64), np.ones(12, dtype=bool)
        f.attrs["grid"] = json.dumps(Grid((16, 16), periodic=True).to_dict())
        f.attrs["complete"], f.attrs["recipe"], f.attrs["params"] = True, "heat", "{}"
    run = tmp_path / "run"
    args = ["train", "--model", "fno", "--data", str(path), "--out", str(run), "--epochs", "2",
            "--width", "8", "--modes", "4", "--input-frames", "2", "--rollout-steps", "3",
            "--n-test", "3", "--no-progress"]  # fmt: skip
    assert main(args) == 0
    assert main(["eval", str(run), "--data", str(path), "--resolutions", "8"]) == 0
    res = json.loads((run / "eval" / "eval.json").read_text())
    assert res["n"] == 3 and np.isfinite(res["rel_l2_mean"])
    assert np.isfinite(res["transfer"][0]["rel_l2"])
