"""The penalty-weight sweep end to end at a tiny budget: the CLI writes its Pareto PNG, JSON
and markdown, and the library looks at the test split only for the chosen weight."""

import json

import pytest

from sciml.cli import main
from sciml.nde.problems import Digits
from sciml.workflows.nde_sweep import plot_pareto, sweep, sweep_report

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_cli_two_weight_smoke_sweep_writes_png_json_md(tmp_path, capsys):
    out = tmp_path / "sub" / "vdp"
    argv = ["nde", "sweep", "van-der-pol", "--reg", "local-error", "--weights", "0.05", "0.5",
            "--iters", "2", "--repeats", "1", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    report = capsys.readouterr().out
    assert "validation ladder" in report and "true-field NFE (floor)" in report
    png, js, md = (out.with_name(out.name + ext) for ext in (".png", ".json", ".md"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert md.read_text().strip() == report.strip()
    data = json.loads(js.read_text())
    assert [(p["method"], p["weight"]) for p in data["ladder"]] == [
        ("none", 0.0), ("local-error", 0.05), ("local-error", 0.5),
    ]  # fmt: skip
    assert data["steps"] == 2 and data["seeds"] == [0] and data["tolerance"] == 1.05
    assert set(data["selected"]) == {"local-error"}
    none, local = data["summary"]
    assert none["method"] == "none" and none["predict_nfe_ratio"] == 1.0
    assert none["true_field_predict_nfe"] == 92  # the floor of van der Pol's test batch
    assert local["method"] == "local-error" and local["ladder_train_cpu_ratio"] > 0
    # the same command again: refused before any training, nothing replaced
    before = js.read_text()
    assert main(argv) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert js.read_text() == before
    assert main([*argv, "--overwrite"]) == 0


def test_library_sweep_scores_test_only_for_the_chosen_weight(tmp_path):
    problem = Digits(dim=8, hidden=16, n_train=64, batch_size=32)
    result = sweep(
        problem, [problem.make_regularizer("local-error")], steps=2, weights=[1e-3, 30.0],
        seeds=(0, 1), repeats=1,
    )  # fmt: skip
    assert result.selected.keys() == {"local-error"}
    assert [p.weight for p in result.points] == [1e-3, 30.0]
    assert all(len(p.val) == 2 and p.val[0]["split"] == "val" for p in result.points)
    chosen = result.selected["local-error"]
    tested = {(r["method"], r["weight"]) for r in result.test}
    assert all(r["split"] == "test" for r in result.test)
    expect = {("none", 0.0)} | ({("local-error", chosen)} if chosen is not None else set())
    assert tested == expect
    base = result.summary[0]
    assert base["n_seeds"] == 2 and base["error_ratio"] == pytest.approx(1.0)
    assert base["value_sd"] is not None  # two seeds: a standard deviation
    assert base["error"] == pytest.approx(1 - base["value"])  # accuracy -> error
    assert "n/a" in sweep_report(result)  # digits: no known true field
    json.dumps(result.to_dict())
    assert plot_pareto(result, tmp_path / "p.png").stat().st_size > 10_000
