"""Regularized neural ODE/SDEs that pick their own penalty weight (issue 28).

For every task, `sciml.workflows.nde_sweep.sweep` trains the unregularized model and a
geometric ladder of penalty weights per regularizer (default 5 weights a factor sqrt(10)
apart around the task's default) from each seed, chooses on the validation split the weight
with the fewest prediction NFE whose mean validation error is within 1.05x the unregularized
model's (or keeps the unregularized model), and reports the test split for that weight only:
mean +- sd over seeds, per-seed paired ratios, prediction NFE beside the true dynamics' NFE
(the floor) where known, prediction wall time (fastest of 5) and training CPU time.

Targets (issue 28), on the validation-chosen weights, means over seeds:

* digits, latent ODE and at least one new physical system (van-der-pol, lorenz63):
  prediction NFE <= 0.7x and prediction wall time <= 0.8x at test error <= 1.1x;
* SDEs (spiral, Lotka-Volterra): prediction NFE <= 0.8x at test moment loss <= 1.1x;
* local error regularization: training CPU <= 1.2x (the chosen weight's runs; where no weight
  was chosen, the median weight of the ladder).

    python benchmarks/nde_sweep.py --seeds 3 --out out/nde_sweep           # the full table
    python benchmarks/nde_sweep.py --quick --seeds 1 --out out/nde_sweep   # quick budget
    python benchmarks/nde_sweep.py --iters 20 --points 2 --tasks van-der-pol --out /tmp/s

writes ``<out>/<task>.png`` (Pareto front), ``<out>/<task>.json``, ``<out>/<task>.md`` and
``<out>/nde_sweep.md`` / ``.json`` (all tasks, with the target checks). One CPU thread by
default (the models are tiny); timing ratios are only fair when every model ran under the
same load, so run it on an idle machine.
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

from sciml.nde.registry import EXPERIMENT_NAMES, REGULARIZER_NAMES, make_problem
from sciml.workflows.nde_sweep import (
    DEFAULT_FACTOR,
    DEFAULT_POINTS,
    plan_sweep,
    plot_pareto,
    summary_table,
    sweep,
    sweep_report,
)

TASKS = (
    "digits",
    "latent-ode",
    "van-der-pol",
    "lorenz63",
    "spiral-ode",
    "spiral-sde",
    "lotka-volterra-sde",
)
#: regularizers swept where a task has a weight for them (SDE tasks: local error only)
REGS = ("error", "local-error")
ODE_TARGET_TASKS = ("digits", "latent-ode")
NEW_SYSTEMS = ("van-der-pol", "lorenz63")
SDE_TASKS = ("spiral-sde", "lotka-volterra-sde")


def targets(results) -> list[dict]:
    """The issue's checks on the chosen weights, as rows (check, measured, met)."""
    out = []
    for res in results:
        for s in res.summary[1:]:
            chosen = s["weight"] is not None
            what = f"{res.task}/{s['method']} (w0 {s['weight']:.3g})" if chosen else (
                f"{res.task}/{s['method']} (no weight qualified: unregularized kept)"
            )  # fmt: skip
            nfe, tim, err = s["predict_nfe_ratio"], s["predict_time_ratio"], s["error_ratio"]
            measured = f"NFE {nfe:.2f}x, time {tim:.2f}x, test error {err:.2f}x"
            if res.task in SDE_TASKS:
                met = chosen and nfe <= 0.8 and err <= 1.1
                out.append({"check": f"{what}: NFE <= 0.8x at moment loss <= 1.1x",
                            "value": measured, "met": met, "task": res.task})  # fmt: skip
            elif res.task in (*ODE_TARGET_TASKS, *NEW_SYSTEMS):
                met = chosen and nfe <= 0.7 and tim <= 0.8 and err <= 1.1
                out.append({"check": f"{what}: NFE <= 0.7x, time <= 0.8x at error <= 1.1x",
                            "value": measured, "met": met, "task": res.task})  # fmt: skip
            if s["method"].startswith("local"):
                # the chosen weight's training cost; with no weight chosen, the ladder's median
                cpu, where = s["train_cpu_ratio"], "chosen weight"
                if not chosen:
                    cpu, where = s["ladder_train_cpu_ratio"], "median of the ladder"
                if cpu is not None:
                    out.append({"check": f"{res.task}/{s['method']}: training CPU <= 1.2x ({where})",
                                "value": f"{cpu:.2f}x", "met": cpu <= 1.2, "task": res.task})  # fmt: skip
    new = [c for c in out if c["task"] in NEW_SYSTEMS and "NFE <= 0.7x" in c["check"]]
    if new:
        out.append({"check": "at least one new system meets the NFE/time/error target",
                    "value": ", ".join(c["task"] for c in new if c["met"]) or "none",
                    "met": any(c["met"] for c in new), "task": "-"})  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="each task's quick step budget")
    p.add_argument("--iters", type=int, default=None, help="override the step budget")
    p.add_argument("--seeds", type=int, default=3, help="seeds per weight (default 3)")
    p.add_argument("--tasks", nargs="+", default=list(TASKS), choices=EXPERIMENT_NAMES)
    p.add_argument("--regs", nargs="+", default=list(REGS), choices=REGULARIZER_NAMES)
    p.add_argument("--points", type=int, default=DEFAULT_POINTS, help="weights per ladder")
    p.add_argument("--factor", type=float, default=DEFAULT_FACTOR, help="ladder ratio")
    p.add_argument("--tolerance", type=float, default=1.05)
    p.add_argument("--repeats", type=int, default=5, help="prediction timing repeats")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (0: torch default)")
    p.add_argument("--out", default="out/nde_sweep", help="output folder")
    args = p.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plans = {}
    for task in args.tasks:  # every plan is checked before anything trains
        problem = make_problem(task)
        regs = [r for r in args.regs if r in problem.weighted()]
        steps = args.iters or (problem.quick_iters if args.quick else problem.iters)
        plans[task] = (problem, regs, steps, plan_sweep(problem, regs, points=args.points,
                                                        factor=args.factor))  # fmt: skip
    n = sum(args.seeds * (1 + sum(map(len, pl.values()))) for _, _, _, pl in plans.values())
    print(f"{n} trainings over {len(plans)} tasks", file=sys.stderr, flush=True)
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    results = []
    for task, (problem, regs, steps, _) in plans.items():
        res = sweep(
            problem,
            [problem.make_regularizer(r) for r in regs],
            steps=steps,
            points=args.points,
            factor=args.factor,
            seeds=range(args.seeds),
            tolerance=args.tolerance,
            repeats=args.repeats,
            device=args.device,
            log=lambda line: print(line, file=sys.stderr, flush=True),
        )
        results.append(res)
        (out / f"{task}.md").write_text(sweep_report(res) + "\n")
        (out / f"{task}.json").write_text(json.dumps(res.to_dict(), indent=2))
        plot_pareto(res, out / f"{task}.png")
    total = time.perf_counter() - t0
    load1 = os.getloadavg()
    checks = targets(results)
    budget = f"--iters {args.iters}" if args.iters else ("quick" if args.quick else "full")
    lines = [
        f"# Validation-chosen penalty weights ({budget} budget, {args.seeds} seed(s), "
        f"device {args.device}, {total:.0f} s; load average {load0[0]:.1f} at start, "
        f"{load1[0]:.1f} at end)",
        "",
        summary_table(results),
        "",
        "## Targets",
        "",
        "| check | measured | met |",
        "|---|---|---|",
        *[f"| {c['check']} | {c['value']} | {'yes' if c['met'] else 'NO'} |" for c in checks],
        "",
        "Per-task validation ladders and Pareto plots: `<task>.md`, `<task>.png`.",
    ]
    md = "\n".join(lines) + "\n"
    meta = {
        "budget": budget,
        "seeds": args.seeds,
        "points": args.points,
        "factor": args.factor,
        "tolerance": args.tolerance,
        "device": args.device,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "total_time_s": total,
        "loadavg_start": load0,
        "loadavg_end": load1,
    }
    payload = {"meta": meta, "results": [r.to_dict() for r in results], "targets": checks}
    (out / "nde_sweep.json").write_text(json.dumps(payload, indent=2))
    (out / "nde_sweep.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
