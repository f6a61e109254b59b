"""The regularization experiments: one registry read by the library and the CLI, training
through the one Trainer (RegularizedTask), and exact resume of a stopped run."""

import json
import subprocess
import sys

import pytest
import torch

import sciml.nde as nde
from sciml.cli import build_parser, main
from sciml.nde.problems import Digits, SpiralSDE
from sciml.nde.registry import (
    EXPERIMENT_NAMES,
    EXPERIMENTS,
    REGULARIZER_NAMES,
    make_problem,
    make_regularizer,
)
from sciml.train.checkpoint import load_checkpoint
from sciml.workflows.nde_experiment import run_experiment

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_registry_is_plain_data_and_the_cli_reads_it():
    code = "import sys, sciml.nde.registry; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    nde_parser = next(a for a in build_parser()._actions if a.dest == "command").choices["nde"]
    tasks = next(a for a in nde_parser._actions if a.dest == "task").choices
    assert tuple(tasks) == (*EXPERIMENT_NAMES, "sweep")
    for name in (*EXPERIMENT_NAMES, "sweep"):
        choices = {a.dest: a.choices for a in tasks[name]._actions}
        assert tuple(choices["reg"]) == REGULARIZER_NAMES, name
    sweep = {a.dest: a.choices for a in tasks["sweep"]._actions}
    assert tuple(sweep["sweep_task"]) == EXPERIMENT_NAMES
    assert "local-stiffness" in REGULARIZER_NAMES  # the name that had drifted from the CLI


@pytest.mark.parametrize("name", EXPERIMENT_NAMES)
def test_every_experiment_builds_and_names_only_registered_regularizers(name):
    problem = make_problem(name)
    assert problem.name == name and EXPERIMENTS[name].endswith(type(problem).__name__)
    for table in (problem.options, problem.weights, problem.regularizers or ()):
        assert set(table) <= set(REGULARIZER_NAMES), (name, table)
    for reg in problem.regularizers or REGULARIZER_NAMES:
        assert problem.make_regularizer(reg).name == reg
    assert 1 <= problem.quick_iters <= problem.iters


def test_bad_names_are_one_clear_error(capsys):
    with pytest.raises(ValueError, match="experiment must be one of"):
        make_problem("mnist")
    with pytest.raises(ValueError, match="regularizer must be one of"):
        make_regularizer("taynode")
    with pytest.raises(ValueError, match="spiral-sde supports regularizers"):
        make_problem("spiral-sde").make_regularizer("rnode")
    assert main(["nde", "spiral-sde", "--reg", "none", "rnode"]) == 2
    assert "spiral-sde supports regularizers" in capsys.readouterr().err
    with pytest.raises(ValueError, match="iters must be >= 1"):
        run_experiment(Digits(), make_regularizer("none"), steps=0)


def test_lazy_package_exports_resolve():
    assert nde.__all__ == sorted(nde._EXPORTS)
    for name in nde.__all__:
        assert getattr(nde, name) is not None


def _final_weights(out):
    return load_checkpoint(out / "last.pt")["model"]


@pytest.mark.parametrize(
    "make, reg, steps, cut",
    [
        # 256 images, batch 64: 4 steps per epoch; 10 steps = epochs of 4, 4, 2; cut after 1
        (lambda: Digits(dim=8, hidden=16, n_train=256, batch_size=64), "local-error", 10, 1),
        # all 16 paths in every step: 1 step per epoch; the problem's Brownian seed stream is
        # task state that the checkpoint carries
        (lambda: SpiralSDE(n_paths=16), "local-error", 3, 2),
    ],
    ids=["digits", "spiral-sde"],
)
def test_stopped_and_resumed_run_ends_bit_identical(tmp_path, make, reg, steps, cut):
    problem = make()

    def run(out, **kw):
        return run_experiment(
            problem, problem.make_regularizer(reg), steps=steps, seed=3, progress=False,
            out_dir=tmp_path / out, **kw,
        )  # fmt: skip

    full = run("full")
    part = run("cut", stop_after_epoch=cut)
    assert part["iters"] < steps
    torch.manual_seed(1234)  # the resumed run must not depend on the caller's RNG state
    resumed = run("cut", resume=True)
    a, b = _final_weights(tmp_path / "full"), _final_weights(tmp_path / "cut")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    for key in ("value", "predict_nfe", "train_nfe", "iters"):
        assert full[key] == resumed[key], key
    assert full["iters"] == steps and full["train_nfe"] > 0


def test_cli_quick_run_prints_the_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "sub" / "rows.json"
    code = main(["nde", "digits", "--reg", "none", "error", "--iters", "3", "--json", str(out)])
    assert code == 0
    table = capsys.readouterr().out
    assert "| digits | error | test accuracy |" in table
    rows = json.loads(out.read_text())
    assert [r["method"] for r in rows] == ["none", "error"] and rows[0]["iters"] == 3
    assert rows[1]["predict_nfe_ratio"] == rows[1]["predict_nfe"] / rows[0]["predict_nfe"]
