"""Mesh operators train through the one Trainer (MeshTask), resume exactly, and go through
``sciml train`` / ``sciml eval`` on a mesh recipe's file (per-sample errors, PNGs on meshes);
a grid operator on the same file is scored back on the mesh nodes."""

import json

import numpy as np
import pytest
import torch

from sciml.cli import main
from sciml.datasets import generate
from sciml.datasets.mesh_sample import MeshSample
from sciml.mesh import Mesh
from sciml.operators.mesh import MeshTask, evaluate_mesh
from sciml.operators.registry import build
from sciml.train import TrainConfig, Trainer

pytestmark = pytest.mark.usefixtures("one_thread")


def _samples(n=24):
    """u = sin(pi x) (1 + a) y on rectangles of several sizes, a the nodal input."""
    out = []
    for i in range(n):
        m = Mesh.rectangle(4 + i % 4, 4 + i % 3, ((0.0, 1.0 + 0.1 * (i % 5)), (0.0, 1.0)))
        x, y = m.points.T
        a = np.cos(np.pi * (i % 7) / 7 * x)
        out.append(MeshSample.from_mesh(m, a, np.sin(np.pi * x) * (1 + a) * y))
    return out


def _fit(out_dir=None, epochs=15, stop=None, resume=False):
    torch.manual_seed(0)
    model = build(
        "transolver", in_channels=1, out_channels=1, width=16, layers=2, heads=2, slices=4
    )
    cfg = TrainConfig(epochs=epochs, batch_size=4, lr=3e-3, progress=False, val_fraction=0.2)
    tr = Trainer(model, cfg, task=MeshTask(), out_dir=out_dir, device="cpu")
    tr.fit(_samples(), resume=resume, stop_after_epoch=stop)
    return tr


def test_mesh_task_trains_and_resumes_exactly(tmp_path):
    tr = _fit(tmp_path / "a")
    hist = tr.history
    assert hist[-1]["train_loss"] < 0.8 * hist[0]["train_loss"]
    assert np.isfinite([h["val_l2"] for h in hist]).all()
    _fit(tmp_path / "b", stop=7)
    resumed = _fit(tmp_path / "b", resume=True)
    for (k, a), b in zip(tr.module.state_dict().items(), resumed.module.state_dict().values()):
        assert torch.equal(a, b), k
    # the normalisers were fitted on the training split and travel in the state dict
    assert tr.module.y_std.item() != 1.0 and "coord_hi" in tr.module.state_dict()


def test_mesh_task_refuses_a_model_of_another_dimension():
    model = build("transolver", in_channels=1, out_channels=1, coord_dim=3, width=8, layers=1,
                  heads=2, slices=2)  # fmt: skip
    with pytest.raises(ValueError, match="the model was built for 3-D points"):
        Trainer(model, TrainConfig(epochs=1, progress=False), task=MeshTask()).fit(_samples(4))


@pytest.fixture(scope="module")
def pipe(tmp_path_factory):
    d = tmp_path_factory.mktemp("pipe_cli")
    path = generate("stokes-pipe", 10, d / "pipe.h5",
                    params={"resolution": 16, "mesh_nx": 16, "mesh_ny": 4}, progress=False)  # fmt: skip
    return d, path


def test_sciml_train_and_eval_a_mesh_model(pipe, capsys):
    d, data = pipe
    run = d / "transolver"
    rc = main(["train", "--model", "transolver", "--data", str(data), "--out", str(run),
               "--epochs", "2", "--batch-size", "4", "--width", "8", "--layers", "1",
               "--heads", "2", "--slices", "4", "--n-test", "3", "--no-progress", "--device", "cpu"])  # fmt: skip
    assert rc == 0
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["model"]["kwargs"]["coord_dim"] == 2 and cfg["model"]["kwargs"]["out_channels"] == 2
    assert main(["eval", str(run), "--data", str(data), "--device", "cpu"]) == 0
    result = json.loads((run / "eval" / "eval.json").read_text())
    split = json.loads((run / "split.json").read_text())
    assert [r["index"] for r in result["per_sample"]] == split["test"]
    assert all(r["nodes"] == 85 and r["rel_l2"] > 0 for r in result["per_sample"])
    assert (run / "eval" / "samples.png").stat().st_size > 10_000
    assert "| sample | nodes | relative L2 |" in capsys.readouterr().out


def test_grid_baseline_on_a_mesh_file_is_scored_on_the_nodes(pipe):
    d, data = pipe
    run = d / "fno"
    rc = main(["train", "--model", "fno", "--data", str(data), "--out", str(run), "--epochs", "2",
               "--batch-size", "4", "--width", "8", "--modes", "4", "--n-test", "3",
               "--no-progress", "--device", "cpu"])  # fmt: skip
    assert rc == 0 and main(["eval", str(run), "--data", str(data), "--device", "cpu"]) == 0
    result = json.loads((run / "eval" / "eval.json").read_text())
    assert 0 < result["on_mesh_nodes"]["rel_l2_mean"] < 10


def test_evaluate_mesh_matches_a_manual_relative_l2():
    samples = _samples(3)
    model = build("gino", in_channels=1, out_channels=1, latent=8, width=4, modes=2, layers=1,
                  gno_width=4).eval()  # fmt: skip
    from sciml.datasets.point_batch import pad_point_sets

    errs = evaluate_mesh(model, pad_point_sets(samples))
    for s, e in zip(samples, errs):
        with torch.no_grad():
            p = model(torch.as_tensor(s.points[None], dtype=torch.float32),
                      torch.as_tensor(s.inputs[None]))[0].numpy()  # fmt: skip
        ref = np.linalg.norm(p - s.outputs) / np.linalg.norm(s.outputs)
        assert float(e) == pytest.approx(ref, rel=1e-5)
