"""Run folders: what ``sciml train`` and ``sciml eval`` do, as library functions.

A run folder holds ``config.json`` (model spec + training config + data), ``split.json``
(which samples of the data file were train / test), the Trainer's ``last.pt``, ``model.pt``,
``metrics.csv`` and ``history.json``, and after :func:`eval_run` an ``eval/`` folder with
``eval.json``, ``eval.md`` and PNGs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from sciml.grid import Grid
from sciml.train.checkpoint import load_model
from sciml.train.data import load_dataset_file
from sciml.train.trainer import TrainConfig, Trainer, evaluate, make_windows, predict

__all__ = ["train_run", "eval_run", "resolution_transfer", "model_kwargs_for_data"]


def _split(n: int, n_train: int | None, n_test: int | None, seed: int) -> tuple[list, list]:
    from sciml.datasets import split_indices

    if n_test is None:
        n_test = max(1, int(round(0.2 * n)))
    if n_train is None:
        n_train = n - n_test
    if n_train < 1 or n_test < 0 or n_train + n_test > n:
        raise ValueError(f"n_train={n_train} and n_test={n_test} need {n_train + n_test} of {n}")
    train, test = split_indices(n, [int(n_train), int(n_test)], seed=seed)
    return sorted(int(i) for i in train), sorted(int(i) for i in test)


def model_kwargs_for_data(
    name: str, x: torch.Tensor, y: torch.Tensor, input_frames: int | None, user: dict
) -> dict:
    """Channels and dimension from the data, merged with the user's model options."""
    kw = dict(user)
    kw["in_channels"] = input_frames if input_frames else int(x.shape[1])
    kw["out_channels"] = 1 if input_frames else int(y.shape[1])
    kw["ndim"] = x.ndim - 2
    return kw


def train_run(
    *,
    model: str,
    data: str | Path,
    out: str | Path,
    train: dict[str, Any] | None = None,
    model_options: dict[str, Any] | None = None,
    test_data: str | Path | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
    resume: bool = False,
    device: str | None = None,
) -> dict:
    """Train registry model ``model`` on the data file ``data`` into run folder ``out``.

    ``train``: :class:`TrainConfig` options; ``model_options``: constructor keywords (width,
    modes, ...; channels and ``ndim`` come from the data). Without ``test_data`` the file is
    split into train / test (``n_train``, ``n_test``; default 80 / 20 %, seeded) and the test
    part is never seen in training; validation is carved from the train part.
    Returns a summary dict (final validation error, epochs, time).
    """
    from sciml.operators.registry import build

    out = Path(out)
    cfg = TrainConfig.from_dict(dict(train or {}))
    x, y, meta = load_dataset_file(data)
    if test_data is None:
        train_idx, test_idx = _split(x.shape[0], n_train, n_test, cfg.seed)
    else:
        train_idx, test_idx = list(range(x.shape[0] if n_train is None else n_train)), []
    split_path = out / "split.json"
    if resume and split_path.exists():
        saved = json.loads(split_path.read_text())
        if saved["train"] != train_idx:
            raise ValueError("resume: the train split differs from the run's split.json")
    kw = model_kwargs_for_data(model, x, y, cfg.input_frames, model_options or {})
    net = build(model, **kw)
    trainer = Trainer(net, cfg, out_dir=out, device=device)
    if trainer.rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        split = {
            "data": str(Path(data).resolve()),
            "n_total": int(x.shape[0]),
            "train": train_idx,
            "test": test_idx,
            "test_data": str(Path(test_data).resolve()) if test_data else None,
            "recipe": meta.get("recipe"),
            "grid": meta.get("grid"),
        }
        split_path.write_text(json.dumps(split))
    idx = torch.as_tensor(train_idx, dtype=torch.long)
    hist = trainer.fit((x[idx], y[idx]), resume=resume)
    n_params = sum(p.numel() * (2 if p.is_complex() else 1) for p in net.parameters())
    summary = {
        "model": model,
        "params": int(n_params),
        "epochs": len(hist),
        "best_val_l2": trainer.best_val,
        "train_time_s": hist[-1]["train_time"] if hist else 0.0,
    }
    if trainer.rank == 0:
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def resolution_transfer(
    operator: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    grid: Grid,
    resolutions: list[int],
    *,
    rollout_steps: int | None = None,
    device: str | torch.device | None = None,
) -> list[dict]:
    """Evaluate a trained operator on the same inputs resampled to other resolutions.

    For each ``n`` in ``resolutions``: inputs ``x: [N, C, *grid.shape]`` are resampled with
    :meth:`Grid.resample` to ``n`` points per axis, the prediction is resampled back to
    ``grid`` and compared with ``y``. ``floor`` is the error of resampling the truth there and
    back (what interpolation alone costs). Returns one dict per resolution.
    """
    rows = []
    for n in resolutions:
        target = grid.with_shape((int(n),) * grid.ndim)
        xr = grid.resample(x.double(), target).float()
        pred = predict(operator, xr, rollout_steps=rollout_steps, device=device)
        back = target.resample(pred.double(), grid).float()
        from sciml.train.losses import relative_l2

        err = relative_l2(back, y, reduction="none")
        there_and_back = target.resample(grid.resample(y.double(), target), grid).float()
        floor = relative_l2(there_and_back, y).item()
        rows.append(
            {
                "resolution": int(n),
                "rel_l2": float(err.mean()),
                "rel_l2_std": float(err.std()) if err.numel() > 1 else 0.0,
                "interp_floor": floor,
            }
        )
    return rows


def eval_run(
    run: str | Path,
    data: str | Path,
    *,
    resolutions: list[int] | None = None,
    out: str | Path | None = None,
    device: str | None = None,
    plots: bool = True,
) -> dict:
    """Evaluate the run's ``model.pt`` on ``data`` (its test split when ``data`` is the
    training file, else every sample): relative L2 table, histogram and sample PNGs, and the
    discretisation transfer to ``resolutions``. Writes ``eval.json`` and ``eval.md``."""
    run = Path(run)
    if not (run / "model.pt").is_file():
        raise FileNotFoundError(f"run folder {str(run)!r} has no model.pt (train first)")
    out = Path(out) if out is not None else run / "eval"
    out.mkdir(parents=True, exist_ok=True)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    op, extra = load_model(run / "model.pt", map_location=dev)
    x, y, meta = load_dataset_file(data)
    split = json.loads((run / "split.json").read_text()) if (run / "split.json").exists() else {}
    same = split.get("data") == str(Path(data).resolve()) and split.get("n_total") == x.shape[0]
    if same:
        if not split["test"]:
            raise ValueError(f"{data} is the run's training file and the run has no test split")
        idx = torch.as_tensor(split["test"], dtype=torch.long)
        x, y, which = x[idx], y[idx], f"test split of {Path(data).name} ({len(idx)} samples)"
    else:
        which = f"all {x.shape[0]} samples of {Path(data).name}"
    frames = extra.get("input_frames")
    steps = extra.get("rollout_steps")
    if frames:
        x, y = make_windows(x, y, frames, steps)
    errs = evaluate(op, x, y, rollout_steps=steps, device=dev)
    grid = Grid.from_dict(meta["grid"]) if "grid" in meta else Grid(tuple(x.shape[2:]))
    result: dict[str, Any] = {
        "run": str(run),
        "data": which,
        "model": json.loads((run / "config.json").read_text())["model"]
        if (run / "config.json").exists()
        else None,
        "n": int(errs.numel()),
        "rel_l2_mean": float(errs.mean()),
        "rel_l2_std": float(errs.std()) if errs.numel() > 1 else 0.0,
        "rel_l2_median": float(errs.median()),
        "rel_l2_max": float(errs.max()),
        "resolution": list(grid.shape),
    }
    if resolutions:
        result["transfer"] = resolution_transfer(
            op, x, y, grid, resolutions, rollout_steps=steps, device=dev
        )
    lines = [
        f"# Evaluation of {run.name} on {which}",
        "",
        "| metric | value |",
        "|---|---|",
        f"| relative L2 (mean) | {result['rel_l2_mean']:.4g} |",
        f"| relative L2 (std) | {result['rel_l2_std']:.4g} |",
        f"| relative L2 (median) | {result['rel_l2_median']:.4g} |",
        f"| relative L2 (max) | {result['rel_l2_max']:.4g} |",
    ]
    if resolutions:
        lines += [
            "",
            f"Discretisation transfer (trained at {'x'.join(map(str, grid.shape))}; inputs "
            "resampled with Grid, predictions resampled back):",
            "",
            "| resolution | relative L2 | interpolation floor |",
            "|---|---|---|",
        ]
        lines += [
            f"| {r['resolution']} | {r['rel_l2']:.4g} | {r['interp_floor']:.2g} |"
            for r in result["transfer"]
        ]
    (out / "eval.md").write_text("\n".join(lines) + "\n")
    (out / "eval.json").write_text(json.dumps(result, indent=2))
    print("\n".join(lines))
    if plots:
        pred = predict(op, x, rollout_steps=steps, device=dev)
        plot_errors(out, errs, pred, y)
        print(f"wrote {out / 'eval.md'}, eval.json, error_histogram.png, samples.png")
    return result


def plot_errors(out: Path, errs: torch.Tensor, pred: torch.Tensor, y: torch.Tensor) -> None:
    """``error_histogram.png`` and ``samples.png`` (best, median, worst sample: prediction,
    truth, error; 2-D fields, last frame for rollouts; 1-D as curves)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.hist(errs.numpy(), bins=min(30, max(5, errs.numel() // 3)), color="tab:blue")
    ax.axvline(float(errs.mean()), color="k", ls="--", label=f"mean {float(errs.mean()):.3g}")
    ax.set_xlabel("relative L2 error per sample")
    ax.set_ylabel("samples")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "error_histogram.png", dpi=110)
    plt.close(fig)

    order = torch.argsort(errs)
    picks = [("best", order[0]), ("median", order[len(order) // 2]), ("worst", order[-1])]
    fig, axs = plt.subplots(len(picks), 3, figsize=(11, 3.2 * len(picks)), squeeze=False)
    for row, (label, i) in enumerate(picks):
        p, t = pred[i, -1], y[i, -1]
        for col, (data, title) in enumerate(((p, "prediction"), (t, "truth"), (p - t, "error"))):
            ax = axs[row, col]
            if data.ndim == 1:
                ax.plot(data.numpy())
            else:
                while data.ndim > 2:  # 3-D: middle slice
                    data = data[data.shape[0] // 2]
                im = ax.imshow(data.numpy().T, origin="lower", cmap="RdBu_r")
                fig.colorbar(im, ax=ax, shrink=0.8)
            ax.set_title(f"{label} ({float(errs[i]):.3g}): {title}")
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(out / "samples.png", dpi=100)
    plt.close(fig)


_MODEL_FLAGS = ("width", "modes", "levels", "heads", "tokens", "basis", "norm")
_TRAIN_FLAGS = (
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


def train_from_args(args) -> int:
    """``sciml train``: merge ``--config`` JSON with command-line flags (flags win)."""
    cfg: dict[str, Any] = {}
    if getattr(args, "config", None):
        path = Path(args.config)
        if not path.is_file():
            raise FileNotFoundError(f"--config file {str(path)!r} does not exist")
        cfg = json.loads(path.read_text())
        unknown = (
            set(cfg)
            - {"model", "model_options", "train", "data", "test_data"}
            - {
                "n_train",
                "n_test",
            }
        )
        if unknown:
            raise ValueError(f"--config has unknown key(s) {sorted(unknown)}")
    model = args.model or cfg.get("model")
    data = args.data or cfg.get("data")
    if not model:
        raise ValueError("--model is required (or 'model' in --config): one of lsm, fno, unet")
    if not data:
        raise ValueError("--data is required (or 'data' in --config)")
    model_options = dict(cfg.get("model_options", {}))
    model_options.update(
        {k: getattr(args, k) for k in _MODEL_FLAGS if getattr(args, k) is not None}
    )
    train = dict(cfg.get("train", {}))
    train.update({k: getattr(args, k) for k in _TRAIN_FLAGS if getattr(args, k) is not None})
    if args.no_progress:
        train["progress"] = False
    # settings measured fastest on CUDA for this model, where the user chose none (see speed.py)
    from sciml.train.speed import tuned_train_options

    train = tuned_train_options(train, model, args.device)
    summary = train_run(
        model=model,
        data=data,
        out=args.out,
        train=train,
        model_options=model_options,
        test_data=args.test_data or cfg.get("test_data"),
        n_train=args.n_train if args.n_train is not None else cfg.get("n_train"),
        n_test=args.n_test if args.n_test is not None else cfg.get("n_test"),
        resume=args.resume,
        device=args.device,
    )
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()  # started by the Trainer under torchrun
    if os.environ.get("RANK", "0") != "0":
        return 0
    print(
        f"{summary['model']}: {summary['params']:,} parameters, {summary['epochs']} epochs in "
        f"{summary['train_time_s']:.1f} s, best validation relative L2 "
        f"{summary['best_val_l2']:.4g}; run folder {args.out}"
    )
    return 0
