"""Worker for tests/train/test_train_ddp.py: train a tiny FNO, write the history (rank 0).

Run as ``torchrun --standalone --nproc_per_node=K ddp_worker.py OUT.json`` or call ``run``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from train_problems import smooth_inputs, smoothing_operator  # noqa: E402

from sciml.operators.registry import build  # noqa: E402
from sciml.train import TrainConfig, Trainer  # noqa: E402

CONFIG = dict(epochs=3, batch_size=4, lr=3e-3, val_fraction=0.25, progress=False, seed=5)


def run() -> tuple[list[dict], dict]:
    torch.set_num_threads(1)
    x = smooth_inputs(14, size=16, seed=1)
    y = smoothing_operator(x)
    torch.manual_seed(0)
    model = build("fno", in_channels=1, out_channels=1, width=8, modes=4, layers=2)
    trainer = Trainer(model, TrainConfig(**CONFIG), device="cpu")
    hist = trainer.fit((x, y))
    return hist, {k: v.detach().clone() for k, v in trainer.operator.state_dict().items()}


if __name__ == "__main__":
    import torch.distributed as dist

    hist, state = run()
    if dist.get_rank() == 0:
        Path(sys.argv[1]).write_text(json.dumps(hist))
        torch.save(state, Path(sys.argv[1]).with_suffix(".pt"))
    dist.destroy_process_group()
