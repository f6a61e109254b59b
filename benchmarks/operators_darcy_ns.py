"""LSM vs FNO (neuraloperator) vs U-Net on Darcy and Navier-Stokes, same data, same budget.

Accuracy mode (default): for each task and model, ``--seeds`` runs trained for the same
step budget (``--epochs``; optimiser steps do not depend on the machine's load) -- or, with
``--budget``, the same wall-clock budget (seconds of optimisation, validation excluded) -- with
the same Trainer, batch size, learning-rate schedule and data; reports mean and spread of the test
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

Throughput mode (``--mode throughput``): training samples/s at 85x85, batch 20, through the
Trainer, for the accuracy runs' LSM (width 64), FNO (width 32, 12 modes) and U-Net (width 32),
in fp32 (+TF32 on CUDA), bf16 autocast (the CUDA default), + channels_last, + torch.compile
(CUDA, or ``--compile`` on the CPU), and for LSM with each ``scaled_dot_product_attention``
backend forced (``math`` = unfused; flash / efficient / cuDNN = fused). Each row reports the
ratio to the bf16 default and to the published implementation's fp32 rate; rows at least
1.10x the default are printed as suggested ``CUDA_TRAIN_SETTINGS`` (sciml/train/speed.py).
``--smoke`` runs every CPU-capable row at a tiny size in seconds (the plumbing check of
``tests/train/test_train_speed.py``).

Examples::

    python benchmarks/operators_darcy_ns.py --quick --out out/bench_ops.json        # CPU
    python benchmarks/operators_darcy_ns.py --tasks darcy --epochs 500 --seeds 1 \\
        --device cuda --amp bf16 --out out/ops_darcy_gpu.json                      # GPU
    python benchmarks/operators_darcy_ns.py --mode throughput --device cuda --out out/tp.json
    python benchmarks/operators_darcy_ns.py --mode throughput --smoke --out out/tp_smoke.json

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
from sciml.workflows.compare import count_parameters, train_and_test
from sciml.workflows.runs import resolution_transfer
from sciml.workflows.tables import markdown_table

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
            epochs=args.epochs if budget is None else args.max_epochs,
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
                what = f"{cfg.epochs} epochs" if budget is None else f"{budget:.0f} s"
                print(f"[{task}] {name} seed {seed}: {what}", flush=True)
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
_SDPA = {
    "math": "MATH",
    "flash": "FLASH_ATTENTION",
    "efficient": "EFFICIENT_ATTENTION",
    "cudnn": "CUDNN_ATTENTION",
}


def throughput_variants(device: torch.device, compile_on_cpu: bool = False) -> list[tuple]:
    """``(label, TrainConfig options, sdpa backend or None, models or None = all)``.

    The baseline is ``bf16`` (TrainConfig's default on CUDA, ``amp="auto"``); ``fp32`` is the
    published implementation's setting. LSM's neural spectral blocks call
    ``F.scaled_dot_product_attention``: on CUDA it picks a fused kernel (flash / memory-efficient
    / cuDNN); ``sdpa=math`` forces the unfused reference, the other ``sdpa=`` rows force one
    fused kernel each (a row errors where that kernel does not support the shapes).
    """
    cuda = device.type == "cuda"
    v: list[tuple] = [("fp32", dict(amp="none"), None, None)]
    if cuda:
        v.append(("fp32+tf32", dict(amp="none"), "tf32", None))
    v += [
        ("bf16", dict(amp="bf16"), None, None),
        ("bf16+channels_last", dict(amp="bf16", channels_last=True), None, None),
    ]
    if cuda or compile_on_cpu:
        v.append(
            (
                "bf16+channels_last+compile",
                dict(amp="bf16", channels_last=True, compile=True),
                None,
                None,
            )
        )
    backends = list(_SDPA) if cuda else ["math"]
    for b in backends:
        v.append(
            (f"bf16+channels_last+sdpa={b}", dict(amp="bf16", channels_last=True), b, ("lsm",))
        )
    return v


def _sdpa_context(backend: str | None):
    import contextlib

    if backend is None:
        return contextlib.nullcontext()
    if backend == "tf32":
        return _tf32()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    return sdpa_kernel([getattr(SDPBackend, _SDPA[backend])])


class _tf32:
    """TF32 matmuls and convolutions inside the block (fp32 storage, tensor-core math)."""

    def __enter__(self):
        self.saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True

    def __exit__(self, *exc):
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = self.saved


def throughput_models(size: str) -> dict[str, dict]:
    """Model settings of the sweep: the accuracy runs' (``full``) or tiny ones (``smoke``)."""
    if size == "smoke":
        return {
            "lsm": dict(width=8, heads=2, levels=2, tokens=2, basis=4, patches=2),
            "fno": dict(width=8, modes=4),
            "unet": dict(width=8, levels=2),
        }
    if size == "quick":
        return {
            "lsm": dict(width=16, heads=4, levels=3, patches=2),
            "fno": dict(width=16),
            "unet": dict(width=16, levels=3),
        }
    return {
        "lsm": model_kwargs("lsm", False),
        "fno": model_kwargs("fno", False),
        "unet": model_kwargs("unet", False),
    }


def run_throughput(args, device: torch.device) -> dict:
    from sciml.train.speed import suggest_settings

    size = "smoke" if args.smoke else ("quick" if args.quick else "full")
    res, n = {"smoke": (17, 8), "quick": (85, 60), "full": (85, args.tp_samples)}[size]
    epochs = 2 if args.smoke else args.tp_epochs
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, res, res, generator=g)
    y = torch.randn(n, 1, res, res, generator=g)
    variants = throughput_variants(device, compile_on_cpu=args.compile)
    models = {k: v for k, v in throughput_models(size).items() if k in args.models}
    rows = []
    partial = Path(args.out).with_suffix(".partial.json")
    # variants outside, models inside: the slow compile rows come last, after every cheap row
    for label, opts, backend, only in variants:
        for name, kw in models.items():
            if only is not None and name not in only:
                continue
            if args.tp_variants and label not in args.tp_variants:
                continue
            for bs in args.tp_batch_sizes:
                bs = min(bs, n // 2)
                torch.manual_seed(0)
                model = build(name, in_channels=1, out_channels=1, **kw)
                cfg = TrainConfig(
                    epochs=epochs,
                    batch_size=bs,
                    lr=1e-3 * bs / 20,
                    val_fraction=0.0,
                    progress=False,
                    **opts,
                )
                row = {
                    "model": name,
                    "variant": label,
                    "options": opts,
                    "sdpa": backend,
                    "batch": bs,
                    "resolution": res,
                    "params": count_parameters(model),
                }
                try:
                    with _sdpa_context(backend):
                        hist = Trainer(model, cfg, device=device).fit((x, y))
                    steady = hist[1:] or hist  # epoch 1 includes warm-up / compilation
                    row["samples_per_s"] = sum(h["samples_per_s"] for h in steady) / len(steady)
                    row["warmup_s"] = hist[0]["epoch_time"]
                    ref = PUBLISHED_SPEED.get(name) if size == "full" else None
                    if ref:
                        row["vs_published_fp32"] = row["samples_per_s"] / ref
                except Exception as exc:  # record what failed and go on
                    row["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
                print({k: v for k, v in row.items() if k != "options"}, flush=True)
                rows.append(row)
                partial.parent.mkdir(parents=True, exist_ok=True)
                partial.write_text(json.dumps(rows, indent=1))  # survives a killed run
    for r in rows:  # speed-up over the CUDA default (bf16 autocast) in the same run
        base = [b for b in rows if b["model"] == r["model"] and b["variant"] == "bf16"]
        if base and base[0].get("samples_per_s") and r.get("samples_per_s"):
            r["vs_bf16"] = r["samples_per_s"] / base[0]["samples_per_s"]
    rows.sort(key=lambda r: list(models).index(r["model"]))  # stable: variants stay in order
    suggested = suggest_settings(rows)
    evidence = device.type == "cuda" and size == "full"
    table = markdown_table(
        rows,
        [
            ("model", "model", ""),
            ("variant", "variant", ""),
            ("batch", "batch", "d"),
            ("params", "params", ",d"),
            ("samples_per_s", "train samples/s", ".0f"),
            ("vs_bf16", "/ bf16 (default)", ".2f"),
            ("vs_published_fp32", "/ published impl. (fp32)", ".2f"),
            ("warmup_s", "first epoch s", ".1f"),
            ("error", "error", ""),
        ],
    )
    table += (
        "\nSuggested CUDA_TRAIN_SETTINGS (sciml/train/speed.py; only rows >= "
        f"1.10x bf16 in this run): `{json.dumps(suggested)}`"
        + ("" if evidence else " -- NOT evidence: a CPU or reduced-size run")
        + "\n"
    )
    return {"throughput": rows, "suggested": suggested, "evidence": evidence, "markdown": table}


# ---------------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    """The command line (also read by tests/benchmarks/test_gpu_scripts.py)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=["accuracy", "throughput"], default="accuracy")
    p.add_argument("--quick", action="store_true", help="small CPU run (reduced everything)")
    p.add_argument(
        "--smoke", action="store_true", help="throughput: tiny plumbing check (seconds, any CPU)"
    )
    p.add_argument("--tasks", default="darcy,ns")
    p.add_argument("--models", default="lsm,fno,unet")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument(
        "--epochs", type=int, help="step budget: epochs per model and seed (default 20 with "
        "--quick, else 100; published: 500)"
    )  # fmt: skip
    p.add_argument(
        "--budget", type=float, help="wall-clock budget instead: seconds of training per run"
    )
    p.add_argument("--ns-budget", type=float, help="seconds per NS run (default --budget)")
    p.add_argument("--max-epochs", type=int, default=500, help="epoch cap of a --budget run")
    p.add_argument("--batch-size", type=int, default=20)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--amp", choices=["auto", "bf16", "none"], default="none")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--tp-epochs", type=int, default=3, help="throughput: epochs (first: warm-up)")
    p.add_argument("--tp-samples", type=int, default=400, help="throughput: samples per epoch")
    p.add_argument("--tp-variants", default="", help="throughput: comma list of row labels")
    p.add_argument("--tp-batch-sizes", default="20", help="throughput: comma list")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--workers", type=int, default=1, help="FEniCSx data-generation workers")
    p.add_argument("--data-dir", default="out/bench_data")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--out", default="out/operators_darcy_ns.json")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    args.tasks = [t for t in args.tasks.split(",") if t]
    args.models = [m for m in args.models.split(",") if m]
    args.tp_batch_sizes = [int(b) for b in args.tp_batch_sizes.split(",")]
    args.tp_variants = [v for v in args.tp_variants.split(",") if v]
    if args.epochs is None:
        args.epochs = 20 if args.quick else 100
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
        budget = (
            f"Equal step budget: {args.epochs} epochs"
            if args.budget is None
            else f"Equal wall-clock budget: {args.budget:.0f} s (NS: "
            f"{args.ns_budget or args.budget:.0f} s)"
        )
        head += (
            f"\n{budget} of training per model and seed, "
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
