"""GFI seismic imaging: Latent U-Net and Invertible X-Net vs InversionNet and FNO, on our
OpenFWI-style data, plus zero-shot cross-family transfer and FWI refinement.

One run does, for each family of ``--families`` (default FlatVel-A/B, CurveVel-A/B; data from
the ``seismic-<family>`` recipes, generated on first use into ``--data-dir``):

1. split the set as OpenFWI (last 20 % test) with a validation subset carved from training;
2. train, each for the same step budget (``--epochs``; with ``--budget``, the same wall-clock
   budget instead: seconds of optimisation, the Trainer's time mode) with the same optimiser,
   batch and loss (L1 + L2 + 0.1 (1 - SSIM) on
   normalised fields), selecting ``model.pt`` on the validation split:
   Latent U-Net inverse, Latent U-Net forward (GFI trains the two translators separately),
   Invertible X-Net, X-Net + cycle-consistency, InversionNet (inverse), FNO (forward);
3. report test MAE / RMSE / SSIM on the published normalisations (velocity min-max to
   [-1, 1], seismic z-score) beside the GFI paper's numbers;
4. zero-shot: every inverse model applied to the other families' test sets;
5. FWI refinement on CurveVel-B: the Latent U-Net estimate as the starting model of
   ``--fwi-iterations`` full-waveform-inversion steps through the torch propagator, against a
   network-free linear start; MAE / SSIM before and after and the cost;
6. the propagator's speed on this machine: OpenFWI samples per second, torch scheme vs
   deepwave (when installed).

``--time-stride k`` trains on every k-th time sample (the 15 Hz Ricker data hold no energy
above ~50 Hz, so 4 ms sampling loses nothing; the CPU default uses 4, the published setting is
1). The CPU default is small (``--n 240`` maps per family, small models, 60 epochs per model);
the published scale is ``--n 30000 --size gfi --time-stride 1 --epochs 450`` on a GPU.

Examples::

    python benchmarks/gfi_seismic.py --quick --out out/gfi_quick.json
    nice -n 10 python benchmarks/gfi_seismic.py --out out/gfi_cpu.json            # CPU default
    python benchmarks/gfi_seismic.py --size gfi --n 3000 --time-stride 1 --epochs 100 \\
        --device cuda --out out/gfi_gpu.json                                          # GPU
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from pathlib import Path

import torch

FAMILIES = ("flatvel-a", "flatvel-b", "curvevel-a", "curvevel-b")

#: GFI paper, full OpenFWI sets, 450 epochs (diagonals of the authors' metric files):
#: inverse MAE / SSIM and forward MAE / SSIM per family (FVA, FVB, CVA, CVB)
PUBLISHED = {
    "inverse_mae": {
        "Latent U-Net": (0.0060, 0.0187, 0.0320, 0.0824),
        "X-Net": (0.0159, 0.0233, 0.0386, 0.0932),
        "X-Net + cycle": (0.0113, 0.0286, 0.0420, 0.0981),
        "InversionNet": (0.0131, 0.0352, 0.0685, 0.1497),
    },
    "inverse_ssim": {
        "Latent U-Net": (0.997, 0.981, 0.927, 0.816),
        "X-Net": (0.992, 0.977, 0.914, 0.808),
        "X-Net + cycle": (0.993, 0.973, 0.916, 0.798),
        "InversionNet": (0.990, 0.946, 0.807, 0.673),
    },
    "forward_mae": {
        "Latent U-Net": (0.0263, 0.0266, 0.0391, 0.0622),
        "X-Net": (0.0174, 0.0296, 0.0358, 0.0503),
        "X-Net + cycle": (0.0213, 0.0242, 0.0290, 0.0493),
        "FNO": (0.0052, 0.0216, 0.0471, 0.0796),
    },
    "forward_ssim": {
        "X-Net + cycle": (0.984, 0.984, 0.963, 0.923),
        "FNO": (0.997, 0.978, 0.888, 0.835),
    },
}


def model_specs(size: str, nt: int) -> dict[str, tuple[str, dict, dict]]:
    """Display name -> (registry name, model kwargs, task kwargs)."""
    if size == "cpu":
        lat, unet_w, xlat, xlevels, xblocks, inv_w, fno = 16, 32, 16, 3, 2, 8, (16, (32, 12))
    else:  # the published sizes (Latent U-Net "large" width 256 on 128 channels, ...)
        lat, unet_w, xlat, xlevels, xblocks, inv_w, fno = 128, 256, 128, 4, 4, 32, (32, (48, 16))
    unet = dict(nt=nt, latent_channels=lat, width=unet_w, levels=2)
    xnet = dict(nt=nt, latent_channels=xlat, latent_size=64, levels=xlevels, blocks=xblocks)
    return {
        "Latent U-Net": ("latent-unet", {**unet, "directions": ("inverse",)}, {}),
        "Latent U-Net (fwd)": ("latent-unet", {**unet, "directions": ("forward",)}, {}),
        "X-Net": ("xnet", xnet, {}),
        "X-Net + cycle": ("xnet", xnet, {"cycle_weight": 1.0}),
        "InversionNet": ("inversionnet", dict(nt=nt, width=inv_w), {}),
        "FNO": (
            "seismic-fno",
            dict(nt=nt, width=fno[0], modes=fno[1], time_size=min(nt, 250)),
            {},
        ),  # fmt: skip
    }


# ---------------------------------------------------------------------------------- data
def family_data(fam: str, n: int, data_dir: Path, stride: int) -> dict:
    """Generate (once) and split the ``seismic-<fam>`` set: velocity m/s and raw gathers."""
    from sciml.datasets import generate
    from sciml.datasets.seismic import openfwi_splits
    from sciml.train.data import load_dataset_file

    path = data_dir / f"{fam}-{n}.h5"
    if not path.exists():
        print(f"generating {n} samples of seismic-{fam} -> {path}", flush=True)
        generate(f"seismic-{fam}", n, path, seed=0, progress=False)
    v, p, meta = load_dataset_file(path)
    split = openfwi_splits(n)
    sub = {k: (v[idx], p[idx][:, :, ::stride].contiguous()) for k, idx in split.items()}
    sub["test_full"] = p[split["test"]]  # full-rate gathers (for FWI)
    sub["meta"] = meta
    return sub


# ---------------------------------------------------------------------------------- training
def train_one(name, spec, data, args, run_dir: Path) -> dict:
    from sciml.operators.registry import build
    from sciml.operators.seismic.imaging_task import SeismicImagingTask
    from sciml.train import TrainConfig, Trainer

    reg, kwargs, task_kw = spec
    torch.manual_seed(args.seed)
    model = build(reg, **kwargs)
    task = SeismicImagingTask(ssim_weight=0.1, seed=args.seed, **task_kw)
    cfg = TrainConfig(
        epochs=args.epochs if args.budget is None else 100000, time_budget=args.budget,
        batch_size=args.batch, lr=args.lr,
        weight_decay=1e-4, scheduler="onecycle", eval_batch_size=16, seed=args.seed,
        progress=False,
    )  # fmt: skip
    trainer = Trainer(model, cfg, task=task, out_dir=run_dir, device=args.device)
    t0 = time.perf_counter()
    hist = trainer.fit(data["train"], data["val"])
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "epochs": len(hist),
        "train_seconds": time.perf_counter() - t0,
        "best_val": trainer.best_val,
    }


@torch.no_grad()
def predict(model, norm, x: torch.Tensor, direction: str, device, batch: int = 16):
    from sciml.operators.seismic.evaluation import predict_imaging

    return predict_imaging(model, norm, x, direction, device=device, batch=batch)


def evaluate(run_dir: Path, test, device) -> dict:
    from sciml.operators.seismic.evaluation import imaging_scores
    from sciml.operators.seismic.imaging_task import load_imaging_model

    model, norm, dirs = load_imaging_model(run_dir / "model.pt", device)
    return imaging_scores(model, norm, dirs, *test, device=device)


def zero_shot(run_dir: Path, tests: dict, device) -> dict:
    """Inverse MAE / SSIM of one trained model on every family's test set."""
    from sciml.operators.seismic.imaging_task import load_imaging_model
    from sciml.operators.seismic.normalization import imaging_metrics

    model, norm, dirs = load_imaging_model(run_dir / "model.pt", device)
    if "inverse" not in dirs:
        return {}
    res = {}
    for fam, (v, p) in tests.items():
        m = imaging_metrics(predict(model, norm, p, "inverse", device), norm.velocity(v))
        res[fam] = {"mae": m["mae"], "ssim": m["ssim"]}
    return res


# ---------------------------------------------------------------------------------- FWI
def fwi_refinement(run_dir: Path, data: dict, args) -> dict:
    """FWI from the Latent U-Net's estimate (and from a linear start) on the first
    ``--fwi-samples`` test maps, through the library's :func:`refine_with_fwi`."""
    from sciml.inverse.seismic_refinement import acquisition_from_meta, refine_with_fwi
    from sciml.operators.seismic.imaging_task import load_imaging_model

    grid, survey, propagator = acquisition_from_meta(data["meta"])
    k = args.fwi_samples
    v_true, observed = data["test"][0][:k], data["test_full"][:k]
    model, norm, _ = load_imaging_model(run_dir / "model.pt", args.device)
    res = refine_with_fwi(
        model, norm, observed, grid, survey, true_velocity=v_true,
        iterations=args.fwi_iterations, lr=args.fwi_lr, device=args.device, **propagator,
    )  # fmt: skip
    out = dict(res.report)
    for label in ("network", "linear"):
        e = out.get(label)
        if e is not None:
            print(f"FWI from the {label} start: MAE {e['mae_before']:.4f} -> {e['mae_after']:.4f}, "
                  f"SSIM {e['ssim_before']:.3f} -> {e['ssim_after']:.3f}, misfit "
                  f"{e['misfit'][0]:.3g} -> {e['misfit'][-1]:.3g}, {e['seconds']:.0f} s",
                  flush=True)  # fmt: skip
    net = out["network"]
    out["mae_reduction"] = 1 - net["mae_after"] / net["mae_before"]
    return out


# ---------------------------------------------------------------------------------- speed
def propagator_speed(n: int, device) -> dict:
    from sciml.physics.seismic import Survey, simulate
    from sciml.physics.seismic.acoustic_fd import simulate_fd
    from sciml.physics.seismic.velocity_models import openfwi_grid, openfwi_velocity

    grid = openfwi_grid()
    survey = Survey.openfwi(grid, peak_time=1.1 / 15)
    v = openfwi_velocity("curvevel-b", grid, range(n), device=device)
    out = {"samples": n}
    with torch.no_grad():
        simulate_fd(v[:1], grid, Survey.openfwi(grid, nt=20))  # compile outside the timing
        simulate_fd(v, grid, Survey.openfwi(grid, nt=20))
        t = time.perf_counter()
        d_fd = simulate_fd(v, grid, survey)
        out["torch_fd_samples_per_s"] = n / (time.perf_counter() - t)
        try:
            import deepwave  # noqa: F401
        except ImportError:
            return out
        t = time.perf_counter()
        d_dw = simulate(v, grid, survey, accuracy=8)
        out["deepwave_samples_per_s"] = n / (time.perf_counter() - t)
    out["relative_difference"] = float((d_fd - d_dw).norm() / d_dw.norm())
    out["ratio"] = out["torch_fd_samples_per_s"] / out["deepwave_samples_per_s"]
    return out


# ---------------------------------------------------------------------------------- report
def report(results: dict) -> str:
    from sciml.workflows.tables import markdown_table

    fams = results["families"]
    lines = []
    for direction, models in (("inverse", ("Latent U-Net", "X-Net", "X-Net + cycle",
                                           "InversionNet")),
                              ("forward", ("Latent U-Net (fwd)", "X-Net", "X-Net + cycle",
                                           "FNO"))):  # fmt: skip
        rows = []
        for m in models:
            row = {"model": m}
            for j, fam in enumerate(FAMILIES):
                r = results["runs"].get(fam, {}).get(m)
                if fam not in fams or r is None:
                    continue
                pub_name = "Latent U-Net" if m.startswith("Latent") else m
                pub_mae = PUBLISHED[f"{direction}_mae"].get(pub_name, (math.nan,) * 4)[j]
                pub_ssim = PUBLISHED.get(f"{direction}_ssim", {}).get(pub_name, (math.nan,) * 4)[j]
                row[fam] = (f"{r[f'{direction}_mae']:.4f} / {r[f'{direction}_ssim']:.3f} "
                            f"({pub_mae:.4f} / {pub_ssim:.3f})")  # fmt: skip
            rows.append(row)
        cols = [("model", "model", "")] + [(f, f"{f} MAE / SSIM (published)", "") for f in fams]
        lines += [f"{direction} (test, normalised scale)", markdown_table(rows, cols), ""]
    zs = results.get("zero_shot", {})
    for m in ("Latent U-Net", "InversionNet", "X-Net"):
        rows = []
        for train_fam in fams:
            res = zs.get(m, {}).get(train_fam)
            if res:
                rows.append({"trained on": train_fam,
                             **{f: f"{res[f]['mae']:.4f}" for f in fams if f in res}})  # fmt: skip
        if rows:
            cols = [("trained on", "trained on", "")] + [(f, f"{f}", "") for f in fams]
            lines += [f"zero-shot inverse MAE, {m}", markdown_table(rows, cols), ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    ap.add_argument("--n", type=int, default=240, help="maps per family (80/20 split)")
    ap.add_argument("--epochs", type=int, default=60, help="step budget: epochs per model")
    ap.add_argument("--budget", type=float, help="wall-clock budget instead: seconds per model")
    ap.add_argument("--size", choices=("cpu", "gfi"), default="cpu")
    ap.add_argument("--time-stride", type=int, default=4)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--models", nargs="+", default=None, help="subset of the model names")
    ap.add_argument("--fwi-samples", type=int, default=4)
    ap.add_argument("--fwi-iterations", type=int, default=10)
    ap.add_argument("--fwi-lr", type=float, default=20.0)
    ap.add_argument("--speed-samples", type=int, default=2)
    ap.add_argument("--data-dir", default="out/gfi_data")
    ap.add_argument("--run-dir", default="out/gfi_runs")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="tiny smoke run (minutes)")
    ap.add_argument("--out", default="out/gfi_seismic.json")
    args = ap.parse_args(argv)
    if args.quick:
        args.families, args.n, args.epochs = ["flatvel-a", "curvevel-b"], 20, 3
        args.fwi_samples, args.fwi_iterations, args.speed_samples = 1, 2, 1
    data_dir, run_root, out = Path(args.data_dir), Path(args.run_dir), Path(args.out)
    data_dir.mkdir(parents=True, exist_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(out.read_text()) if out.exists() else {}
    results.update(
        families=args.families, n=args.n, epochs=args.epochs, budget=args.budget, size=args.size,
        time_stride=args.time_stride, device=args.device, machine=platform.platform(),
        cpu_count=os.cpu_count(), torch=torch.__version__,
    )  # fmt: skip
    results.setdefault("runs", {})

    def save():
        out.write_text(json.dumps(results, indent=2))

    if "speed" not in results:
        results["speed"] = propagator_speed(args.speed_samples, args.device)
        print("propagator:", results["speed"], flush=True)
        save()
    nt = 1000 // args.time_stride
    specs = model_specs(args.size, nt)
    names = args.models or list(specs)
    data = {fam: family_data(fam, args.n, data_dir, args.time_stride) for fam in args.families}
    for fam in args.families:
        for name in names:
            done = results["runs"].setdefault(fam, {})
            if name in done:
                continue
            run_dir = run_root / fam / name.replace(" ", "_").replace("+", "plus")
            what = f"{args.epochs} epochs" if args.budget is None else f"{args.budget:.0f} s"
            print(f"[{fam}] training {name} for {what}", flush=True)
            info = train_one(name, specs[name], data[fam], args, run_dir)
            info.update(evaluate(run_dir, data[fam]["test"], args.device))
            info["run_dir"] = str(run_dir)
            done[name] = info
            print(
                f"[{fam}] {name}: "
                + ", ".join(f"{k} {v:.4g}" for k, v in info.items() if isinstance(v, float)),
                flush=True,
            )
            save()
    tests = {fam: data[fam]["test"] for fam in args.families}
    zs = results.setdefault("zero_shot", {})
    for name in ("Latent U-Net", "InversionNet", "X-Net"):
        for fam in args.families:
            r = results["runs"].get(fam, {}).get(name)
            if r is not None:
                zs.setdefault(name, {})[fam] = zero_shot(Path(r["run_dir"]), tests, args.device)
    save()
    fam_fwi = "curvevel-b" if "curvevel-b" in args.families else args.families[-1]
    r = results["runs"].get(fam_fwi, {}).get("Latent U-Net")
    if r is not None and args.fwi_iterations > 0 and "fwi" not in results:
        results["fwi"] = {"family": fam_fwi, **fwi_refinement(Path(r["run_dir"]),
                                                              data[fam_fwi], args)}  # fmt: skip
        save()
    print(report(results))
    print(f"results in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
