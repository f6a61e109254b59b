"""torchrun with 2 gloo processes gives the loss curve of 1 process with the same global batch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import ddp_worker  # noqa: E402


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed missing")
def test_ddp_two_gloo_processes_match_one_process(tmp_path):
    out = tmp_path / "hist.json"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("WORLD_SIZE", None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    proc = subprocess.run(
        cmd + [str(HERE / "ddp_worker.py"), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    ddp_hist = json.loads(out.read_text())
    ddp_state = torch.load(out.with_suffix(".pt"))

    one_hist, one_state = ddp_worker.run()  # the same run in this single process
    assert len(ddp_hist) == len(one_hist) == ddp_worker.CONFIG["epochs"]
    # same global batches, gradients averaged over ranks = the single-process gradient; the
    # only difference is float32 summation order (~1e-7 relative per step, over 9 steps)
    for a, b in zip(ddp_hist, one_hist):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
        assert a["val_l2"] == pytest.approx(b["val_l2"], rel=1e-5)
    assert one_hist[-1]["train_loss"] < one_hist[0]["train_loss"]
    for k, v in one_state.items():
        torch.testing.assert_close(ddp_state[k], v, rtol=1e-4, atol=1e-6)
