"""DGNO vs physics-only and supervised operators on Darcy, and DGNO inversion with uncertainty.

One run, the same data for every model (FEniCSx ground truth from the ``darcy-two-phase`` and
``darcy-lognormal`` recipes, 29x29, ``f = 10``):

* **label-free** (coefficient fields only): DGNO (weak-form mixed residual, probabilistic
  latent), PI-DeepONet and PI-MultiONet (sensor-input point operators) and a PINO-style FNO,
  the last three trained with the strong-form FD residual (:class:`FDPhysicsTask`);
* **supervised** with ``--labels`` (default 1000) labelled pairs: DeepONet, MultiONet, FNO;
* every model trained for the same step budget (``--steps`` optimiser steps; ``--budget-*``
  seconds give a wall-clock budget instead) through the one Trainer; the saved model is the
  best on the *validation* split (label-free models: their label-free validation loss;
  supervised: validation relative L2); test and out-of-distribution (``darcy-two-phase-ood``,
  half the correlation length) errors are computed once, at the end;
* **inverse**: DGNO latent-space inversion of held-out fields from 100 and 25 noisy
  observations of ``u`` (25 dB): relative L2 of the posterior-mean coefficient and coverage of
  its 95% band; the physics weight of the inversion is chosen on separate validation fields;
* **smooth** Darcy (``darcy-lognormal``): DGNO forward error and inversion at 100 / 25.

Published (Zang & Koutsourelakis 2025, repository outputs): two-phase u rel. L2 0.0241
label-free (PI-DeepONet 0.165, PI-MultiONet 0.141, PINO 0.043; supervised DeepONet 0.016,
MultiONet 0.015), inverse coefficient 0.10-0.13 (100 obs, 25 dB); smooth u 0.0033, inverse
0.009 (100 obs) / 0.018 (25 obs). Those runs train 1000-10000 epochs on a GPU.

The default run is sized for a 2-core CPU (3000 steps per model); ``--quick``
is a ~3-minute smoke run. Example for a GPU::

    python benchmarks/dgno_darcy.py --device cuda --steps 200000 \\
        --n-train 10000 --out bench_out/dgno_darcy_gpu
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import torch

PUBLISHED = {
    "two-phase": {
        "DGNO": 0.0241,
        "PI-DeepONet": 0.1651,
        "PI-MultiONet": 0.1408,
        "PINO (FNO)": 0.0434,
        "DeepONet": 0.0161,
        "MultiONet": 0.0149,
        "FNO": None,
    },
    "smooth": {"DGNO": 0.0033},
    "inverse": {("two-phase", 100): (0.104, 0.127), ("smooth", 100): 0.009, ("smooth", 25): 0.018},
}


# ------------------------------------------------------------------------------------ data
def dataset(recipe: str, n: int, seed: int, data_dir: Path, workers: int):
    import h5py

    from sciml.datasets import GridDataset, generate

    path = data_dir / f"{recipe}-n{n}-s{seed}.h5"
    if not path.exists():
        print(f"generating {n} {recipe} samples (FEniCSx) -> {path}", flush=True)
        generate(recipe, n, path, seed=seed, workers=workers, progress=False)
    ds = GridDataset(path)
    a = ds.inputs_array().float()
    u = ds.outputs_array().float()
    extras = {}
    with h5py.File(path, "r") as f:
        if "extras" in f:
            extras = {k: torch.as_tensor(f["extras"][k][...]) for k in f["extras"]}
    return a, u, extras


# ---------------------------------------------------------------------------------- models
def dgno_model(medium: str, quick: bool):
    """The DGNO of each problem (:func:`~sciml.operators.point.dgno.dgno_preset`). Both use the mixed
    weak form: on the CPU budget the primal form of the smooth problem learned far slower
    (test u 0.53 vs 0.27 after 150 s)."""
    from sciml.operators.point.dgno import dgno_preset
    from sciml.operators.registry import build

    options = dgno_preset("two-phase" if medium == "two-phase" else "lognormal")
    if quick:
        options["latent"] = 32
    return build("dgno", **options)


def baseline_model(name: str):
    from sciml.operators.registry import build

    if name in ("PI-DeepONet", "DeepONet"):
        return build("deeponet", in_channels=1, sensor_shape=(29, 29), width=100, layers=5,
                     activation="tanh")  # fmt: skip
    if name in ("PI-MultiONet", "MultiONet"):
        return build("multionet", in_channels=1, sensor_shape=(29, 29), width=100, layers=5,
                     activation="silu_sin")  # fmt: skip
    # CPU-sized FNO (the published PINO has 17.3 M parameters and trains on a GPU)
    return build("fno", in_channels=1, out_channels=1, width=20, modes=8, layers=4, padding=0.1)


def params(model) -> int:
    return sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters())


def rel_l2(pred: torch.Tensor, truth: torch.Tensor) -> float:
    from sciml.train.losses import relative_l2

    return float(relative_l2(pred.float(), truth.float(), reduction="none").mean())


@torch.no_grad()
def predict(op, a: torch.Tensor, device) -> torch.Tensor:
    op = op.to(device).eval()
    return torch.cat([op(a[i : i + 50].to(device)).cpu() for i in range(0, a.shape[0], 50)])


# ------------------------------------------------------------------------------- training
def train(name, model, task, train_data, val_data, budget, args, run_dir, lr=None):
    from sciml.operators.model_file import load_operator
    from sciml.train import TrainConfig, Trainer

    cfg = TrainConfig(
        epochs=100000, batch_size=args.batch_size, lr=lr or args.lr, scheduler="cosine",
        time_budget=budget, max_steps=None if budget is not None else args.steps,
        progress=False, seed=args.seed, grad_clip=10.0, weight_decay=1e-4, eval_batch_size=50,
    )  # fmt: skip
    torch.manual_seed(args.seed)
    trainer = Trainer(model, cfg, task=task, out_dir=run_dir, device=args.device)
    t0 = time.perf_counter()
    hist = trainer.fit(train_data, val_data)
    seconds = time.perf_counter() - t0
    loaded, extra = load_operator(run_dir / "model.pt", map_location=args.device)
    if "hard_dirichlet" in extra:  # FDPhysicsTask saves the inner model + its settings
        from sciml.operators.pino_task import HardDirichletOperator
        from sciml.train.normalizers import GaussianNormalizer

        hd = extra["hard_dirichlet"]
        norm = GaussianNormalizer(1)
        norm.mean.fill_(hd["x_mean"])
        norm.std.fill_(hd["x_std"])
        norm.fitted.fill_(True)
        loaded = HardDirichletOperator(loaded, norm, hd["u_scale"], hd["mollifier"])
    metric = task.selection_metric if task is not None else "val_l2"
    best = min(range(len(hist)), key=lambda i: hist[i][metric])
    print(f"  {name}: {len(hist)} epochs in {seconds:.0f} s, best epoch {best + 1} by {metric}",
          flush=True)  # fmt: skip
    return (
        loaded,
        extra,
        {
            "epochs": len(hist),
            "train_s": round(seconds, 1),
            "best_epoch": best + 1,
            "selected_by": metric,
            "val_l2_at_best": hist[best].get("val_l2"),
        },
    )


def forward_study(medium, data, args, out: Path, quick: bool):
    from sciml.operators.pino_task import FDPhysicsTask
    from sciml.operators.point.dgno_task import DGNOLoss, DGNOTask

    (a_tr, u_tr), (a_val, u_val), (a_te, u_te), ood = data
    rows, models = [], {}
    loss = DGNOLoss(forcing=10.0, radius=args.radius, n_centres=32 if quick else 64,
                    kl_weight=0.1, val_centres=64)  # fmt: skip
    plan = [
        ("DGNO", "label-free", args.budget_dgno if medium == "two-phase" else args.budget_smooth)
    ]
    if medium == "two-phase":
        plan += [
            (n, "label-free", args.budget_baseline)
            for n in ("PI-DeepONet", "PI-MultiONet", "PINO (FNO)")
        ]
        plan += [
            (n, f"{args.labels} labels", args.budget_baseline)
            for n in ("DeepONet", "MultiONet", "FNO")
        ]
    for name, kind, budget in plan:
        if args.only and name not in args.only:
            continue
        run_dir = (
            out / "runs" / f"{medium}-{name.replace(' ', '_').replace('(', '').replace(')', '')}"
        )
        if name == "DGNO":
            model = dgno_model(medium, quick)
            task = DGNOTask(loss)
            tr, va = a_tr, (a_val, u_val)  # u_val only logged, never used for selection
        elif kind == "label-free":
            model = baseline_model(name)
            task = FDPhysicsTask(forcing=10.0, u_scale=0.1)
            tr, va = a_tr, (a_val, u_val)
        else:
            model = baseline_model(name)
            task = None
            tr, va = (a_tr[: args.labels], u_tr[: args.labels]), (a_val, u_val)
        n_params = params(model)
        lr = args.dgno_lr if name == "DGNO" else args.lr
        op, extra, info = train(name, model, task, tr, va, budget, args, run_dir, lr)
        row = {"problem": medium, "model": name, "training": kind, "params": n_params, **info}
        row["test_l2"] = rel_l2(predict(op, a_te, args.device), u_te)
        if ood is not None:
            row["ood_l2"] = rel_l2(predict(op, ood[0], args.device), ood[1])
        row["published"] = PUBLISHED[medium].get(name)
        rows.append(row)
        models[name] = (op, extra, loss)
        print(f"  {name}: test rel. L2 {row['test_l2']:.4f}", flush=True)
    return rows, models


def inverse_study(medium, model, loss, phys_std, fields, args, quick: bool):
    """Select the physics weight on validation fields, then score the test fields."""
    from sciml.grid import Grid
    from sciml.inverse import Observations
    from sciml.inverse.latent_inversion import invert_dgno

    a_inv, u_inv, extras = fields
    grid = Grid((29, 29))
    pts = grid.points(dtype=torch.float64)
    n_val = args.inverse_val
    settings = dict(chains=4 if quick else 6, map_steps=60 if quick else 200,
                    sample_steps=20 if quick else 100, centres=16 if quick else 32)  # fmt: skip

    def run(i, count, weight):
        idx = extras[f"obs_index_{count}"][i].long()
        obs = Observations(
            pts[idx], extras[f"obs_value_{count}"][i].double(),
            torch.full((count,), float(extras[f"obs_sigma_{count}"][i]), dtype=torch.float64),
            25.0,
        )  # fmt: skip
        post = invert_dgno(model, obs, loss, physics_std=phys_std, physics_weight=weight,
                           seed=args.seed + i, **settings)  # fmt: skip
        truth = a_inv[i, 0]
        return post.relative_error(truth), post.coverage(truth), post.info["seconds"]

    weights = (0.0, 1.0) if quick else (0.0, 1.0, 10.0)
    scores = {}
    for w in weights:
        errs = [run(i, 100, w)[0] for i in range(n_val)]
        scores[w] = sum(errs) / len(errs)
        print(f"  inverse {medium}: physics weight {w}: validation rel. L2 {scores[w]:.4f}",
              flush=True)  # fmt: skip
    best_w = min(scores, key=scores.get)
    rows = []
    for count in (100, 25):
        res = [run(i, count, best_w) for i in range(n_val, a_inv.shape[0])]
        err = sum(r[0] for r in res) / len(res)
        cov = sum(r[1] for r in res) / len(res)
        pub = PUBLISHED["inverse"].get((medium, count))
        rows.append({
            "problem": medium, "observations": count, "fields": len(res),
            "physics_weight": best_w, "a_rel_l2": err, "coverage_95": cov,
            "seconds_per_field": sum(r[2] for r in res) / len(res),
            "published": pub,
        })  # fmt: skip
        print(f"  inverse {medium} {count} obs: a rel. L2 {err:.4f}, 95% coverage {cov:.3f}",
              flush=True)  # fmt: skip
    return rows


def fmt_pub(p):
    if p is None:
        return "-"
    if isinstance(p, tuple):
        return f"{p[0]:.3f}-{p[1]:.3f}"
    return f"{p:.4f}"


def markdown(forward_rows, inverse_rows, header: str) -> str:
    lines = [header, "", "| problem | model | training | params | epochs | train s | test rel. L2 u "
             "| OOD rel. L2 | published |", "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in forward_rows:
        ood = f"{r['ood_l2']:.4f}" if "ood_l2" in r else "-"
        lines.append(
            f"| {r['problem']} | {r['model']} | {r['training']} | {r['params']:,} | {r['epochs']} "
            f"| {r['train_s']:.0f} | {r['test_l2']:.4f} | {ood} | {fmt_pub(r['published'])} |"
        )
    lines += ["", "| problem | observations (25 dB) | test fields | physics weight | a rel. L2 "
              "(posterior mean) | truth inside 95% band | s / field | published a rel. L2 |",
              "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in inverse_rows:
        lines.append(
            f"| {r['problem']} | {r['observations']} | {r['fields']} | {r['physics_weight']} "
            f"| {r['a_rel_l2']:.4f} | {100 * r['coverage_95']:.1f}% | {r['seconds_per_field']:.0f} "
            f"| {fmt_pub(r['published'])} |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="~3-minute smoke run")
    ap.add_argument("--out", default="bench_out/dgno_darcy")
    ap.add_argument("--data-dir", default=None, help="cache of generated data (default OUT/data)")
    ap.add_argument("--n-train", type=int, help="unlabelled training fields (default 1000)")
    ap.add_argument("--labels", type=int, help="labelled pairs for the supervised models")
    ap.add_argument("--steps", type=int, help="step budget of every model (default 3000)")
    ap.add_argument("--budget-dgno", type=float, help="wall clock instead: s of DGNO (two-phase)")
    ap.add_argument("--budget-smooth", type=float, help="wall clock instead: s of DGNO (smooth)")
    ap.add_argument("--budget-baseline", type=float, help="wall clock instead: s per baseline")
    ap.add_argument("--inverse-val", type=int, help="validation fields for the physics weight")
    ap.add_argument("--inverse-test", type=int, help="test fields of the inversion")
    ap.add_argument("--radius", type=float, default=0.02, help="test-function radius")
    ap.add_argument("--batch-size", type=int, default=10)
    ap.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (cosine decay)")
    ap.add_argument("--dgno-lr", type=float, default=3e-3, help="DGNO's peak learning rate")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--workers", type=int, default=1, help="data generation processes")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--skip-smooth", action="store_true")
    ap.add_argument("--only", nargs="*", help="model names to train (default all)")
    args = ap.parse_args()
    q = args.quick
    defaults = dict(n_train=100 if q else 1000, labels=100 if q else 1000,
                    steps=100 if q else 3000, inverse_val=1 if q else 2,
                    inverse_test=1 if q else 3)  # fmt: skip
    for k, v in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    args.labels = min(args.labels, args.n_train)
    torch.set_num_threads(max(1, args.threads))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data_dir = Path(args.data_dir) if args.data_dir else out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    n_val, n_test, n_ood = (20, 20, 20) if q else (100, 200, 100)
    n_inv = args.inverse_val + args.inverse_test

    forward_rows, inverse_rows = [], []
    for medium, recipe in (("two-phase", "darcy-two-phase"), ("smooth", "darcy-lognormal")):
        if medium == "smooth" and args.skip_smooth:
            continue
        n_tr = args.n_train if medium == "two-phase" else max(args.n_train // 2, 50)
        a, u, _ = dataset(recipe, n_tr + n_val, 1, data_dir, args.workers)
        a_te, u_te, _ = dataset(recipe, n_test, 2, data_dir, args.workers)
        ood = None
        if medium == "two-phase":
            ood = dataset("darcy-two-phase-ood", n_ood, 3, data_dir, args.workers)[:2]
        inv = dataset(f"{recipe}-inverse", n_inv, 4, data_dir, args.workers)
        data = ((a[:n_tr], u[:n_tr]), (a[n_tr:], u[n_tr:]), (a_te, u_te), ood)
        print(f"{medium}: {n_tr} train / {n_val} val / {n_test} test fields", flush=True)
        rows, models = forward_study(medium, data, args, out, q)
        forward_rows += rows
        if "DGNO" in models:
            from sciml.operators.point.dgno_task import physics_std

            op, extra, loss = models["DGNO"]
            inverse_rows += inverse_study(medium, op, loss, physics_std(extra), inv, args, q)

    total = time.perf_counter() - t_start
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    header = (
        f"dgno_darcy ({'--quick' if q else 'default'}): {args.device}, {platform.processor() or platform.machine()}, "
        f"torch {torch.__version__}, {args.threads} thread(s), load average {load:.1f} at the end, "
        f"{total / 60:.1f} min in all; budget: "
        + (
            f"{args.steps} optimiser steps per model"
            if args.budget_dgno is None
            else f"DGNO {args.budget_dgno:.0f} s (smooth {args.budget_smooth or 0:.0f} s), "
            f"baselines {args.budget_baseline or 0:.0f} s each"
        )
        + "; "
        f"{args.n_train} unlabelled / {args.labels} labelled training fields"
    )
    table = markdown(forward_rows, inverse_rows, header)
    print("\n" + table)
    record = {"args": vars(args), "seconds": total, "load_average": load,
              "forward": forward_rows, "inverse": inverse_rows}  # fmt: skip
    (out / "results.json").write_text(json.dumps(record, indent=1, default=str))
    (out / "results.md").write_text(table + "\n")
    print(f"\nwrote {out / 'results.json'} and {out / 'results.md'}")
    bad = [r for r in forward_rows if not math.isfinite(r["test_l2"])]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
