"""Put a finished training run into the model zoo: copy its validation-selected model file to
``sciml/zoo/NAME.pt`` and write the card (what, command, recipe + version, seed, steps, CPU
hours, machine, metrics measured now by ``sciml.zoo.evaluate``, date). From the repo root:

    python training/publish.py dgno-two-phase          # training/dgno-two-phase -> zoo
    python training/publish.py dgno-two-phase --n-inverse 4 --skip-measure   # quick card

The run's `summary.json` must exist (a finished run); `--force` publishes a run in progress
(its best model so far, the card says so).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import torch

from sciml.datasets import get_recipe
from sciml.inverse.latent_inversion import invert_dgno
from sciml.inverse.observations import observations_from_dataset
from sciml.operators.model_file import load_operator
from sciml.operators.point.dgno_task import DGNOLoss, physics_std
from sciml.zoo import ZOO, write_card
from sciml.zoo.evaluate import evaluate

ROOT = Path(__file__).resolve().parents[1]
MACHINE = (
    f"{platform.machine()} {os.cpu_count()}-core CPU (the shared development VM), 1 torch "
    "thread, nice 10, the other core shared with the session's work (load average 2-4)"
)

#: what each zoo entry is, and how its card measures it
SPECS = {
    "dgno-two-phase": {
        "description": "DGNO (deep generative neural operator) for two-phase Darcy "
        "-div(a grad u) = 10 on the unit square, a in {5, 10}, 29x29: trained WITHOUT "
        "solutions (weak-form residuals + the coefficient's ELBO); forward u from a, and "
        "latent-space inversion of a from noisy u (`sciml invert darcy zoo:dgno-two-phase`).",
        "paper": "Zang & Koutsourelakis, DGenNO, J. Comput. Phys. 538:114137 (2025); published "
        "u rel. L2 0.0241 (label-free), inverse a rel. L2 0.10-0.13 (100 obs, 25 dB)",
        "eval": {"kind": "operator-rel-l2", "recipe": "darcy-two-phase", "seed": 1, "n": 200,
                 "ood_recipe": "darcy-two-phase-ood", "ood_seed": 2},
        "inverse": {"kind": "dgno-inverse", "recipe": "darcy-two-phase-inverse", "seed": 5,
                    "n": 20, "counts": [100, 25], "validation_seed": 4},
    },
    "dgno-lognormal": {
        "description": "DGNO for smooth Darcy, a = exp(Matern field), f = 10, 29x29: trained "
        "WITHOUT solutions; forward u and latent-space inversion of a.",
        "paper": "Zang & Koutsourelakis, DGenNO (2025); published smooth u rel. L2 0.0033, "
        "inverse a 0.009 / 0.018 (100 / 25 obs)",
        "eval": {"kind": "operator-rel-l2", "recipe": "darcy-lognormal", "seed": 1, "n": 200},
        "inverse": {"kind": "dgno-inverse", "recipe": "darcy-lognormal-inverse", "seed": 5,
                    "n": 20, "counts": [100, 25], "validation_seed": 4},
    },
}  # fmt: skip

for _fam, _title in (("flatvel-a", "FlatVel-A"), ("curvevel-a", "CurveVel-A")):
    SPECS[f"lunet-{_fam}"] = {
        "description": f"Latent U-Net (GFI), seismic -> velocity on OpenFWI-style {_title} "
        "(70x70 velocity, 5 shots x 1000 steps x 70 receivers, our deepwave generator), "
        "inverse direction only, time_stride 4; `sciml eval` / `sciml invert seismic`.",
        "paper": "Gupta, Sawhney, Daw, Lin, Karpatne, GFI, ICLR 2025 (arXiv 2410.11247): "
        "Latent U-Net L (35.0M, 450 epochs on 24k maps) inverse MAE on [-1, 1] velocity "
        + ("0.0060 / SSIM 0.997" if _fam == "flatvel-a" else "0.0320 / SSIM 0.927"),
        "eval": {
            "kind": "seismic-imaging",
            "recipe": f"seismic-{_fam}",
            "seed": 7,
            "n": 100,
            "params": {"propagator": "deepwave"},
        },
    }
    SPECS[f"inversionnet-{_fam}"] = {
        "description": f"InversionNet baseline, seismic -> velocity on {_title} (same data and "
        "budget as the Latent U-Net entry).",
        "paper": "Wu & Lin, InversionNet, IEEE TCI 6 (2020); GFI's retrained InversionNet on "
        + ("FlatVel-A MAE 0.0131 / SSIM 0.9895" if _fam == "flatvel-a" else "CurveVel-A"),
        "eval": {
            "kind": "seismic-imaging",
            "recipe": f"seismic-{_fam}",
            "seed": 7,
            "n": 100,
            "params": {"propagator": "deepwave"},
        },
    }

INVERSION = {"chains": 6, "map_steps": 200, "sample_steps": 100, "centres": 32}


def run_record(run: Path) -> dict:
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    cfg = json.loads((run / "config.json").read_text())
    return {
        "epochs": len(rows),
        "steps": int(sum(float(r["steps"]) for r in rows)),
        "wall_time_s": round(float(rows[-1]["train_time"]), 1),
        "cpu_hours": round(float(rows[-1]["train_cpu_time"]) / 3600, 2),
        "best_val": min(float(r[cfg.get("selection", "val_loss")]) for r in rows)
        if "val_loss" in rows[0]
        else None,
        "final_val_l2": float(rows[-1]["val_l2"]) if "val_l2" in rows[-1] else None,
        "config": cfg,
    }


def choose_physics_weight(model_file: Path, spec: dict, workdir: Path) -> float:
    """The inversion's physics weight, chosen on validation fields (never the test ones)."""
    from sciml.datasets import generate

    model, extra = load_operator(model_file)
    loss = DGNOLoss.from_dict(extra["dgno_loss"])
    data = workdir / "inverse-val.h5"
    if not data.exists():
        generate(spec["recipe"], 4, data, seed=spec["validation_seed"], progress=False)
    scores = {}
    for w in (0.0, 1.0, 10.0):
        errs = []
        for i in range(4):
            obs, truth, _ = observations_from_dataset(data, i, spec["counts"][0])
            post = invert_dgno(model, obs, loss, physics_std=physics_std(extra),
                               physics_weight=w, seed=100 + i, **INVERSION)  # fmt: skip
            errs.append(post.relative_error(torch.as_tensor(truth)))
        scores[w] = sum(errs) / len(errs)
        print(f"  physics weight {w}: validation a rel. L2 {scores[w]:.4f}", flush=True)
    return min(scores, key=scores.get)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", choices=sorted(SPECS))
    ap.add_argument("--run", help="run folder (default training/NAME)")
    ap.add_argument("--n-inverse", type=int, help="inverse test fields (default the spec's)")
    ap.add_argument("--skip-inverse", action="store_true")
    ap.add_argument("--force", action="store_true", help="publish a run that has not finished")
    args = ap.parse_args()
    torch.set_num_threads(1)
    spec = SPECS[args.name]
    run = Path(args.run) if args.run else ROOT / "training" / args.name
    if not (run / "summary.json").exists() and not args.force:
        print(f"{run} has not finished (no summary.json); --force publishes it anyway")
        return 2
    record = run_record(run)
    cfg = record.pop("config")
    data_recipe = get_recipe(spec["eval"]["recipe"])
    target = ZOO / f"{args.name}.pt"
    shutil.copyfile(run / "model.pt", target)
    eval_spec = dict(spec["eval"])
    card = {
        "name": args.name,
        "family": "operator",
        "description": spec["description"],
        "paper": spec["paper"],
        "command": f"training/run.sh {args.name}   # = sciml train --config "
        f"training/{args.name}.json --out training/{args.name} --no-progress [--resume]",
        "recipe": {"name": data_recipe.name, "version": data_recipe.version,
                   "train_file": cfg.get("data") if isinstance(cfg.get("data"), str) else None},
        "training": {"seed": cfg["train"]["seed"], **record, "threads": 1,
                     "machine": MACHINE, "finished": (run / "summary.json").exists(),
                     "train_config": cfg["train"]},
        "eval": eval_spec,
        "metrics": {},
        "measured": "",
    }  # fmt: skip
    write_card(card)
    t0 = time.perf_counter()
    workdir = ROOT / "training" / "data" / "eval"
    workdir.mkdir(parents=True, exist_ok=True)
    metrics = evaluate(args.name, workdir=workdir)
    print(args.name, metrics, flush=True)
    if "inverse" in spec and not args.skip_inverse:
        inv = dict(spec["inverse"])
        inv["physics_weight"] = choose_physics_weight(target, inv, workdir)
        inv["settings"] = INVERSION
        if args.n_inverse:
            inv["n"] = args.n_inverse
        card["eval"] = [eval_spec, inv]  # sciml models eval measures both
        write_card(card)
        metrics.update(evaluate(args.name, workdir=workdir, kinds=("dgno-inverse",)))
    card["metrics"] = metrics
    card["measured"] = (
        f"{datetime.date.today().isoformat()}, {MACHINE}, load average "
        f"{os.getloadavg()[0]:.1f} at the end, {time.perf_counter() - t0:.0f} s"
    )
    write_card(card)
    print(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
