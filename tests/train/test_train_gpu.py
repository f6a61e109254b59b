"""GPU checks (skipped without CUDA): bf16 autocast + channels_last training, device agreement."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from train_problems import smooth_inputs, smoothing_operator  # noqa: E402

from sciml.operators.registry import build  # noqa: E402
from sciml.train import TrainConfig, Trainer, evaluate  # noqa: E402

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.mark.gpu
@cuda
@pytest.mark.parametrize("name", ["lsm", "fno", "unet"])
def test_gpu_model_matches_cpu_in_float32(name):
    torch.manual_seed(0)
    kw = {"lsm": dict(width=16, heads=4, levels=2), "fno": dict(width=16, modes=6)}
    model = build(name, in_channels=1, out_channels=1, **kw.get(name, dict(width=16, levels=2)))
    model.eval()
    x = smooth_inputs(4, size=24)
    with torch.no_grad():
        cpu = model(x)
        gpu = model.cuda()(x.cuda()).cpu()
    # TF32 may be on for convolutions: agreement to ~1e-3 relative, not bitwise
    assert ((gpu - cpu).norm() / cpu.norm()).item() < 2e-3


@pytest.mark.gpu
@cuda
def test_gpu_bf16_channels_last_training_learns():
    x = smooth_inputs(64, size=32, seed=1)
    y = smoothing_operator(x)
    torch.manual_seed(0)
    model = build("lsm", in_channels=1, out_channels=1, width=16, heads=4, levels=2)
    cfg = TrainConfig(epochs=30, batch_size=8, lr=3e-3, amp="bf16", channels_last=True)
    cfg.progress = False
    trainer = Trainer(model, cfg, device="cuda")
    trainer.fit((x[:56], y[:56]))
    err = evaluate(trainer.operator, x[56:], y[56:]).mean().item()
    # a smooth operator learned from 50 samples in bf16: well below the untrained ~1.0
    assert err < 0.1, err
