"""Linear solvers side by side on pressure-Poisson problems: CG, Jacobi/ICC/GAMG/PyAMG PCG,
PETSc's own CG+GAMG, the deep conjugate direction method (shipped model, no retraining) as
a solver and as a flexible-PCG preconditioner, and geometric multigrid PCG with the unlearned
and the learned cycle (``mg-pcg``, ``lmg-pcg``), in one process and one table.

Every method solves the same system to the same TRUE relative residual (default 1e-6) on the
held-out obstacle family (``blobs``: never seen in training) at each size, with a constant
density and with a 1:1000 density jump. Reported per run: iterations, setup time, time to
tolerance (solve), time per iteration, setup + solve, and ratios to plain CG, to ICC-PCG
(iterations) and to PETSc GAMG (time). Preconditioners that run on the host (ICC, GAMG, PyAMG,
PETSc) always run on the CPU; CG, Jacobi and DCDM run on ``--device``. CG and Jacobi-PCG are
capped at ``--classic-maxiter`` iterations (CG needs ~20,000 with the density jump).
The network's cost per application (ms) is measured at every size. ``--ndim 2`` solves 2-D
problems (e.g. ``--sizes 1024 2048``; the DCDM methods need a 3-D model and are left out).
Setup time includes building the preconditioner (ICC factor, AMG hierarchy, multigrid levels,
binding the network); the ``total`` column is setup + solve, the wall time a user waits.

    python benchmarks/linear_solvers.py --quick --out out/linear_solvers
    python benchmarks/linear_solvers.py --sizes 32 64 128 --out out/linear_solvers
    python benchmarks/linear_solvers.py --ndim 2 --sizes 1024 2048 --methods icc petsc-gamg \
        mg-pcg lmg-pcg --out out/linear_solvers_2d

Writes ``<out>.json``, ``<out>.md`` and ``<out>_<size>[_jump].png`` (convergence curves).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from sciml.solvers.dcdm import DCDM, LearnedDirection, load_dcdm
from sciml.solvers.linear_solve import solve
from sciml.solvers.methods import solve_device
from sciml.solvers.poisson_problems import HELD_OUT_FAMILY, make_problem
from sciml.workflows.linear_solvers import METHODS, build_method, plot_convergence


def _machine(device: str) -> str:
    cpu = platform.processor() or platform.machine()
    gpu = torch.cuda.get_device_name(0) if device.startswith("cuda") else "none"
    try:
        load = f"load average {os.getloadavg()[0]:.1f}"
    except OSError:  # pragma: no cover
        load = "load unknown"
    return (
        f"{cpu}, {os.cpu_count()} cores ({load} at start), {torch.get_num_threads()} torch "
        f"threads, GPU: {gpu}"
    )


def _ms_per_application(model, system, device, repeats: int = 3) -> float:
    d = LearnedDirection(model.to(device), system)
    r = torch.randn(system.n, dtype=torch.float64, device=device)
    d(r)  # gates (once per system) and warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeats):
        d(r)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / repeats * 1e3


def run(args: argparse.Namespace) -> dict:
    from tqdm import tqdm

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.ndim == 2:  # the shipped DCDM network is 3-D
        args.methods = [m for m in args.methods if not m.startswith("dcdm")]
    # the DCDM network only when a dcdm method runs
    model = load_dcdm(args.model) if any(m.startswith("dcdm") for m in args.methods) else None
    ratios = (1000.0,) if args.jump_only else (None,) if args.no_density else (None, 1000.0)
    cases = [(n, ratio, seed) for seed in args.seeds for n in args.sizes for ratio in ratios]
    card = getattr(model, "card", {})
    meta = dict(
        machine=_machine(device),
        device=device,
        rtol=args.rtol,
        family=args.family,
        model=str(args.model or "shipped solvers/dcdm/models/dcdm3d.pt"),
        model_command=card.get("command"),
        model_steps=card.get("steps"),
        model_train_seconds=card.get("train_seconds"),
        classic_maxiter=args.classic_maxiter,
        ndim=args.ndim,
        lmg_model=_lmg_card(args) if "lmg-pcg" in args.methods else None,
        torch=str(torch.__version__),
        ms_per_application={},
    )
    rows: list[dict] = []
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=len(cases) * len(args.methods), unit="solve")
    for n, ratio, seed in cases:
        t0 = time.perf_counter()
        problem = make_problem(n, ndim=args.ndim, family=args.family, density_ratio=ratio,
                               seed=seed)  # fmt: skip
        assemble = time.perf_counter() - t0
        if model is not None and ratio is None and seed == args.seeds[0]:
            dev = solve_device(DCDM(model), device)
            meta["ms_per_application"][f"{n}^3 {dev.type}"] = _ms_per_application(
                model, problem.system, dev
            )
        results = {}
        for m in args.methods:
            bar.set_description(f"{n}^3 {'jump ' if ratio else ''}{m}")
            method = build_method(m, model=model, lmg_model=args.lmg_model)
            cap = args.classic_maxiter if m in ("cg", "jacobi") else None
            res = solve(problem.system, problem.b, method, rtol=args.rtol, maxiter=cap,
                        device=device)  # fmt: skip
            results[m] = res
            share = res.extra.get("energy_share", {}).get("network") if res.extra else None
            rows.append(
                dict(
                    n=n,
                    unknowns=problem.system.n,
                    problem=f"{args.family}"
                    + (f", rho 1:{ratio:g}" if ratio else "")
                    + (f", seed {seed}" if len(args.seeds) > 1 else ""),
                    method=m,
                    device=solve_device(method, device).type,
                    iterations=res.iterations,
                    converged=bool(res.converged),
                    residual=float(res.residual),
                    setup_s=res.setup_time,
                    solve_s=res.solve_time,
                    s_per_iter=res.time_per_iteration,
                    total_s=res.setup_time + res.solve_time,
                    assemble_s=assemble,
                    network_energy_share=share,
                    shadow_converged=bool(res.extra.get("shadow_converged", False)),
                    fallback=res.extra.get("fallback"),
                )
            )
            bar.update()
            _write(out, rows, meta)  # partial results survive an interrupted run
        tag = f"{n}" + ("_jump" if ratio else "") + (f"_s{seed}" if len(args.seeds) > 1 else "")
        plot_convergence(
            results,
            f"{out}_{tag}.png",
            title=f"{n}^{args.ndim} {args.family}{' 1:1000 jump' if ratio else ''}, "
            f"rtol {args.rtol:g}",
        )
    bar.close()
    return _write(out, rows, meta)


def _lmg_card(args: argparse.Namespace) -> dict:
    from sciml.solvers.multigrid import load_lmg

    net = load_lmg(args.lmg_model, ndim=args.ndim)
    return {"file": net.source, "command": net.card.get("command"), "steps": net.card.get("steps"),
            "train_seconds": net.card.get("train_seconds")}  # fmt: skip


def _write(out: Path, rows: list[dict], meta: dict) -> dict:
    for r in rows:  # ratios within each (n, problem) group
        group = {g["method"]: g for g in rows if g["n"] == r["n"] and g["problem"] == r["problem"]}
        for peer in ("cg", "petsc-gamg"):
            if peer in group and group[peer]["converged"]:
                r[f"total_vs_{peer}"] = r["total_s"] / group[peer]["total_s"]
        if "icc" in group and group["icc"]["converged"]:
            r["iters_vs_icc"] = r["iterations"] / max(group["icc"]["iterations"], 1)
    report = dict(meta=meta, rows=rows)
    Path(f"{out}.json").write_text(json.dumps(report, indent=2))
    Path(f"{out}.md").write_text(to_markdown(report))
    return report


def to_markdown(report: dict) -> str:
    meta = report["meta"]
    nan = float("nan")
    lines = [
        f"Linear solvers to true relative residual {meta['rtol']:g} (held-out obstacle family "
        f"`{meta['family']}`); machine: {meta['machine']}.",
        "",
        "| n | problem | method | device | iters | iters / ICC | setup s | solve s | s/iter "
        "| total s | total / CG | total / PETSc GAMG | residual |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["rows"]:
        it = f"{r['iterations']}" + ("" if r["converged"] else " (not conv.)")
        lines.append(
            f"| {r['n']}^{meta.get('ndim', 3)} | {r['problem']} | {r['method']} | {r['device']} "
            f"| {it} "
            f"| {r.get('iters_vs_icc', nan):.2f} | {r['setup_s']:.2f} | {r['solve_s']:.2f} "
            f"| {r['s_per_iter']:.4f} | {r['total_s']:.2f} | {r.get('total_vs_cg', nan):.2f} "
            f"| {r.get('total_vs_petsc-gamg', nan):.2f} | {r['residual']:.1e} |"
        )
    apps = ", ".join(f"{k}: {v:.0f} ms" for k, v in meta["ms_per_application"].items())
    if apps:
        lines += ["", f"Network cost per application: {apps}."]
    if any(r.get("fallback") for r in report["rows"]):
        lines += ["", "Fell back to Jacobi-PCG: " + "; ".join(
            f"{r['n']} {r['problem']} {r['method']}: {r['fallback']}"
            for r in report["rows"] if r.get("fallback"))]  # fmt: skip
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    """The command line (also read by tests/benchmarks/test_gpu_scripts.py)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128])
    ap.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    ap.add_argument("--family", default=HELD_OUT_FAMILY)
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="problem seeds")
    ap.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    ap.add_argument("--model", default=None, help="DCDM model file (default: shipped)")
    ap.add_argument("--lmg-model", default=None, help="learned cycle file (default: shipped)")
    ap.add_argument("--ndim", type=int, default=3, choices=[2, 3], help="grid dimension")
    ap.add_argument("--classic-maxiter", type=int, default=3000, help="cap for CG and Jacobi")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    ap.add_argument("--no-density", action="store_true", help="skip the 1:1000 jump cases")
    ap.add_argument("--jump-only", action="store_true", help="only the 1:1000 jump cases")
    ap.add_argument("--quick", action="store_true", help="32^3 (2-D: 256^2) only: a small run")
    ap.add_argument("--out", default="out/linear_solvers")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.sizes = [32] if args.ndim == 3 else [256]
    report = run(args)
    print(to_markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
