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
