"""`sciml solve gp` end to end on a small grid: summary JSON, PNG, clear error for bad names."""

import json

import pytest

from sciml.cli import main


def test_solve_gp_cli_writes_summary_and_png(tmp_path, capsys):
    rc = main(
        [
            "solve",
            "gp",
            "--problem",
            "poisson-1d-sin100",
            "--n",
            "120",
            "--steps",
            "0",
            "--newton-steps",
            "1",
            "--device",
            "cpu",
            "--out",
            str(tmp_path),
        ]
    )
    assert rc == 0
    summary = json.loads((tmp_path / "poisson-1d-sin100.json").read_text())
    assert summary["rel_l2"] < 1e-3  # measured ~1e-6 (one Gauss-Newton solve, 120 points)
    assert abs(summary["dominant_frequency"]["x"] - 15.9155) < 0.2
    assert (tmp_path / "poisson-1d-sin100.png").stat().st_size > 10_000
    assert "rel L2" in capsys.readouterr().out


def test_solve_gp_cli_unknown_problem(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:  # a usage error: argparse's one line, exit 2
        main(["solve", "gp", "--problem", "nope", "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "poisson-1d-sin100" in capsys.readouterr().err  # the error lists known names


def test_solve_gp_cli_refuses_existing_outputs_before_any_work(tmp_path, capsys):
    (tmp_path / "poisson-1d-sin100.json").write_text("{}")
    rc = main(["solve", "gp", "--problem", "poisson-1d-sin100", "--out", str(tmp_path)])
    assert rc == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (tmp_path / "poisson-1d-sin100.json").read_text() == "{}"
    assert not (tmp_path / "poisson-1d-sin100.png").exists()  # refused before the solve
