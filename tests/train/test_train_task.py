"""The Trainer's Task contract: a custom task trains, resumes bit-for-bit, selects on validation,
stops on a diverging loss; checkpoints and model files never run code when read."""

import math

import pytest
import torch
from torch import nn

from sciml.io import FileFormatError, read_model_file, safe_torch_load
from sciml.operators.model_file import load_operator
from sciml.operators.registry import build
from sciml.train import Task, TrainConfig, Trainer
from sciml.train.checkpoint import load_checkpoint, save_model


class LeastSquares(Task):
    """Fit y = A x with a linear layer; validation error is the distance to A (known)."""

    A = torch.tensor([[2.0, -1.0], [0.5, 3.0]])

    def setup(self, model, train, val, *, config, device):
        g = torch.Generator().manual_seed(config.seed)
        self.x = torch.randn(64, 2, generator=g).to(device)
        self.y = self.x @ self.A.T
        self.epochs_seen = 0
        return model

    def num_train(self):
        return 64

    def loss(self, net, idx):
        err = (net(self.x[idx]) - self.y[idx]).square().sum(-1)
        return err.sum(), {"mse": err.detach().sum()}

    def validate(self, module):
        return {"val": float((module.weight.detach().cpu() - self.A).norm())}

    def state_dict(self):
        return {"epochs_seen": self.epochs_seen}

    def load_state_dict(self, state):
        self.epochs_seen = state["epochs_seen"]

    def end_epoch(self, module, epoch):
        self.epochs_seen += 1


def _run(out, stop=None, resume=False, lr=0.3):
    torch.manual_seed(0)
    net = nn.Linear(2, 2, bias=False)
    task = LeastSquares()
    cfg = TrainConfig(epochs=16, batch_size=8, lr=lr, scheduler="cosine", progress=False)
    tr = Trainer(net, cfg, task=task, out_dir=out, device="cpu")
    return tr, tr.fit(resume=resume, stop_after_epoch=stop), task


def test_custom_task_trains_logs_and_resumes_exactly(tmp_path):
    full, hist, task = _run(tmp_path / "full")
    assert hist[-1]["val"] < 0.05  # the least-squares solution (measured 0.010)
    assert hist[-1]["mse"] == pytest.approx(hist[-1]["train_loss"], rel=1e-6)
    assert task.epochs_seen == 16
    _run(tmp_path / "cut", stop=5)
    torch.manual_seed(123)
    cut, hist2, task2 = _run(tmp_path / "cut", resume=True)
    assert task2.epochs_seen == 16  # task state survived the resume
    assert [h["train_loss"] for h in hist] == [h["train_loss"] for h in hist2]
    assert torch.equal(full.module.weight, cut.module.weight)
    state = load_checkpoint(tmp_path / "full" / "last.pt")
    assert state["task"] == {"epochs_seen": 16} and state["epoch"] == 16


def test_diverging_loss_stops_with_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="training diverged.*epoch"):
        _run(tmp_path / "nan", lr=1e30)


def test_nan_in_training_data_is_refused():
    model = build("fno", in_channels=1, out_channels=1, width=4, modes=2)
    x = torch.randn(6, 1, 8, 8)
    y = x.clone()
    y[2, 0, 3, 3] = math.nan
    with pytest.raises(ValueError, match="training targets contains 1 non-finite"):
        Trainer(model, TrainConfig(epochs=1, progress=False, val_fraction=0.0)).fit((x, y))


def test_malicious_files_are_refused_by_every_torch_loader(malicious_file, tmp_path):
    for like, load in (
        ("checkpoint", load_checkpoint),
        ("model", load_operator),
        ("model", read_model_file),
        ("data", safe_torch_load),
    ):
        path, marker = malicious_file(like)
        with pytest.raises(FileFormatError, match="refused.*run code"):
            load(path)
        assert not marker.exists(), f"{load.__name__} ran code from {path}"


def test_model_file_errors_name_the_file_and_field(tmp_path):
    torch.save({"format": "sciml-model-v2", "spec": {"name": "fno"}}, tmp_path / "a.pt")
    with pytest.raises(FileFormatError, match=r"a\.pt.*missing field 'state_dict'"):
        load_operator(tmp_path / "a.pt")
    (tmp_path / "text.pt").write_text("101 not a model\n")
    with pytest.raises(FileFormatError, match=r"text\.pt.*not a readable torch file"):
        load_operator(tmp_path / "text.pt")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_operator(tmp_path / "missing.pt")
    m = build("unet", in_channels=1, out_channels=1, width=8, levels=1)
    save_model(tmp_path / "u.pt", m)
    payload = torch.load(tmp_path / "u.pt", weights_only=True)
    payload["spec"]["kwargs"]["width"] = 16  # weights no longer fit the spec
    torch.save(payload, tmp_path / "u16.pt")
    with pytest.raises(FileFormatError, match="weights do not fit a 'unet'"):
        load_operator(tmp_path / "u16.pt")
    rebuilt, _ = load_operator(tmp_path / "u.pt")
    assert type(rebuilt).__name__ == "UNet"  # a bare model stays bare (no normaliser wrapper)
