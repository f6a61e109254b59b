"""``sciml invert darcy``: a tiny trained DGNO run, an observation file, fields and PNGs."""

import json

import numpy as np
import pytest
import torch

from sciml.cli import main
from sciml.grid import Grid
from sciml.inverse import Observations, save_observations
from sciml.operators.point.dgno_task import DGNOLoss, DGNOTask
from sciml.operators.registry import build
from sciml.train import TrainConfig, Trainer


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from sciml.physics.fields.random_fields import gaussian_random_field, threshold_field
    from sciml.physics.steppers.darcy import solve_darcy

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("dgno_run")
    grid = Grid((13, 13))
    g = gaussian_random_field(grid, list(range(20)), dtype=torch.float64)
    a = threshold_field(g, high=10.0, low=5.0)
    u = solve_darcy(a, grid, forcing=10.0)
    torch.manual_seed(0)
    model = build("dgno", latent=4, width=24, layers=3, coefficient_width=24,
                  coefficient_layers=3, encoder_channels=8, sensor_shape=(13, 13))  # fmt: skip
    cfg = TrainConfig(epochs=3, batch_size=6, lr=3e-3, progress=False)
    spec = DGNOLoss(radius=0.03, n_centres=16, val_centres=16)
    Trainer(model, cfg, task=DGNOTask(spec), out_dir=folder, device="cpu").fit(
        a[:16].float(), a[16:].float()
    )
    obs, _ = Observations.synthetic(u[0, 0], grid, 30, snr_db=25.0, seed=0)
    save_observations(obs, folder / "obs.json")
    np.savez(folder / "truth.npz", a=a[0, 0].numpy())
    torch.set_num_threads(n)
    return folder


def test_invert_darcy_writes_fields_plots_and_scores(run, tmp_path, capsys):
    out = tmp_path / "inv"
    argv = ["invert", "darcy", str(run), "--obs", str(run / "obs.json"), "--out", str(out),
            "--truth", str(run / "truth.npz"), "--chains", "2", "--map-steps", "10",
            "--sample-steps", "10"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "95% band" in printed and "posterior.npz" in printed
    with np.load(out / "posterior.npz") as z:
        assert z["a_mean"].shape == (13, 13) and z["a_std"].shape == (13, 13)
        assert z["obs_points"].shape == (30, 2) and "p_high" in z.files
        assert (z["a_lower"] <= z["a_upper"]).all()
    summary = json.loads((out / "summary.json").read_text())
    assert 0 <= summary["coverage_95"] <= 1 and summary["relative_l2"] > 0
    assert (out / "coefficient.png").stat().st_size > 1000 and (out / "solution.png").exists()
    # results are not overwritten without --overwrite
    assert main(argv) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 0


def test_invert_darcy_user_errors_are_one_line(run, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"points": [[0.5, 0.5]], "values": [1.0]}))
    cases = [
        (
            ["invert", "darcy", str(tmp_path / "nope"), "--obs", str(run / "obs.json")],
            "does not exist",
        ),
        (["invert", "darcy", str(run), "--obs", str(bad)], "exactly one of the fields"),
        (["invert", "darcy", str(run), "--obs", str(tmp_path / "x.json")], "does not exist"),
        (
            [
                "invert",
                "darcy",
                str(run),
                "--obs",
                str(run / "obs.json"),
                "--truth",
                str(run / "obs.json"),
            ],
            "truth file",
        ),  # fmt: skip
    ]
    for argv, message in cases:
        assert main([*argv, "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps({"points": [[1.5, 0.5]], "values": [0.1], "snr_db": 25}))
    assert (
        main(["invert", "darcy", str(run), "--obs", str(outside), "--out", str(tmp_path / "o")])
        == 2
    )
    assert "outside the domain" in capsys.readouterr().err
