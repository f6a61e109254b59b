"""The GPU-session scripts run on the CPU at toy sizes (plumbing; the GPU figures come from
``benchmarks/gpu_session.sh``): roofline, Navier-Stokes data rate, full operator protocol."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    yield ["--threads", "1"]
    torch.set_num_threads(threads)


def test_roofline_measures_peaks_and_fractions(tmp_path, one_thread):
    argv = [
        "--quick",
        "--parts",
        "cg",
        "--cg-sizes",
        "12",
        "--cg-iters",
        "6",
        "--out",
        str(tmp_path),
    ]
    assert load("roofline").main([*argv, *one_thread]) == 0
    report = json.loads((tmp_path / "roofline.json").read_text())
    peaks = report["peaks"]
    assert peaks["triad_Bps"] > 1e8 and peaks["matmul_fp32_flops"] > 1e8  # any machine does
    rows = {r["path"]: r for r in report["rows"]}
    assert {"cg-csr (eager, before)", "cg-stencil (eager)", "fused-cg (eager)"} <= set(rows)
    for r in rows.values():
        assert r["fraction"] > 0 and r["time_s"] > 0
        assert r["x_bound"] == pytest.approx(1 / r["fraction"])
    assert (tmp_path / "roofline.png").exists() and "fraction of peak" in (tmp_path / "roofline.md").read_text()  # fmt: skip


def test_navier_stokes_data_rate_on_cpu(tmp_path, one_thread):
    argv = ["--quick", "--steps", "1", "--batch", "2", "--out", str(tmp_path)]
    assert load("navier_stokes_data").main([*argv, *one_thread]) == 0
    report = json.loads((tmp_path / "navier_stokes_data.json").read_text())
    (row,) = report["rows"]
    assert row["device"] == "cpu" and row["samples_per_s"] > 0
    # 200 000 steps per trajectory: the extrapolation is batch / (steps x seconds per step)
    assert row["samples_per_s"] == pytest.approx(2 / (200_000 * row["s_per_step"]))


def test_full_protocol_quick_toy_runs_and_tests_the_final_model(tmp_path, one_thread):
    argv = ["--task", "ns", "--quick", "--models", "fno", "--epochs", "1", "--no-progress"]
    argv += ["--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "out")]
    assert load("operators_full_protocol").main([*argv, *one_thread]) == 0
    (row,) = json.loads((tmp_path / "out" / "protocol_ns.json").read_text())
    assert row["finished"] and row["epochs"] == 1 and 0 < row["test_l2"] < 2
    assert row["published"] == 0.1556
    assert (tmp_path / "out" / "ns_fno" / "last.pt").exists()


def session_commands() -> list[tuple[str, list[str]]]:
    """``(step, argv)`` of every ``step NAME LIMIT python3 ...`` line of gpu_session.sh."""
    import re
    import shlex

    out = []
    for line in (ROOT / "benchmarks" / "gpu_session.sh").read_text().splitlines():
        m = re.match(r"\s*(\w+)\) step \$s (\d+) (.*?) ;;$", line)
        if m:
            cmd = m.group(3).replace("$PY", "python3").replace('"$OUT', '"/tmp/o')
            cmd = cmd.replace("${SCIML_PROTOCOL_FLAGS:-}", "")
            out.append((m.group(1), int(m.group(2)), shlex.split(cmd)))
    return out


def test_gpu_session_steps_parse_and_fit_ten_minutes():
    """Every step's command line is valid for its script (a typo would waste a GPU session),
    the test files it names exist, and the default group's limits fit one 600 s call."""
    steps = session_commands()
    names = {s for s, _, _ in steps}
    group = "gpu_tests18 cg linear18 ns_data ns_recipe operators_tp roofline".split()
    assert set(group) <= names
    script = (ROOT / "benchmarks" / "gpu_session.sh").read_text()
    assert "gpu_tests18 cg linear18 ns_data ns_recipe operators_tp roofline" in script
    assert sum(limit for s, limit, _ in steps if s in group) <= 540
    group23 = "gpu_tests23 linear23 linear23_jump linear23_2d".split()
    assert set(group23) <= names and sum(lim for s, lim, _ in steps if s in group23) <= 540
    for name, _, argv in steps:
        if "pytest" in argv:
            files = [a for a in argv if a.startswith("tests/")]
            assert files and all((ROOT / f).exists() for f in files), name
            continue
        script_path = next(a for a in argv if a.startswith("benchmarks/"))
        if name not in group and name != "darcy_full" and not name.startswith("linear23"):
            continue  # the earlier session's steps (scripts without build_parser)
        mod = load(Path(script_path).stem)
        args = argv[argv.index(script_path) + 1 :]
        mod.build_parser().parse_args(args)  # SystemExit on an unknown option
