"""benchmarks/mesh_operators.py runs end to end at toy sizes (plumbing; the numbers come from
--quick on a CPU and from the protocol run on a GPU)."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench():
    spec = importlib.util.spec_from_file_location(
        "mesh_bench", ROOT / "benchmarks" / "mesh_operators.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    threads = torch.get_num_threads()
    yield module
    torch.set_num_threads(threads)


def test_mesh_benchmark_smoke(bench, tmp_path):
    argv = ["--smoke", "--recipes", "stokes-pipe", "--models", "transolver,fno", "--threads", "1",
            "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "out")]  # fmt: skip
    assert bench.main(argv) == 0
    report = json.loads((tmp_path / "out" / "mesh_operators.json").read_text())
    rows = {r["model"]: r for r in report["summary"]}
    assert set(rows) == {"transolver", "fno"}
    for r in rows.values():
        assert r["steps"] == 4 and 0 < r["test_l2"] < 10 and r["refined_ratio"] > 0
    assert rows["fno"]["x_fno"] == 1.0
    assert rows["transolver"]["refined_l2"] != rows["transolver"]["test_l2"]  # finer meshes
    assert "x refined" in (tmp_path / "out" / "mesh_operators.md").read_text()
    assert bench.main(["--smoke", "--models", "resnet", "--data-dir", str(tmp_path)]) == 2
