"""``sciml train``: train a neural operator on a data file into a run folder.

The handler merges ``--config`` JSON with the command-line flags (flags win) and calls the
library function :func:`sciml.workflows.runs.train_run`, which takes plain arguments.
"""

from __future__ import annotations

import argparse

from sciml.commands._types import nonnegative_int, positive_float, positive_int

#: the registered models (plain data: the parser imports no torch; a test checks it against
#: :data:`sciml.operators.registry.MODELS`)
MODEL_NAMES = (
    "lsm",
    "fno",
    "unet",
    "deeponet",
    "multionet",
    "dgno",
    "latent-unet",
    "xnet",
    "inversionnet",
    "seismic-fno",
    "geo-lsm",
    "transolver",
    "gino",
)

#: flags that are model constructor options / :class:`TrainConfig` fields
MODEL_FLAGS = (
    "width",
    "modes",
    "levels",
    "heads",
    "tokens",
    "basis",
    "norm",
    "layers",
    "slices",
    "latent",
)
TRAIN_FLAGS = (
    "epochs",
    "batch_size",
    "lr",
    "scheduler",
    "time_budget",
    "input_frames",
    "rollout_steps",
    "seed",
    "amp",
    "channels_last",
    "compile",
)
CONFIG_KEYS = (
    "model",
    "model_options",
    "task_options",
    "train",
    "data",
    "test_data",
    "n_train",
    "n_test",
)


def _read_config(path: str) -> dict:
    from sciml.io import FileFormatError, read_json

    cfg = read_json(path, what="--config file")
    if not isinstance(cfg, dict):
        raise FileFormatError(f"--config file {path!r}: expected a JSON object at the top level")
    unknown = set(cfg) - set(CONFIG_KEYS)
    if unknown:
        raise ValueError(
            f"--config file {path!r} has unknown key(s) {sorted(unknown)}; known: "
            f"{list(CONFIG_KEYS)}"
        )
    for key in ("model_options", "task_options", "train"):
        if not isinstance(cfg.get(key, {}), dict):
            raise FileFormatError(f"--config file {path!r}: field {key!r} must be an object")
    return cfg


def _train(args: argparse.Namespace) -> int:
    import os

    import torch

    from sciml.train.speed import tuned_train_options
    from sciml.workflows.runs import resolve_device, train_run

    cfg = _read_config(args.config) if args.config else {}
    model = args.model or cfg.get("model")
    data = args.data or cfg.get("data")
    if not model:
        raise ValueError("--model is required (or 'model' in --config): e.g. lsm, fno, unet, dgno")
    if not data:
        raise ValueError("--data is required (or 'data' in --config)")
    model_options = dict(cfg.get("model_options", {}))
    model_options.update({k: getattr(args, k) for k in MODEL_FLAGS if getattr(args, k) is not None})
    train = dict(cfg.get("train", {}))
    train.update({k: getattr(args, k) for k in TRAIN_FLAGS if getattr(args, k) is not None})
    if args.no_progress:
        train["progress"] = False
    if args.device is not None:
        resolve_device(args.device)  # a bad --device is one clear line, before anything else
    # settings measured fastest on CUDA for this model, where the user chose none (see speed.py)
    train = tuned_train_options(train, model, args.device)
    summary = train_run(
        model=model,
        data=data,
        out=args.out,
        train=train,
        model_options=model_options,
        task_options=dict(cfg.get("task_options", {})),
        test_data=args.test_data or cfg.get("test_data"),
        n_train=args.n_train if args.n_train is not None else cfg.get("n_train"),
        n_test=args.n_test if args.n_test is not None else cfg.get("n_test"),
        resume=args.resume,
        overwrite=args.overwrite,
        device=args.device,
    )
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()  # started by the Trainer under torchrun
    if os.environ.get("RANK", "0") != "0":
        return 0
    print(
        f"{summary['model']}: {summary['params']:,} parameters, {summary['epochs']} epochs in "
        f"{summary['train_time_s']:.1f} s, best validation {summary['selection_metric']} "
        f"{summary['best_val']:.4g}; run folder {args.out}"
    )
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sciml train`` (train a neural operator through the Trainer) on ``sub``."""
    p = sub.add_parser(
        "train",
        help="train a neural operator (lsm, fno, unet; transolver, geo-lsm, gino on meshes; "
        "dgno label-free) on a data file",
    )
    p.add_argument(
        "--model",
        choices=MODEL_NAMES,
        metavar="MODEL",
        help="registered model: " + ", ".join(MODEL_NAMES) + " (transolver, geo-lsm, gino: mesh "
        "data files; dgno trains without solutions)",
    )
    p.add_argument("--data", help="HDF5 data file (sciml data generate)")
    p.add_argument("--out", required=True, help="run folder (checkpoints, logs, model.pt)")
    p.add_argument("--config", help="JSON: {model, model_options, train, n_train, n_test, ...}")
    p.add_argument("--test-data", help="separate test file (default: split --data)")
    p.add_argument("--n-train", type=positive_int, help="training samples (default 80 %%)")
    p.add_argument(
        "--n-test", type=nonnegative_int, help="test samples held out of --data (default 20 %%)"
    )
    p.add_argument("--epochs", type=positive_int, help="training epochs")
    p.add_argument("--batch-size", type=positive_int, help="global batch size")
    p.add_argument("--lr", type=positive_float, help="peak learning rate")
    p.add_argument(
        "--scheduler", choices=["onecycle", "cosine", "step", "none"],
        help="learning-rate schedule over the run (default onecycle)",
    )  # fmt: skip
    p.add_argument(
        "--time-budget", type=positive_float, help="seconds of training (equal wall clock)"
    )
    p.add_argument("--input-frames", type=positive_int, help="autoregressive rollout: frames in")
    p.add_argument("--rollout-steps", type=positive_int, help="autoregressive rollout: steps out")
    p.add_argument("--seed", type=nonnegative_int, help="seed of the weights and the batches")
    p.add_argument("--amp", choices=["auto", "bf16", "none"], help="bf16 autocast (auto: on GPU)")
    p.add_argument(
        "--channels-last", action="store_true", default=None,
        help="channels-last memory layout (faster convolutions on recent GPUs)",
    )  # fmt: skip
    p.add_argument(
        "--compile", action="store_true", default=None, help="torch.compile the model first"
    )
    p.add_argument("--width", type=positive_int, help="model width (all models)")
    p.add_argument("--modes", type=positive_int, help="FNO Fourier modes per axis")
    p.add_argument("--levels", type=positive_int, help="U-Net / LSM down-samplings")
    p.add_argument("--heads", type=positive_int, help="LSM attention heads")
    p.add_argument("--tokens", type=positive_int, help="LSM latent tokens")
    p.add_argument("--basis", type=positive_int, help="LSM sin/cos basis size")
    p.add_argument("--norm", choices=["batch", "instance", "none"], help="U-Net / LSM norm")
    p.add_argument("--layers", type=positive_int, help="FNO / Transolver / GINO layers")
    p.add_argument("--slices", type=positive_int, help="Transolver slices per head")
    p.add_argument("--latent", type=positive_int, help="geo-lsm / gino latent grid points per axis")
    p.add_argument("--device", help="cuda, cpu, ... (default: cuda when available)")
    p.add_argument("--resume", action="store_true", help="continue from RUN_DIR/last.pt")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run in --out (its files and eval/ are deleted first)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_train)
