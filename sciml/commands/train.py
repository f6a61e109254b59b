"""``sciml train``: train a neural operator on a data file into a run folder."""

from __future__ import annotations

import argparse


def _train(args: argparse.Namespace) -> int:
    from sciml.train.runs import train_from_args

    return train_from_args(args)


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a neural operator (lsm, fno, unet) on a data file")
    p.add_argument("--model", help="registry name: lsm, fno or unet")
    p.add_argument("--data", help="HDF5 data file (sciml data generate)")
    p.add_argument("--out", required=True, help="run folder (checkpoints, logs, model.pt)")
    p.add_argument("--config", help="JSON: {model, model_options, train, n_train, n_test, ...}")
    p.add_argument("--test-data", help="separate test file (default: split --data)")
    p.add_argument("--n-train", type=int, help="training samples (default 80 %%)")
    p.add_argument("--n-test", type=int, help="test samples held out of --data (default 20 %%)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--scheduler", choices=["onecycle", "cosine", "step", "none"])
    p.add_argument("--time-budget", type=float, help="seconds of training (equal wall clock)")
    p.add_argument("--input-frames", type=int, help="autoregressive rollout: frames in")
    p.add_argument("--rollout-steps", type=int, help="autoregressive rollout: steps out")
    p.add_argument("--seed", type=int)
    p.add_argument("--amp", choices=["auto", "bf16", "none"])
    p.add_argument("--channels-last", action="store_true", default=None)
    p.add_argument("--compile", action="store_true", default=None)
    p.add_argument("--width", type=int, help="model width (all models)")
    p.add_argument("--modes", type=int, help="FNO Fourier modes per axis")
    p.add_argument("--levels", type=int, help="U-Net / LSM down-samplings")
    p.add_argument("--heads", type=int, help="LSM attention heads")
    p.add_argument("--tokens", type=int, help="LSM latent tokens")
    p.add_argument("--basis", type=int, help="LSM sin/cos basis size")
    p.add_argument("--norm", choices=["batch", "instance", "none"], help="U-Net / LSM norm")
    p.add_argument("--device", help="cuda, cpu, ... (default: cuda when available)")
    p.add_argument("--resume", action="store_true", help="continue from RUN_DIR/last.pt")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_train)
