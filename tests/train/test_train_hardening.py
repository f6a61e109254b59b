"""`sciml train` / `sciml eval` hardening: seeded runs reproduce bit for bit, two runs never mix
in one folder, files a user was sent never run code, and a run killed anywhere (kill -9 at a
random point, or a crash between the two files an epoch writes, or a full disk) resumes to the
uninterrupted result."""

from __future__ import annotations

import errno
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from train_problems import smooth_inputs, smoothing_operator  # noqa: E402

from sciml.cli import main  # noqa: E402
from sciml.grid import Grid  # noqa: E402
from sciml.io import safe_torch_load  # noqa: E402
from sciml.testing.processes import descendants, kill9, wait_gone  # noqa: E402
from sciml.workflows.runs import train_run  # noqa: E402

ROUNDS = int(os.environ.get("SCIML_FAULT_ROUNDS", "1"))
FLAGS = ["--model", "fno", "--width", "6", "--modes", "3", "--batch-size", "4", "--n-test", "4",
         "--no-progress", "--device", "cpu"]  # fmt: skip


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    x = smooth_inputs(20, size=16, seed=0)
    path = tmp_path_factory.mktemp("data") / "toy.h5"
    with h5py.File(path, "w") as f:
        f["inputs"], f["outputs"] = x.numpy(), smoothing_operator(x).numpy()
        f["seeds"], f["done"] = np.arange(20, dtype=np.int64), np.ones(20, dtype=bool)
        f.attrs["grid"] = json.dumps(Grid((16, 16), periodic=True).to_dict())
        f.attrs["recipe"], f.attrs["params"], f.attrs["complete"] = "toy", "{}", True
    return path


def weights(path: Path) -> dict[str, torch.Tensor]:
    payload = safe_torch_load(path)
    return payload["state_dict"] if "state_dict" in payload else payload["model"]


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key


def history(run: Path) -> list[dict]:
    # clocks differ from run to run; everything else must match exactly
    rows = json.loads((run / "history.json").read_text())
    return [{k: v for k, v in h.items() if "time" not in k and k != "samples_per_s"} for h in rows]


def test_same_command_same_seed_gives_bit_identical_weights(data_file, tmp_path):
    """Regression: the model was built before the seed was set (epoch-1 losses 0.5897 /
    0.5762 / 0.5758 in three runs of the same command)."""
    runs = [tmp_path / "a", tmp_path / "b"]
    for run in runs:
        argv = ["train", "--data", str(data_file), "--out", str(run), "--epochs", "2", "--seed",
                "0", *FLAGS]  # fmt: skip
        assert main(argv) == 0
        torch.randn(100)  # whatever the global RNG did in between must not matter
    assert_same_weights(runs[0] / "model.pt", runs[1] / "model.pt")
    assert_same_weights(runs[0] / "last.pt", runs[1] / "last.pt")
    assert history(runs[0]) == history(runs[1])
    other = tmp_path / "c"
    main(["train", "--data", str(data_file), "--out", str(other), "--epochs", "2", "--seed", "1",
          *FLAGS])  # fmt: skip
    wa, wc = weights(runs[0] / "model.pt"), weights(other / "model.pt")
    assert any(not torch.equal(wa[k], wc[k]) for k in wa)  # the seed does matter


def test_an_existing_run_is_refused_and_overwrite_replaces_all_of_it(data_file, tmp_path, capsys):
    run = tmp_path / "run"
    base = ["train", "--data", str(data_file), "--out", str(run), *FLAGS]
    assert main([*base, "--epochs", "3"]) == 0
    assert main(["eval", str(run), "--data", str(data_file)]) == 0
    before = {p.name: p.stat().st_mtime_ns for p in run.iterdir()}
    capsys.readouterr()
    assert main([*base, "--epochs", "2"]) == 2  # a second run would mix with the first
    assert "already holds a run" in capsys.readouterr().err
    assert {p.name: p.stat().st_mtime_ns for p in run.iterdir()} == before  # untouched
    assert main([*base, "--epochs", "2", "--overwrite"]) == 0
    assert not (run / "eval").exists()  # the old run's evaluation went with it
    assert len(json.loads((run / "history.json").read_text())) == 2
    assert len((run / "metrics.csv").read_text().strip().splitlines()) == 1 + 2


def test_code_running_files_are_refused_by_eval_and_resume(data_file, tmp_path, malicious_file):
    run = tmp_path / "run"
    assert main(["train", "--data", str(data_file), "--out", str(run), "--epochs", "1",
                 *FLAGS]) == 0  # fmt: skip
    for name, like in (("model.pt", "model"), ("last.pt", "checkpoint")):
        evil, marker = malicious_file(like)
        (run / name).write_bytes(evil.read_bytes())
        argv = (
            ["eval", str(run), "--data", str(data_file)]
            if name == "model.pt"
            else ["train", "--data", str(data_file), "--out", str(run), "--epochs", "2",
                  "--resume", *FLAGS]
        )  # fmt: skip
        assert main(argv) == 2
        assert not marker.exists(), f"unpickling {name} ran code"


def test_a_crash_between_the_two_files_of_an_epoch_resumes_exactly(
    data_file, tmp_path, monkeypatch
):
    """Each epoch writes model.pt (when it improved) and last.pt. A crash between the two must
    not leave a model.pt older than what last.pt says (resume would then never rewrite it):
    crash at the second write of the last epoch, resume, compare with an uninterrupted run."""
    import sciml.train.run_folder as run_folder_mod

    cfg = {"epochs": 4, "batch_size": 4, "lr": 3e-3, "progress": False, "seed": 0}
    kw = dict(model="fno", data=data_file, model_options={"width": 6, "modes": 3}, n_test=4,
              device="cpu")  # fmt: skip
    train_run(out=tmp_path / "ref", train=cfg, **kw)

    writes = []
    real_ckpt, real_model = run_folder_mod.save_checkpoint, run_folder_mod.RunFolder.save_model

    def record(kind, fn):
        def wrapped(*args, **kwargs):  # save_checkpoint(path, state); save_model(self, trainer, op)
            state = args[1] if kind == "last" else None
            epoch = state["epoch"] if state is not None else len(args[1].history)
            writes.append((epoch, kind))
            if [e for e, _ in writes].count(cfg["epochs"]) == 2:
                raise KeyboardInterrupt("crash between the two files of the last epoch")
            return fn(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(run_folder_mod, "save_checkpoint", record("last", real_ckpt))
    monkeypatch.setattr(run_folder_mod.RunFolder, "save_model", record("model", real_model))
    with pytest.raises(KeyboardInterrupt):
        train_run(out=tmp_path / "crash", train=cfg, **kw)
    assert writes[-2][0] == writes[-1][0] == cfg["epochs"], writes  # the last epoch improved
    monkeypatch.undo()
    train_run(out=tmp_path / "crash", train=cfg, resume=True, **kw)
    assert_same_weights(tmp_path / "ref" / "model.pt", tmp_path / "crash" / "model.pt")
    assert_same_weights(tmp_path / "ref" / "last.pt", tmp_path / "crash" / "last.pt")
    assert history(tmp_path / "ref") == history(tmp_path / "crash")
    rows = (tmp_path / "crash" / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + cfg["epochs"]  # no gap, no duplicate row


def _rows(csv_path: Path) -> int:
    try:
        return max(0, len(csv_path.read_text().splitlines()) - 1)
    except OSError:
        return 0


def test_kill9_at_random_points_then_resume_is_bit_identical(data_file, tmp_path):
    """kill -9 of `sciml train` in a random epoch (after a random number of finished epochs,
    read from metrics.csv, plus a random fraction of one), then --resume (or a fresh start
    when no epoch had finished): weights and history equal the uninterrupted run's."""
    epochs = 25
    cfg = {"epochs": epochs, "batch_size": 4, "lr": 3e-3, "progress": False, "seed": 0}
    kw = dict(model="fno", data=data_file, model_options={"width": 6, "modes": 3}, n_test=4,
              device="cpu")  # fmt: skip
    t0 = time.perf_counter()
    train_run(out=tmp_path / "ref", train=cfg, **kw)
    duration = time.perf_counter() - t0
    rng = random.Random("train-faults")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for round_ in range(ROUNDS):
        run = tmp_path / f"killed{round_}"
        argv = [sys.executable, "-m", "sciml.cli", "train", "--data", str(data_file), "--out",
                str(run), "--epochs", str(epochs), "--lr", "3e-3", *FLAGS]  # fmt: skip
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        end = time.monotonic() + 240
        while not (run / "config.json").exists() and proc.poll() is None:
            assert time.monotonic() < end
            time.sleep(0.02)
        target = rng.randrange(0, epochs)  # kill in epoch target + 1 (or while saving it)
        while _rows(run / "metrics.csv") < target and proc.poll() is None:
            assert time.monotonic() < end
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, duration / epochs))
        tree = descendants(proc.pid)
        running = proc.poll() is None
        kill9(proc.pid)
        proc.wait()
        assert wait_gone(tree) == []
        done = (run / "last.pt").exists()
        epoch = safe_torch_load(run / "last.pt")["epoch"] if done else 0
        print(f"fault train round {round_}: target epoch {target}, killed while running "
              f"{running}, last.pt at epoch {epoch}")  # fmt: skip
        train_run(out=run, train=cfg, resume=done, overwrite=not done, **kw)
        assert_same_weights(tmp_path / "ref" / "model.pt", run / "model.pt")
        assert_same_weights(tmp_path / "ref" / "last.pt", run / "last.pt")
        assert history(tmp_path / "ref") == history(run)


def test_a_full_disk_while_checkpointing_is_a_clear_error(data_file, tmp_path, monkeypatch):
    """ENOSPC while last.pt is written (simulated at fsync) stops training with an OSError
    naming the file; no last.pt and no temporary file are left; rerunning resumes."""
    import sciml.io as io_mod

    real_fsync, calls = os.fsync, {"n": 0}

    def full(fd):
        calls["n"] += 1
        if calls["n"] >= 3:  # model.pt and last.pt of epoch 1 fit, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(io_mod.os, "fsync", full)
    cfg = {"epochs": 3, "batch_size": 4, "progress": False}
    kw = dict(model="fno", data=data_file, model_options={"width": 6, "modes": 3}, n_test=4,
              device="cpu")  # fmt: skip
    with pytest.raises(OSError, match="could not write .*No space left on device") as info:
        train_run(out=tmp_path / "run", train=cfg, **kw)
    assert info.value.errno == errno.ENOSPC
    assert not any(p.name.endswith(".tmp") for p in (tmp_path / "run").iterdir())
    assert safe_torch_load(tmp_path / "run" / "last.pt")["epoch"] == 1  # the last good one
    monkeypatch.undo()
    train_run(out=tmp_path / "run", train=cfg, resume=True, **kw)
    assert safe_torch_load(tmp_path / "run" / "last.pt")["epoch"] == 3


def test_train_on_a_real_full_disk_is_one_line(data_file, small_disk, capsys):
    disk = small_disk("64k")
    rc = main(["train", "--data", str(data_file), "--out", str(disk / "run"), "--epochs", "2",
               *FLAGS])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "No space left" in err, err
    run = disk / "run"  # no epoch finished: the half-run is gone (issue 29), no .tmp left
    assert not run.exists() or not any(p.name.endswith(".tmp") for p in run.iterdir())


def test_the_quickstart_comparison_runs(data_file):
    """Regression: ``train_and_test`` (sciml quickstart, benchmarks) called a Trainer method
    that the pluggable-task Trainer no longer has (``trainer._amp()``: AttributeError)."""
    from sciml.operators.registry import build
    from sciml.train import TrainConfig
    from sciml.train.data import load_dataset_file
    from sciml.workflows.compare import train_and_test

    x, y, _ = load_dataset_file(data_file)
    row = train_and_test(
        "FNO",
        lambda: build("fno", in_channels=1, out_channels=1, width=4, modes=2),
        (x[:16], y[:16]),
        (x[16:], y[16:]),
        TrainConfig(epochs=1, batch_size=4, progress=False),
        device="cpu",
    )
    assert row["epochs"] == 1 and 0 < row["test_l2"] < 10 and row["infer_s_per_sample"] > 0
