"""Iteration budgets (``max_steps``), the per-step hook ``Task.begin_step`` and per-step logs
(``Task.step_logs``): the pieces a per-iteration schedule (a penalty weight) needs, exact on
resume."""

import pytest
import torch
from torch import nn

from sciml.train import Task, TrainConfig, Trainer


class CountingFit(Task):
    """y = 3 x by least squares; records every step index the Trainer announces and logs a
    per-step quantity (``calls``: 2 per step whatever the batch size) and a per-item one."""

    step_logs = ("calls",)

    def setup(self, model, train, val, *, config, device):
        self.x = torch.linspace(-1, 1, 20)[:, None].to(device)
        self.seen: list[tuple[int, int | None]] = []
        self.weight = 0.0
        return model

    def num_train(self):
        return 20

    def begin_step(self, step, total_steps):
        self.seen.append((step, total_steps))
        self.weight = 1.0 - step / total_steps  # a per-step schedule, like a penalty weight

    def loss(self, net, idx):
        err = (net(self.x[idx]) - 3 * self.x[idx]).square().sum()
        return self.weight * err, {"calls": 2.0, "items": float(idx.numel())}


def _fit(out=None, **kw):
    torch.manual_seed(0)
    net = nn.Linear(1, 1, bias=False)
    task = CountingFit()
    cfg = TrainConfig(
        epochs=100, batch_size=8, lr=0.1, optimizer="adam", weight_decay=0.0,
        scheduler="cosine", max_steps=7, progress=False,
    )  # fmt: skip
    tr = Trainer(net, cfg, task=task, out_dir=out, device="cpu")
    return tr, tr.fit(**kw), task


def test_max_steps_ends_mid_epoch_and_announces_every_step():
    # 20 items, batch 8: batches of 8, 8, 4 -> 3 steps per epoch; 7 steps = 2 epochs + 1 step
    tr, hist, task = _fit()
    assert [h["steps"] for h in hist] == [3, 3, 1]
    assert task.seen == [(i, 7) for i in range(7)]
    assert [h["calls"] for h in hist] == [2.0, 2.0, 2.0]  # per step, not per item
    assert [h["items"] for h in hist] == [1.0, 1.0, 1.0]  # per item (sum of 1 per item)
    assert hist[-1]["lr"] == pytest.approx(0.0, abs=1e-12)  # the cosine spans exactly 7 steps
    assert hist[-1]["train_cpu_time"] >= hist[0]["epoch_cpu_time"] > 0


def test_max_steps_run_resumes_bit_identical(tmp_path):
    full, hist, task = _fit(tmp_path / "full")
    _fit(tmp_path / "cut", stop_after_epoch=1)
    torch.manual_seed(99)
    cut, hist2, task2 = _fit(tmp_path / "cut", resume=True)
    assert task2.seen == [(i, 7) for i in range(3, 7)]  # the resumed run continues at step 3
    assert torch.equal(full.module.weight, cut.module.weight)
    assert [h["train_loss"] for h in hist] == [h["train_loss"] for h in hist2]
    # resuming a finished run trains nothing more
    again, hist3, task3 = _fit(tmp_path / "full", resume=True)
    assert task3.seen == [] and len(hist3) == 3


def test_max_steps_is_validated():
    with pytest.raises(ValueError, match="max_steps must be a positive int"):
        TrainConfig(max_steps=0)
