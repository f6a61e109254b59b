"""Run folders: what ``sciml train`` and ``sciml eval`` do, as library functions.

A run folder holds ``config.json`` (model spec + training config + data), ``split.json``
(which samples of the data file were train / test), the Trainer's ``last.pt``, ``model.pt``,
``metrics.csv`` and ``history.json``, and after :func:`eval_run` an ``eval/`` folder with
``eval.json``, ``eval.md`` and PNGs.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch

from sciml.datasets import split_indices
from sciml.datasets.mesh_files import mesh_fields, read_mesh_samples
from sciml.grid import Grid
from sciml.io import FileFormatError, check_fields, check_memory, check_out_dir, read_json
from sciml.operators.mesh.mesh_operator import MeshOperator
from sciml.operators.model_file import load_operator
from sciml.operators.registry import build
from sciml.operators.seismic.evaluation import imaging_scores
from sciml.operators.seismic.imaging_task import load_imaging_model
from sciml.train.data import load_dataset_file
from sciml.train.losses import relative_l2
from sciml.train.trainer import TrainConfig, Trainer, evaluate, make_windows, predict
from sciml.workflows.mesh_runs import (
    check_mesh_fits,
    eval_mesh_model,
    grid_scores_on_nodes,
    summary_rows,
)
from sciml.workflows.run_models import (
    is_mesh_model,
    mesh_model_setup,
    model_kwargs_for_data,
    run_model_setup,
)

__all__ = [
    "RUN_FILES",
    "train_run",
    "eval_run",
    "resolution_transfer",
    "model_kwargs_for_data",
    "check_run_folder",
    "read_split",
    "read_run_config",
    "resolve_device",
]


def _split(n: int, n_train: int | None, n_test: int | None, seed: int) -> tuple[list, list]:

    if n_test is None:
        n_test = max(1, int(round(0.2 * n)))
    if n_train is None:
        n_train = n - n_test
    if n_train < 1 or n_test < 0 or n_train + n_test > n:
        raise ValueError(f"n_train={n_train} and n_test={n_test} need {n_train + n_test} of {n}")
    train, test = split_indices(n, [int(n_train), int(n_test)], seed=seed)
    return sorted(int(i) for i in train), sorted(int(i) for i in test)


#: what an evaluation writes into its folder
EVAL_FILES = ("eval.json", "eval.md", "error_histogram.png", "samples.png")

#: files a training run writes into its folder (``eval/`` too): what ``overwrite`` clears
RUN_FILES = (
    "config.json",
    "split.json",
    "last.pt",
    "model.pt",
    "metrics.csv",
    "history.json",
    "summary.json",
)


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``device`` as a ``torch.device`` (default CUDA when available); ``ValueError`` for an
    unknown name or CUDA asked for where there is none."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device: unknown device {device!r} (e.g. cpu, cuda, cuda:1)") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {device!r} asked for, but CUDA is not available here")
    return dev


def read_split(path: Path) -> dict:
    """A run's ``split.json``, schema-checked (file and field named in every error)."""
    split = check_fields(
        read_json(path, what="run file"),
        {"n_total": int, "train": list, "test": list},
        path=path,
        what="run file",
    )
    n = split["n_total"]
    for key in ("train", "test"):
        bad = [i for i in split[key] if isinstance(i, bool) or not isinstance(i, int)]
        bad += [i for i in split[key] if isinstance(i, int) and not 0 <= i < n]
        if bad:
            raise FileFormatError(
                f"run file {str(path)!r}: field {key!r} must hold sample indices in [0, {n}), "
                f"found {bad[0]!r}"
            )
    if "data" in split and not isinstance(split["data"], str):
        raise FileFormatError(f"run file {str(path)!r}: field 'data' must be a path string")
    return split


def read_run_config(path: Path) -> dict:
    """A run's ``config.json`` (``{"model": {"name", "kwargs"}, "train": {...}, ...}``), checked."""
    cfg = check_fields(
        read_json(path, what="run file"), {"model": dict}, path=path, what="run file"
    )
    if not isinstance(cfg["model"].get("name"), str):
        raise FileFormatError(f"run file {str(path)!r}: field 'model' has no 'name' string")
    return cfg


def check_run_folder(out: str | Path, *, resume: bool, overwrite: bool) -> list[Path]:
    """Check the run folder ``out`` before any work; return the old run's files to clear.

    Without ``resume`` a folder that already holds a run is refused unless ``overwrite`` (two
    runs are never mixed in one folder: the caller clears the returned paths, ``eval/``
    included, once the new run is ready to start). With ``resume`` it must hold ``last.pt``.
    """
    out = Path(out)
    if resume and overwrite:
        raise ValueError("resume and overwrite exclude each other: continue the run or replace it")
    check_out_dir(out, what="out:")
    existing = [out / name for name in (*RUN_FILES, "eval") if (out / name).exists()]
    if resume:
        if not (out / "last.pt").is_file():
            raise FileNotFoundError(
                f"resume: {str(out / 'last.pt')!r} does not exist, nothing to resume"
                + (" (the run stopped before its first epoch ended; start it again with "
                   "--overwrite)" if existing else "")
            )  # fmt: skip
        return []
    if existing and not overwrite:
        names = ", ".join(p.name for p in existing)
        raise FileExistsError(
            f"out: {str(out)!r} already holds a run ({names}); pass --resume to continue it or "
            "--overwrite to replace it"
        )
    return existing


def _clear(paths: list[Path]) -> None:
    pass

    for path in paths:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def train_run(
    *,
    model: str,
    data: str | Path,
    out: str | Path,
    train: dict[str, Any] | None = None,
    model_options: dict[str, Any] | None = None,
    task_options: dict[str, Any] | None = None,
    test_data: str | Path | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    device: str | None = None,
) -> dict:
    """Train registry model ``model`` on the data file ``data`` into run folder ``out``.

    ``train``: :class:`TrainConfig` options; ``model_options``: constructor keywords (width,
    modes, ...; channels and ``ndim`` come from the data); ``task_options``: settings of a
    label-free model's task (:mod:`sciml.workflows.run_models`: ``dgno`` trains on coefficient
    fields only, with its weak-form physics loss). Without ``test_data`` the file is
    split into train / test (``n_train``, ``n_test``; default 80 / 20 %, seeded) and the test
    part is never seen in training; validation is carved from the train part.

    ``out`` must not hold another run unless ``resume`` (continue it from ``last.pt``) or
    ``overwrite`` (its files, ``eval/`` included, are deleted once everything else checked
    out). The model is built after ``torch.manual_seed(train["seed"])``: the same call twice
    gives bit-identical weights on the CPU. Returns a summary dict (final validation error,
    epochs, time).

    Mesh operators (``geo-lsm``, ``transolver``, ``gino``) train on the per-sample meshes of a
    mesh data file (:mod:`sciml.datasets.mesh_files`: ``elasticity-holes``, ``stokes-pipe``,
    ``darcy-holes``, or a file of :func:`~sciml.datasets.mesh_files.write_mesh_dataset`)
    through :class:`~sciml.operators.mesh.mesh_task.MeshTask`; grid operators on the same file
    train on its grid arrays.
    """

    out = Path(out)
    cfg = TrainConfig.from_dict(dict(train or {}))
    stale = check_run_folder(out, resume=resume, overwrite=overwrite)
    if device is not None:
        resolve_device(device)  # a clear error now; None lets the Trainer pick this rank's GPU
    if resume and (out / "config.json").exists():
        saved = read_run_config(out / "config.json")["model"]["name"]
        if saved != model:
            raise ValueError(
                f"resume: run {str(out)!r} trained a {saved!r} model, not {model!r} (use the "
                "same --model, or another --out for a new run)"
            )
    mesh = is_mesh_model(model)
    if mesh:
        if cfg.input_frames is not None:
            raise ValueError(f"input_frames: mesh operator {model!r} does not roll out in time")
        samples, meta = read_mesh_samples(data)
        n_total = len(samples)
    else:
        x, y, meta = load_dataset_file(data)
        n_total = int(x.shape[0])
    if test_data is None:
        train_idx, test_idx = _split(n_total, n_train, n_test, cfg.seed)
    else:
        n = n_total if n_train is None else n_train
        if not 1 <= n <= n_total:
            raise ValueError(f"n_train must be in [1, {n_total}], got {n_train}")
        train_idx, test_idx = list(range(n)), []
    split_path = out / "split.json"
    if resume and split_path.exists():
        saved_split = read_split(split_path)
        if saved_split["n_total"] != n_total or saved_split["train"] != train_idx:
            raise ValueError(
                f"resume: the train split of {str(data)!r} differs from the run's split.json "
                "(another data file, --n-train/--n-test or seed?)"
            )
    created = not out.exists()
    if mesh:
        kw, task = mesh_model_setup(
            model, samples, model_options=model_options or {}, task_options=task_options or {}
        )
    else:
        kw, task = run_model_setup(
            model,
            x,
            y,
            meta,
            input_frames=cfg.input_frames,
            model_options=model_options or {},
            task_options=task_options or {},
            data=str(data),
        )
    torch.manual_seed(cfg.seed)  # the initial weights depend on the seed only
    net = build(model, **kw)
    trainer = Trainer(net, cfg, task=task, out_dir=out, device=device)
    if trainer.rank == 0:
        _clear(stale)  # --overwrite: the old run goes only now that the new one can start
        out.mkdir(parents=True, exist_ok=True)
        split = {
            "data": str(Path(data).resolve()),
            "n_total": n_total,
            "train": train_idx,
            "test": test_idx,
            "test_data": str(Path(test_data).resolve()) if test_data else None,
            "recipe": meta.get("recipe"),
            "grid": meta.get("grid"),
        }
        _write_text(split_path, json.dumps(split))
    try:
        if mesh:
            hist = trainer.fit([samples[i] for i in train_idx], resume=resume)
        else:
            idx = torch.as_tensor(train_idx, dtype=torch.long)
            hist = trainer.fit((x[idx], y[idx]), resume=resume)
    except BaseException:
        if not resume and trainer.rank == 0 and not (out / "last.pt").exists():
            _clear([out / name for name in RUN_FILES])  # no epoch finished: leave no half-run
            if created and out.is_dir() and not any(out.iterdir()):
                out.rmdir()
        raise
    n_params = sum(p.numel() * (2 if p.is_complex() else 1) for p in net.parameters())
    summary = {
        "model": model,
        "params": int(n_params),
        "epochs": len(hist),
        "selection_metric": trainer.task.selection_metric,
        "best_val": trainer.best_val,
        "train_time_s": hist[-1]["train_time"] if hist else 0.0,
    }
    if trainer.rank == 0:
        _write_text(out / "summary.json", json.dumps(summary, indent=2))
    return summary


def _write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file + rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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
    overwrite: bool = False,
) -> dict:
    """Evaluate the run's ``model.pt`` on ``data`` (its test split when ``data`` is the
    training file, else every sample): relative L2 table, histogram and sample PNGs, and the
    discretisation transfer to ``resolutions``.

    Writes ``eval.json``, ``eval.md`` (the table) and the PNGs into ``out`` (default
    ``RUN/eval``), which is checked before any work: an earlier evaluation there is refused
    unless ``overwrite`` (pass another ``out`` to keep both). Every file read (model, split, config,
    data) is schema-checked; a data file that does not fit the model is an error naming both.
    Returns the result dict (what ``eval.json`` holds).
    """
    run = Path(run)
    model_file = run if run.is_file() else run / "model.pt"  # a model file (a zoo model) too
    if not run.exists():
        raise FileNotFoundError(f"run folder {str(run)!r} does not exist")
    if not model_file.is_file():
        raise FileNotFoundError(f"run folder {str(run)!r} has no model.pt (train first)")
    if out is None and run.is_file():
        raise ValueError("--out is needed when RUN is a model file (a zoo model), not a folder")
    out = Path(out) if out is not None else run / "eval"
    check_out_dir(out, what="--out")
    old = [f for f in EVAL_FILES if (out / f).exists()]
    if old and not overwrite:
        raise FileExistsError(
            f"--out {str(out)!r} holds an earlier evaluation ({', '.join(old)}); pass "
            "--overwrite to replace it, or --out for another folder"
        )
    stale = [out / f for f in old]  # replaced (with overwrite) once the inputs checked out
    if resolutions is not None:
        bad = [r for r in resolutions if isinstance(r, bool) or not isinstance(r, int) or r < 2]
        if bad:
            raise ValueError(f"resolutions must be integers >= 2, got {bad[0]!r}")
    dev = resolve_device(device)
    op, extra = load_operator(model_file, map_location=dev)
    folder = run if run.is_dir() else None
    split = read_split(run / "split.json") if folder and (run / "split.json").exists() else {}
    config = (
        read_run_config(run / "config.json") if folder and (run / "config.json").exists() else None
    )
    if isinstance(op, MeshOperator):
        if resolutions:
            raise ValueError(
                "resolutions: the discretisation transfer of --resolutions is for grid "
                "operators; evaluate a mesh operator on a refined-mesh data file with --data"
            )
        for f in stale:
            f.unlink()
        return _eval_mesh_run(op, model_file, run, data, split, config, out, dev, plots)
    x, y, meta = load_dataset_file(data)
    _check_fits(op, x, y, extra, model_file, data)
    if resolutions:  # the largest resampled copy, its prediction and the activations
        d = x.ndim - 2
        check_memory(
            8 * max(resolutions) ** d * (4 * x.shape[0] * (x.shape[1] + y.shape[1]) + 50 * 256),
            f"--resolutions {max(resolutions)}",
        )
    same = split.get("data") == str(Path(data).resolve()) and split.get("n_total") == x.shape[0]
    if same:
        if not split["test"]:
            raise ValueError(f"{data} is the run's training file and the run has no test split")
        idx = torch.as_tensor(split["test"], dtype=torch.long)
        x, y, which = x[idx], y[idx], f"test split of {Path(data).name} ({len(idx)} samples)"
    else:
        which = f"all {x.shape[0]} samples of {Path(data).name}"
    for f in stale:  # an old evaluation's files are never mixed with the new one's
        f.unlink()
    if "normalization" in extra:  # a seismic imaging model: GFI's metrics per direction
        if resolutions:
            raise ValueError("--resolutions: seismic imaging models have a fixed acquisition")
        return _eval_imaging(model_file, run, out, x, y, which, config, dev)
    frames = extra.get("input_frames")
    steps = extra.get("rollout_steps")
    if frames:
        x, y = make_windows(x, y, frames, steps)
    errs = evaluate(op, x, y, rollout_steps=steps, device=dev)
    grid = Grid.from_dict(meta["grid"]) if "grid" in meta else Grid(tuple(x.shape[2:]))
    pred = None
    on_nodes = None
    if mesh_fields(meta) is not None and not frames:
        # a grid operator on a mesh data file: also scored back on the mesh nodes
        nodes, _ = read_mesh_samples(data, idx.tolist() if same else None)
        if nodes and nodes[0].out_channels == y.shape[1]:
            pred = predict(op, x, device=dev)
            on_nodes = grid_scores_on_nodes(pred, grid, nodes)
    result: dict[str, Any] = {
        "run": str(run),
        "data": which,
        "model": config["model"] if config is not None else None,
        "n": int(errs.numel()),
        "rel_l2_mean": float(errs.mean()),
        "rel_l2_std": float(errs.std()) if errs.numel() > 1 else 0.0,
        "rel_l2_median": float(errs.median()),
        "rel_l2_max": float(errs.max()),
        "resolution": list(grid.shape),
    }
    if on_nodes is not None:
        result["on_mesh_nodes"] = summary_rows(on_nodes)
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
    if on_nodes is not None:
        lines.append(
            f"| relative L2 on the mesh nodes (mean) | "
            f"{result['on_mesh_nodes']['rel_l2_mean']:.4g} |"
        )
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
    out.mkdir(parents=True, exist_ok=True)
    _write_text(out / "eval.md", "\n".join(lines) + "\n")
    _write_text(out / "eval.json", json.dumps(result, indent=2))
    if plots:
        if pred is None:
            pred = predict(op, x, rollout_steps=steps, device=dev)
        plot_errors(out, errs, pred, y)
    return result


def _eval_imaging(model_file, run, out, velocity, seismic, which, config, dev) -> dict:
    """``eval.md`` / ``eval.json`` of a seismic imaging run: MAE / RMSE / SSIM of every
    trained direction in the published normalisations."""
    model, norm, dirs = load_imaging_model(model_file, dev)
    scores = imaging_scores(model, norm, dirs, velocity, seismic, device=dev)
    result = {
        "run": str(run),
        "data": which,
        "model": config["model"] if config is not None else None,
        "n": int(velocity.shape[0]),
        **scores,
    }
    lines = [f"# Evaluation of {run.name} on {which}", "", "| direction | MAE | RMSE | SSIM |"]
    lines.append("|---|---|---|---|")
    for d in dirs:
        lines.append(
            f"| {d} | {scores[f'{d}_mae']:.4g} | {scores[f'{d}_rmse']:.4g} | "
            f"{scores[f'{d}_ssim']:.4g} |"
        )
    lines += ["", "(velocity min-max scaled to [-1, 1], seismic z-scored: GFI's tables)"]
    out.mkdir(parents=True, exist_ok=True)
    _write_text(out / "eval.md", "\n".join(lines) + "\n")
    _write_text(out / "eval.json", json.dumps(result, indent=2))
    return result


def _eval_mesh_run(
    op, model_file: Path, run: Path, data, split: dict, config, out: Path, dev, plots: bool
) -> dict:
    """:func:`eval_run` for a mesh operator: per-sample errors on the meshes, PNGs drawn on
    them (:mod:`sciml.workflows.mesh_runs`)."""
    samples, _ = read_mesh_samples(data)
    check_mesh_fits(op, samples, model_file, data)
    same = split.get("data") == str(Path(data).resolve()) and split.get("n_total") == len(samples)
    if same:
        if not split["test"]:
            raise ValueError(f"{data} is the run's training file and the run has no test split")
        idx = list(split["test"])
        which = f"test split of {Path(data).name} ({len(idx)} samples)"
    else:
        idx = list(range(len(samples)))
        which = f"all {len(samples)} samples of {Path(data).name}"
    chosen = [samples[i] for i in idx]
    out.mkdir(parents=True, exist_ok=True)
    result = {
        "run": str(run),
        "data": which,
        "model": config["model"] if config is not None else None,
        **eval_mesh_model(op, chosen, idx, device=dev, out=out, plots=plots),
    }
    nodes = [s.num_points for s in chosen]
    lines = [
        f"# Evaluation of {run.name} on {which}",
        "",
        f"Mesh operator on {len(chosen)} meshes of {min(nodes)}-{max(nodes)} nodes; errors on "
        "the mesh nodes.",
        "",
        "| metric | value |",
        "|---|---|",
        f"| relative L2 (mean) | {result['rel_l2_mean']:.4g} |",
        f"| relative L2 (std) | {result['rel_l2_std']:.4g} |",
        f"| relative L2 (median) | {result['rel_l2_median']:.4g} |",
        f"| relative L2 (max) | {result['rel_l2_max']:.4g} |",
        "",
        "| sample | nodes | relative L2 |",
        "|---|---|---|",
    ]
    lines += [f"| {r['index']} | {r['nodes']} | {r['rel_l2']:.4g} |" for r in result["per_sample"]]
    _write_text(out / "eval.md", "\n".join(lines) + "\n")
    _write_text(out / "eval.json", json.dumps(result, indent=2))
    return result


def _check_fits(op, x, y, extra: dict, model_path: Path, data) -> None:
    """``ValueError`` unless the data have the channels and dimension the model was built for."""
    inner = getattr(op, "model", op)
    kw = (getattr(inner, "spec", None) or {}).get("kwargs", {})
    frames = extra.get("input_frames")
    want = {
        "spatial dimensions": (kw.get("ndim"), x.ndim - 2),
        "input channels": (None if frames else kw.get("in_channels"), x.shape[1]),
        "output channels": (None if frames else kw.get("out_channels"), y.shape[1]),
    }
    for what, (expected, got) in want.items():
        if expected is not None and expected != got:
            raise ValueError(
                f"data file {str(data)!r} does not fit the model {str(model_path)!r}: the model "
                f"takes {expected} {what}, the data have {got}"
            )


def plot_errors(out: Path, errs: torch.Tensor, pred: torch.Tensor, y: torch.Tensor) -> None:
    """``error_histogram.png`` and ``samples.png`` (best, median, worst sample: prediction,
    truth, error; 2-D fields, last frame for rollouts; 1-D as curves)."""
    # heavy optional dependency (matplotlib): loaded when first used
    import matplotlib

    matplotlib.use("Agg")
    # heavy optional dependency (matplotlib): loaded when first used
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
