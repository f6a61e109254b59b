"""The measured-CUDA-settings switch (sciml/train/speed.py) and the throughput sweep's plumbing
(``benchmarks/operators_darcy_ns.py --mode throughput --smoke``, a few seconds on the CPU)."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from sciml.train import TrainConfig
from sciml.train.speed import suggest_settings, tuned_defaults, tuned_train_options

ROOT = Path(__file__).resolve().parents[2]
TABLE = {"lsm": {"channels_last": True, "compile": True, "_evidence": "test"}}


def test_tuned_options_apply_only_on_cuda_only_unset_keys_and_only_when_on(monkeypatch):
    assert tuned_train_options({}, "lsm", "cpu", table=TABLE) == {}
    got = tuned_train_options({"compile": False}, "lsm", "cuda", table=TABLE)
    assert got == {"compile": False, "channels_last": True}  # the user's choice wins
    TrainConfig(**got)  # every applied key is a TrainConfig option
    assert tuned_train_options({}, "fno", "cuda", table=TABLE) == {}
    with tuned_defaults(False):
        assert tuned_train_options({}, "lsm", "cuda", table=TABLE) == {}
        with tuned_defaults(True):
            assert tuned_train_options({}, "lsm", "cuda:0", table=TABLE)["compile"] is True
    with pytest.raises(ValueError, match="only"):
        tuned_train_options({}, "lsm", "cuda", table={"lsm": {"lr": 1.0}})
    monkeypatch.setenv("SCIML_TUNED_DEFAULTS", "0")
    assert tuned_train_options({}, "lsm", "cuda", table=TABLE) == {}


def test_suggestions_need_the_margin_over_the_default_in_the_same_run():
    rows = [
        {"model": "lsm", "variant": "bf16", "options": {"amp": "bf16"}, "samples_per_s": 100.0},
        {
            "model": "lsm",
            "variant": "cl",
            "options": {"amp": "bf16", "channels_last": True},
            "samples_per_s": 105.0,
        },  # fmt: skip
        {
            "model": "lsm",
            "variant": "compile",
            "options": {"amp": "bf16", "compile": True},
            "samples_per_s": 130.0,
        },  # fmt: skip
        {"model": "fno", "variant": "bf16", "options": {"amp": "bf16"}, "samples_per_s": 100.0},
        {
            "model": "fno",
            "variant": "cl",
            "options": {"channels_last": True},
            "samples_per_s": 108.0,
        },  # fmt: skip
        {"model": "fno", "variant": "compile", "options": {"compile": True}, "error": "boom"},
    ]
    got = suggest_settings(rows)
    assert set(got) == {"lsm"}  # fno's best is only 1.08x: not proven
    assert got["lsm"]["compile"] is True and "1.30x" in got["lsm"]["_evidence"]


def test_throughput_sweep_smoke_runs_every_cpu_row(tmp_path):
    spec = importlib.util.spec_from_file_location("ops_bench", ROOT / "benchmarks/operators_darcy_ns.py")  # fmt: skip
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "tp.json"
    variants = "fp32,bf16,bf16+channels_last+sdpa=math"
    argv = ["--mode", "throughput", "--smoke", "--device", "cpu", "--models", "lsm,unet"]
    threads = torch.get_num_threads()
    try:  # one thread: ~10x faster than two oversubscribed ones on a shared machine
        assert bench.main([*argv, "--threads", "1", "--tp-variants", variants, "--out", str(out)]) == 0  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    report = json.loads(out.read_text())
    rows = report["throughput"]
    # lsm: 3 rows (the sdpa row is LSM-only), unet: 2; every row ran and measured a rate
    assert [(r["model"], r["variant"]) for r in rows].count(("lsm", "bf16")) == 1
    assert len(rows) == 5 and all(r.get("samples_per_s", 0) > 0 for r in rows), rows
    assert all(r.get("vs_bf16") for r in rows)
    assert report["evidence"] is False and "NOT evidence" in report["markdown"]
    assert out.with_suffix(".md").exists()
