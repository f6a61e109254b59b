"""LSM vs FNO (neuraloperator) vs U-Net on Darcy and Navier-Stokes, same data, same budget.

Accuracy mode (default): for each task and model, ``--seeds`` runs trained for the same
wall-clock budget (``--budget`` seconds of optimisation, validation excluded) with the same
Trainer, batch size, learning-rate schedule and data; reports mean and spread of the test
relative L2, parameters, epochs reached, training samples/s and inference time per sample,
and the discretisation transfer: the test inputs resampled with ``Grid.resample`` to half
and twice the resolution, the predictions resampled back and compared with the truth.

* ``darcy``: ``darcy-pwc`` (FEniCSx) at 85x85, 1000 train / 200 test (``--quick``: 33x33,
  200 / 50).
* ``ns``: vorticity, viscosity 1e-5, 64x64, 1000 / 200, 10 frames in -> 10-step rollout
  (``--quick``: 32x32, 100 / 20). Data come from the ``navier-stokes-2d`` recipe
  (pseudo-spectral Crank-Nicolson, FNO forcing and initial field, frames at t = 1..20;
  solved at 256x256 with dt 1e-4 where CUDA is available, else at the recipe's documented
  CPU setting).

Throughput mode (``--mode throughput``): training samples/s at 85x85, batch 20, for LSM width 64
and FNO width 32 / 12 modes, in fp32, bf16 autocast, + channels_last, + torch.compile (GPU).

Examples::

    python benchmarks/operators_darcy_ns.py --quick --out out/bench_ops.json        # CPU
    python benchmarks/operators_darcy_ns.py --tasks darcy --budget 110 --seeds 1 \\
        --device cuda --amp bf16 --out out/ops_darcy_gpu.json                      # GPU
    python benchmarks/operators_darcy_ns.py --mode throughput --device cuda --out out/tp.json

Published (Wu et al. 2023, Table 2/3): Darcy LSM 0.0065 / FNO 0.0108; NS 1e-5 LSM 0.1535 /
FNO 0.1556 (500 epochs, batch 20).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

from sciml.grid import Grid
from sciml.operators.registry import build
from sciml.train import TrainConfig, Trainer, make_windows
from sciml.train.compare import count_parameters, markdown_table, train_and_test
from sciml.train.runs import resolution_transfer

PUBLISHED = {
    "darcy": {"lsm": 0.0065, "fno": 0.0108},
    "ns": {"lsm": 0.1535, "fno": 0.1556},
}
PUBLISHED_SPEED = {"lsm": 475.0, "fno": 1330.0}  # samples/s, H200, 85x85, batch 20, fp32


# ---------------------------------------------------------------------------------- data
def darcy_data(res: int, n_train: int, n_test: int, data_dir: Path, workers: int):
    from sciml.datasets import generate, split_indices
    from sciml.train.data import load_dataset_file

    n = n_train + n_test
    path = data_dir / f"darcy-pwc-{res}-n{n}.h5"
    if not path.exists():
        print(f"generating {n} darcy-pwc samples at {res}x{res} with FEniCSx -> {path}")
        generate(
            "darcy-pwc",
            n,
            path,
            params={"resolution": res, "store_mesh_values": False},
            workers=workers,
        )
    x, y, _ = load_dataset_file(path)
    tr, te = split_indices(n, [n_train, n_test], seed=0)
    return (x[tr], y[tr]), (x[te], y[te]), str(path)


def ns_data(res: int, n_train: int, n_test: int, data_dir: Path, workers: int):
    """The ``navier-stokes-2d`` recipe's frames t = 1..20: 10 in, a 10-step rollout out."""
    from sciml.datasets import generate
    from sciml.train.data import load_dataset_file

    n = n_train + n_test
    path = data_dir / f"navier-stokes-2d-{res}-n{n}.h5"
    if not path.exists():
        print(f"solving {n} Navier-Stokes trajectories (nu=1e-5) at {res}x{res} -> {path}")
        generate("navier-stokes-2d", n, path, params={"resolution": res}, workers=workers)
    _, traj, _ = load_dataset_file(path)  # [n, 20, res, res]: w at t = 1..20
    # Trainer rollout layout: trajectory = cat([x, y], dim=1)
    x, y = traj[:, :1], traj[:, 1:]
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:]), str(path)


# -------------------------------------------------------------------------------- models
def model_kwargs(name: str, quick: bool) -> dict:
    if name == "lsm":
        if quick:
            return dict(width=16, heads=4, levels=3, tokens=4, basis=12, patches=2)
        return dict(width=64, heads=8, levels=4, tokens=4, basis=12, patches=4)
    if name == "fno":
        return dict(width=24 if quick else 32, modes=12)
    if name == "unet":
        return dict(width=16, levels=3) if quick else dict(width=32, levels=4)
    raise KeyError(name)


def machine() -> dict:
    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    try:
        import neuralop

        info["neuraloperator"] = neuralop.__version__
    except ImportError:
        pass
    return info


# ------------------------------------------------------------------------------ accuracy
def run_accuracy(args, device: torch.device) -> dict:
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    q = args.quick
    results, rows = {"runs": []}, []
    for task in args.tasks:
        if task == "darcy":
            res, n_tr, n_te = (33, 200, 50) if q else (85, 1000, 200)
            train, test, src = darcy_data(res, n_tr, n_te, data_dir, args.workers)
            in_ch, rollout = 1, {}
            grid = Grid((res, res))  # the recipe's vertex grid on the unit square
        elif task == "ns":
            res, n_tr, n_te = (32, 100, 20) if q else (64, 1000, 200)
            train, test, src = ns_data(res, n_tr, n_te, data_dir, args.workers)
            in_ch, rollout = 10, {"input_frames": 10, "rollout_steps": 10}
            grid = Grid((res, res), periodic=True)
        else:
            raise ValueError(f"unknown task {task!r}")
        budget = args.ns_budget if (task == "ns" and args.ns_budget) else args.budget
        cfg = TrainConfig(
            epochs=args.max_epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            scheduler="onecycle",
            time_budget=budget,
            val_fraction=0.1,
            amp=args.amp,
            channels_last=args.channels_last,
            compile=args.compile,
            progress=not args.no_progress,
            **rollout,
        )
        for name in args.models:
            kw = model_kwargs(name, q)
            for seed in range(args.seeds):
                print(f"[{task}] {name} seed {seed}: {budget:.0f} s", flush=True)
                r = train_and_test(
                    name,
                    lambda name=name, kw=kw, c=in_ch: build(
                        name, in_channels=c, out_channels=1, **kw
                    ),
                    train,
                    test,
                    cfg,
                    device=device,
                    seed=seed,
                )
                r.update(task=task, model_kwargs=kw, resolution=res, data=src, budget_s=budget)
                # discretisation transfer: the same test inputs resampled to res/2 and 2 res
                xt, yt = test
                if rollout:
                    xt, yt = make_windows(xt, yt, rollout["input_frames"], rollout["rollout_steps"])
                tf = resolution_transfer(
                    r["operator"],
                    xt,
                    yt,
                    grid,
                    [res // 2 + (res % 2), 2 * res - (res % 2)],
                    rollout_steps=rollout.get("rollout_steps"),
                    device=device,
                )
                r["transfer"] = tf
                r["test_l2_coarse"], r["test_l2_fine"] = tf[0]["rel_l2"], tf[1]["rel_l2"]
                for k in ("operator", "test_errors"):
                    r.pop(k)
                r["history"] = [
                    {k: h[k] for k in ("epoch", "val_l2", "train_time")} for h in r["history"]
                ]
                results["runs"].append(r)
                print(
                    f"    test rel. L2 {r['test_l2']:.4f}, {r['epochs']} epochs, "
                    f"{r['samples_per_s']:.0f} samples/s",
                    flush=True,
                )
            runs = [r for r in results["runs"] if r["task"] == task and r["name"] == name]
            errs = torch.tensor([r["test_l2"] for r in runs])
            rows.append(
                {
                    "task": task,
                    "model": name,
                    "params": runs[0]["params"],
                    "test_l2": float(errs.mean()),
                    "spread": float(errs.max() - errs.min()) / 2 if len(runs) > 1 else 0.0,
                    "epochs": sum(r["epochs"] for r in runs) / len(runs),
                    "train_time_s": sum(r["train_time_s"] for r in runs) / len(runs),
                    "samples_per_s": sum(r["samples_per_s"] for r in runs) / len(runs),
                    "infer_ms": 1e3 * sum(r["infer_s_per_sample"] for r in runs) / len(runs),
                    "l2_coarse": sum(r["test_l2_coarse"] for r in runs) / len(runs),
                    "l2_fine": sum(r["test_l2_fine"] for r in runs) / len(runs),
                    "res_coarse": runs[0]["transfer"][0]["resolution"],
                    "res_fine": runs[0]["transfer"][1]["resolution"],
                    "published": PUBLISHED[task].get(name, float("nan")),
                }
            )
        fno = [r for r in rows if r["task"] == task and r["model"] == "fno"]
        for r in rows:
            if r["task"] == task and fno:
                r["vs_fno"] = r["test_l2"] / fno[0]["test_l2"]
    results["summary"] = rows
    table = markdown_table(
        rows,
        [
            ("task", "task", ""),
            ("model", "model", ""),
            ("params", "params", ",d"),
            ("test_l2", "test rel. L2 (mean)", ".4f"),
            ("spread", "± (half range)", ".4f"),
            ("vs_fno", "/ FNO", ".2f"),
            ("published", "published", ".4f"),
            ("l2_coarse", "at res/2", ".4f"),
            ("l2_fine", "at 2 res", ".4f"),
            ("epochs", "epochs", ".1f"),
            ("train_time_s", "train s", ".0f"),
            ("samples_per_s", "train samples/s", ".0f"),
            ("infer_ms", "infer ms/sample", ".2f"),
        ],
    )
    results["markdown"] = table
    return results


# ---------------------------------------------------------------------------- throughput
def run_throughput(args, device: torch.device) -> dict:
    res, n = (85, 60) if args.quick else (85, 400)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, res, res, generator=g)
    y = torch.randn(n, 1, res, res, generator=g)
    variants = [("fp32", dict(amp="none")), ("bf16", dict(amp="bf16"))]
    variants.append(("bf16+channels_last", dict(amp="bf16", channels_last=True)))
    if device.type == "cuda":
        variants.append(
            ("bf16+channels_last+compile", dict(amp="bf16", channels_last=True, compile=True))
        )
    models = {
        "lsm": dict(width=64, heads=8, levels=4, tokens=4, basis=12, patches=4),
        "fno": dict(width=32, modes=12),
    }
    if args.quick:
        models = {"lsm": dict(width=16, heads=4, levels=3, patches=2), "fno": dict(width=16)}
    rows = []
    for name, kw in models.items():
        for label, opts in variants:
            for bs in args.tp_batch_sizes:
                torch.manual_seed(0)
                model = build(name, in_channels=1, out_channels=1, **kw)
                cfg = TrainConfig(
                    epochs=args.tp_epochs,
                    batch_size=bs,
                    lr=1e-3 * bs / 20,
                    val_fraction=0.0,
                    progress=False,
                    **opts,
                )
                row = {
                    "model": name,
                    "variant": label,
                    "batch": bs,
                    "params": count_parameters(model),
                }
                try:
                    hist = Trainer(model, cfg, device=device).fit((x, y))
                    steady = hist[1:] or hist  # epoch 1 includes warm-up / compilation
                    row["samples_per_s"] = sum(h["samples_per_s"] for h in steady) / len(steady)
                    ref = None if args.quick else PUBLISHED_SPEED.get(name)
                    row["vs_published_fp32"] = row["samples_per_s"] / ref if ref else None
                except Exception as exc:  # record what failed and go on
                    row["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
                print(row, flush=True)
                rows.append(row)
    table = markdown_table(
        rows,
        [
            ("model", "model", ""),
            ("variant", "variant", ""),
            ("batch", "batch", "d"),
            ("params", "params", ",d"),
            ("samples_per_s", "train samples/s", ".0f"),
            ("vs_published_fp32", "/ published impl.", ".2f"),
            ("error", "error", ""),
        ],
    )
    return {"throughput": rows, "markdown": table}


# ---------------------------------------------------------------------------------- main
def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=["accuracy", "throughput"], default="accuracy")
    p.add_argument("--quick", action="store_true", help="small CPU run (reduced everything)")
    p.add_argument("--tasks", default="darcy,ns")
    p.add_argument("--models", default="lsm,fno,unet")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--budget", type=float, help="seconds of training per model and seed")
    p.add_argument("--ns-budget", type=float, help="seconds per NS run (default --budget)")
    p.add_argument("--max-epochs", type=int, default=500, help="cap (published: 500)")
    p.add_argument("--batch-size", type=int, default=20)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--amp", choices=["auto", "bf16", "none"], default="none")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--compile", action="store_true")
    p.add_argument(
        "--tp-epochs", type=int, default=3, help="throughput: epochs of 400 (quick: 60) samples"
    )
    p.add_argument("--tp-batch-sizes", default="20", help="throughput: comma list")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--workers", type=int, default=1, help="FEniCSx data-generation workers")
    p.add_argument("--data-dir", default="out/bench_data")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--out", default="out/operators_darcy_ns.json")
    args = p.parse_args(argv)
    args.tasks = [t for t in args.tasks.split(",") if t]
    args.models = [m for m in args.models.split(",") if m]
    args.tp_batch_sizes = [int(b) for b in args.tp_batch_sizes.split(",")]
    if args.budget is None:
        args.budget = 30.0 if args.quick else 110.0
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    t0 = time.time()
    if args.mode == "accuracy":
        result = run_accuracy(args, device)
    else:
        result = run_throughput(args, device)
    result.update(
        mode=args.mode,
        command=" ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
        machine=machine(),
        device=str(device),
        wall_s=time.time() - t0,
        settings={k: v for k, v in vars(args).items() if k not in ("out",)},
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    md = out.with_suffix(".md")
    head = (
        f"# Operators benchmark ({args.mode}{', quick' if args.quick else ''})\n\n"
        f"Machine: {json.dumps(result['machine'])}, device {device}.\n"
        f"Command: `{result['command']}`\n"
    )
    if args.mode == "accuracy":
        head += (
            f"\nEqual wall-clock budget: {args.budget:.0f} s (NS: {args.ns_budget or args.budget:.0f} s) "
            "of training per model and seed, "
            f"{args.seeds} seed(s), batch {args.batch_size}, lr {args.lr} one-cycle, "
            f"amp {args.amp}.\n"
        )
    md.write_text(head + "\n" + result["markdown"] + "\n")
    print(head)
    print(result["markdown"])
    print(f"wrote {out} and {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
