"""``sciml train --model dgno``: label-free DGNO training into a run folder, then eval/invert."""

import json

import pytest

from sciml.cli import main

SMALL = {
    "model_options": {
        "latent": 16,
        "width": 40,
        "layers": 3,
        "coefficient_width": 40,
        "encoder_channels": 8,
    },
    "task_options": {"n_centres": 16, "val_centres": 32},
}


@pytest.fixture(scope="module")
def two_phase(tmp_path_factory):
    from sciml.datasets import generate

    path = tmp_path_factory.mktemp("dgno") / "two-phase.h5"
    generate("darcy-two-phase", 40, path, seed=0, progress=False)
    return path


def test_dgno_trains_label_free_from_the_cli(tmp_path, two_phase, capsys):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps(SMALL))
    run = tmp_path / "run"
    argv = ["train", "--model", "dgno", "--data", str(two_phase), "--out", str(run)]
    argv += ["--config", str(cfg), "--epochs", "60", "--batch-size", "8", "--lr", "2e-3"]
    assert main([*argv, "--no-progress"]) == 0
    assert "best validation val_loss" in capsys.readouterr().out
    hist = json.loads((run / "history.json").read_text())
    # the physics (weak-form) validation loss falls, and the solutions it never saw follow
    assert hist[-1]["val_loss"] < 0.6 * hist[0]["val_loss"]
    assert hist[-1]["val_l2"] < 0.65 < hist[0]["val_l2"]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["selection_metric"] == "val_loss"
    assert main(["eval", str(run), "--data", str(two_phase)]) == 0
    l2 = json.loads((run / "eval" / "eval.json").read_text())["rel_l2_mean"]
    assert l2 < 0.65  # 0.43 measured; an untrained DGNO gives 1.02
    # the saved model carries what an inversion needs
    from sciml.inverse.latent_inversion import load_dgno_run

    model, loss, std = load_dgno_run(run)
    assert loss.n_centres == 16 and std > 0


def test_dgno_refuses_data_of_another_recipe(tmp_path, capsys):
    from sciml.datasets import generate

    data = tmp_path / "pwc.h5"
    generate("darcy-pwc", 2, data, seed=0, params={"resolution": 17}, progress=False)
    argv = ["train", "--model", "dgno", "--data", str(data), "--out", str(tmp_path / "r")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "DGNO Darcy recipe" in err and "darcy-pwc" in err


def test_task_options_are_refused_for_supervised_models(tmp_path, two_phase, capsys):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"task_options": {"n_centres": 4}}))
    argv = ["train", "--model", "fno", "--data", str(two_phase), "--out", str(tmp_path / "r")]
    assert main([*argv, "--config", str(cfg)]) == 2
    assert "task_options" in capsys.readouterr().err


def test_dgno_task_options_are_checked(tmp_path, two_phase, capsys):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"task_options": {"n_centers": 4}}))
    argv = ["train", "--model", "dgno", "--data", str(two_phase), "--out", str(tmp_path / "r")]
    assert main([*argv, "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "task_options for dgno" in err and "n_centers" in err
    assert not (tmp_path / "r").exists()
