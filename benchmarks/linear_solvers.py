"""Linear solvers side by side on pressure-Poisson problems: CG, Jacobi/ICC/GAMG/PyAMG PCG,
PETSc's own CG+GAMG, and the deep conjugate direction method (shipped 64^3... model, no
retraining), in one process and one table.

Every method solves the same system to the same TRUE relative residual (default 1e-6) on the
held-out obstacle family (``blobs``, never seen in training) at each size, plus the 1:1000
density-jump variant at the smallest size. Reported per run: iterations, setup time, time to
tolerance (solve), time per iteration, setup + solve, and ratios to plain CG and to PETSc GAMG.
Preconditioners that run on the host (ICC, GAMG, PyAMG, PETSc) always run on the CPU; CG,
Jacobi and DCDM run on ``--device``.

    python benchmarks/linear_solvers.py --quick --out out/linear_solvers
    python benchmarks/linear_solvers.py --sizes 64 128 --device cuda --out out/linear_solvers

Writes ``<out>.json``, ``<out>.md`` and ``<out>_<size>.png`` (convergence curves).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from sciml.solvers.dcdm import load_model
from sciml.solvers.methods import CPU_ONLY, METHODS, plot_convergence, run_method
from sciml.solvers.poisson_problems import HELD_OUT_FAMILY, make_problem


def _machine(device: str) -> str:
    cpu = platform.processor() or platform.machine()
    gpu = torch.cuda.get_device_name(0) if device.startswith("cuda") else "none"
    return f"{cpu}, {torch.get_num_threads()} torch threads, GPU: {gpu}"


def run(args: argparse.Namespace) -> dict:
    from tqdm import tqdm

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    # the DCDM network only when a dcdm method runs
    model = load_model(args.model) if any(m.startswith("dcdm") for m in args.methods) else None
    cases = [(n, None) for n in args.sizes]
    if not args.no_density:
        cases.append((min(args.sizes), 1000.0))
    rows = []
    meta = dict(
        machine=_machine(device),
        device=device,
        rtol=args.rtol,
        family=args.family,
        model=str(args.model or "shipped solvers/models/dcdm3d.pt"),
        model_meta=getattr(model, "meta", {}),
        torch=str(torch.__version__),
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=len(cases) * len(args.methods), unit="solve")
    for n, ratio in cases:
        t0 = time.perf_counter()
        problem = make_problem(n, ndim=3, family=args.family, density_ratio=ratio, seed=args.seed)
        assemble = time.perf_counter() - t0
        results = {}
        for m in args.methods:
            bar.set_description(f"{n}^3 {'jump ' if ratio else ''}{m}")
            cap = args.dcdm_maxiter if m.startswith("dcdm") else None
            res = run_method(m, problem, rtol=args.rtol, device=device, model=model, maxiter=cap)
            results[m] = res
            rows.append(
                dict(
                    n=n,
                    unknowns=problem.system.n,
                    problem=f"{args.family}" + (f", rho 1:{ratio:g}" if ratio else ""),
                    method=m,
                    device="cpu" if m in CPU_ONLY else device,
                    iterations=res.iterations,
                    converged=bool(res.converged),
                    residual=float(res.residual),
                    setup_s=res.setup_time,
                    solve_s=res.solve_time,
                    s_per_iter=res.time_per_iteration,
                    total_s=res.setup_time + res.solve_time,
                    assemble_s=assemble,
                )
            )
            bar.update()
            _write(out, rows, meta)  # partial results survive an interrupted run
        tag = f"{n}" + ("_jump" if ratio else "")
        plot_convergence(
            results,
            f"{out}_{tag}.png",
            title=f"{n}^3 {args.family}{' 1:1000 jump' if ratio else ''}, rtol {args.rtol:g}",
        )
    bar.close()
    return _write(out, rows, meta)


def _write(out: Path, rows: list[dict], meta: dict) -> dict:
    # ratios within each (n, problem) group
    for r in rows:
        group = [g for g in rows if g["n"] == r["n"] and g["problem"] == r["problem"]]
        ref = {g["method"]: g for g in group}
        for peer in ("cg", "petsc-gamg"):
            if peer in ref and ref[peer]["converged"]:
                r[f"total_vs_{peer}"] = r["total_s"] / ref[peer]["total_s"]
    report = dict(meta=meta, rows=rows)
    Path(f"{out}.json").write_text(json.dumps(report, indent=2))
    Path(f"{out}.md").write_text(to_markdown(report))
    return report


def to_markdown(report: dict) -> str:
    meta = report["meta"]
    lines = [
        f"Linear solvers to true relative residual {meta['rtol']:g} "
        f"(held-out obstacle family `{meta['family']}`); machine: {meta['machine']}.",
        "",
        "| n | problem | method | device | iters | setup s | solve s | s/iter | total s "
        "| total / CG | total / PETSc GAMG | residual |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["rows"]:
        it = f"{r['iterations']}" + ("" if r["converged"] else " (not conv.)")
        lines.append(
            f"| {r['n']}^3 | {r['problem']} | {r['method']} | {r['device']} | {it} "
            f"| {r['setup_s']:.2f} | {r['solve_s']:.2f} | {r['s_per_iter']:.4f} "
            f"| {r['total_s']:.2f} | {r.get('total_vs_cg', float('nan')):.2f} "
            f"| {r.get('total_vs_petsc-gamg', float('nan')):.2f} | {r['residual']:.1e} |"
        )
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    """The command line (also read by tests/benchmarks/test_gpu_scripts.py)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    ap.add_argument("--family", default=HELD_OUT_FAMILY)
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    ap.add_argument("--model", default=None, help="DCDM checkpoint (default: shipped)")
    ap.add_argument("--dcdm-maxiter", type=int, default=150, help="iteration cap for DCDM")
    ap.add_argument("--no-density", action="store_true", help="skip the 1:1000 jump case")
    ap.add_argument("--quick", action="store_true", help="32^3 only: a small CPU run")
    ap.add_argument("--out", default="out/linear_solvers")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        args.sizes = [32]
    report = run(args)
    print(to_markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
