"""Faults injected into data generation: kill -9 at random points (serial, worker processes,
MPI ranks) and a full disk. Every run resumed after the fault ends bit-identical to an
uninterrupted one; no process outlives its parent; no half-written file appears at ``--out``.

Each kill lands after a random number of finished samples (read from the progress bar) plus
a random fraction of a batch, drawn from a seeded generator; ``SCIML_FAULT_ROUNDS`` (default
1) repeats each kill with new points -- the BENCHMARKS.md table ran 5.
"""

from __future__ import annotations

import errno
import os
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from sciml.datasets import generate, partial_path
from sciml.testing.processes import descendants, kill9, wait_gone

ROUNDS = int(os.environ.get("SCIML_FAULT_ROUNDS", "1"))
N, PARAMS = 30, {"resolution": 9, "refine": 2}
ARRAYS = ("inputs", "outputs", "seeds", "done", "extras/solution_on_mesh")
BIN = Path(sys.executable).parent


def arrays(path):
    with h5py.File(path, "r") as f:
        return {k: f[k][...] for k in ARRAYS}, dict(f.attrs)


def assert_same_file(a, b):
    (xa, attrs_a), (xb, attrs_b) = arrays(a), arrays(b)
    for key in ARRAYS:
        assert np.array_equal(xa[key], xb[key]), key
    for key in ("recipe", "params", "n", "base_seed", "grid", "complete"):
        assert attrs_a[key] == attrs_b[key], key


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "darcy.h5"
    return generate("darcy-pwc", N, out, params=PARAMS, progress=False)


def _command(out: Path, mode: str, *, quiet: bool = True) -> list[str]:
    cmd = [sys.executable, "-m", "sciml.cli", "data", "generate", "darcy-pwc", "--n", str(N),
           "--out", str(out), "--resolution", "9", "--param", "refine=2"]  # fmt: skip
    if quiet:
        cmd.append("--quiet")
    if mode == "workers":
        cmd += ["--workers", "2"]
    if mode == "mpi":
        cmd = [str(BIN / "mpirun"), "-n", "2", *cmd]
    return cmd


def _follow_progress(stream, state: dict) -> None:
    """Read the progress bar (``k/N`` on stderr) into ``state["done"]``."""
    tail = b""
    while chunk := stream.read1(4096):
        tail = (tail + chunk)[-400:]
        counts = re.findall(rb"(\d+)/%d\b" % N, tail)
        if counts:
            state["done"] = int(counts[-1])


def _kill_at_random_point(out: Path, mode: str, rng: random.Random) -> dict:
    """Start a generation, kill -9 it once a random number of samples is done (read from its
    progress bar) plus a random fraction of a batch, and report what happened."""
    proc = subprocess.Popen(
        _command(out, mode, quiet=False), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    state = {"done": -1}
    threading.Thread(target=_follow_progress, args=(proc.stderr, state), daemon=True).start()
    target = rng.randrange(0, N)
    end = time.monotonic() + 240
    while state["done"] < target and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.01)
    time.sleep(rng.uniform(0.0, 0.3))
    tree = descendants(proc.pid)
    running = proc.poll() is None
    kill9(proc.pid)
    proc.wait()
    orphans = wait_gone(tree)
    return {"target": target, "killed_while_running": running, "children": len(tree),
            "orphans": orphans}  # fmt: skip


@pytest.mark.parametrize("mode", ["serial", "workers", "mpi"])
def test_kill9_at_random_points_then_rerun_is_bit_identical(reference, tmp_path, mode):
    rng = random.Random(f"faults-{mode}")
    for round_ in range(ROUNDS):
        out = tmp_path / f"{mode}{round_}.h5"
        report = _kill_at_random_point(out, mode, rng)
        if out.exists() or partial_path(out).exists():
            with h5py.File(out if out.exists() else partial_path(out)) as f:
                report["done_at_kill"] = int(f["done"][...].sum())
        print(f"fault {mode} round {round_}: {report}")  # shown with -s (BENCHMARKS.md table)
        assert report["orphans"] == [], f"{mode}: processes outlived kill -9: {report}"
        if mode != "serial" and report["killed_while_running"]:
            assert report["children"] >= 2, report  # the kill hit the workers/ranks too
        assert not out.exists() or not partial_path(out).exists()  # never both
        if out.exists():  # finished before the kill: complete and right
            assert_same_file(reference, out)
            continue
        # the same command again (in this process: the file does not depend on how many
        # processes made it, tests/datasets/test_generation.py checks that)
        generate("darcy-pwc", N, out, params=PARAMS, progress=False)
        assert out.exists() and not partial_path(out).exists()
        assert_same_file(reference, out)


def test_simulated_full_disk_is_a_clear_error_and_resumes(reference, tmp_path, monkeypatch):
    """ENOSPC (simulated: the disk reports 0 bytes free after 2 batches) stops generation with
    an OSError naming the file; nothing appears at --out; freeing space and rerunning the
    same command resumes to the identical file."""
    from sciml.datasets import storage

    real, calls = storage.shutil.disk_usage, {"n": 0}

    def filling_up(path):
        calls["n"] += 1
        usage = real(path)
        return usage._replace(free=0) if calls["n"] > 3 else usage

    monkeypatch.setattr(storage.shutil, "disk_usage", filling_up)
    out = tmp_path / "full.h5"
    with pytest.raises(OSError, match="no space left on the disk of") as info:
        generate("darcy-pwc", N, out, params=PARAMS, progress=False)
    assert info.value.errno == errno.ENOSPC
    assert not out.exists() and partial_path(out).exists()
    with h5py.File(partial_path(out)) as f:
        assert 0 < f["done"][...].sum() < N  # the samples before the fault are kept
    monkeypatch.undo()
    generate("darcy-pwc", N, out, params=PARAMS, progress=False)
    assert_same_file(reference, out)


def test_real_full_disk_via_cli_then_more_space_resumes(reference, small_disk):
    """A real tmpfs fills up during `sciml data generate` (its size leaves 40 kB beyond the
    reserve sciml keeps for HDF5 metadata): exit 2, one line, no file at --out; after the disk
    grows the same command finishes the identical file."""
    from sciml.datasets.storage import SPACE_MARGIN

    disk = small_disk(f"{SPACE_MARGIN // 1024 + 40}k")
    out = disk / "d.h5"
    cmd = _command(out, "serial")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr[-2000:]
    assert len(r.stderr.strip().splitlines()) == 1 and "no space left" in r.stderr, r.stderr
    assert not out.exists()
    with h5py.File(partial_path(out)) as f:  # it failed in the middle, and kept its samples
        assert 0 < f["done"][...].sum() < N
    small_disk.grow(disk, "16m")
    generate("darcy-pwc", N, out, params=PARAMS, progress=False)
    assert_same_file(reference, out)


def test_import_on_a_full_disk_leaves_nothing(tmp_path, small_disk):
    import torch

    from sciml.datasets import import_file

    src = tmp_path / "big.pt"
    torch.save({"x": torch.rand(64, 64, 64), "y": torch.rand(64, 64, 64)}, src)
    disk = small_disk("512k")
    with pytest.raises(OSError, match="no space left"):
        import_file(src, disk / "i.h5", fmt="neuralop-pt")
    assert list(disk.iterdir()) == []


def test_a_recipe_failing_before_any_sample_leaves_no_partial(tmp_path, monkeypatch):
    """A worker error in the first batch (here: injected) must not leave a partial file that
    would make the corrected command refuse to start."""
    from sciml.datasets import get_recipe

    rec = get_recipe("darcy-pwc")
    real = type(rec).worker

    def broken(self, p):
        def run(seeds):
            raise ValueError("injected failure")

        return run

    monkeypatch.setattr(type(rec), "worker", broken)
    out = tmp_path / "x.h5"
    with pytest.raises(ValueError, match="injected"):
        generate("darcy-pwc", 4, out, params=PARAMS, progress=False)
    assert not out.exists() and not partial_path(out).exists()
    monkeypatch.setattr(type(rec), "worker", real)
    assert generate("darcy-pwc", 4, out, params={**PARAMS, "tau": 4.0}, progress=False) == out
