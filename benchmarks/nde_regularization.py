"""Regularized neural ODEs/SDEs: accuracy, training time, prediction time and NFE in one run.

Methods (Pal et al. 2021 "Opening the Blackbox" and 2023 "Locally Regularized Neural
Differential Equations", with their baselines): unregularized, STEER, RNODE (kinetic +
Jacobian-Frobenius), global error (ERNODE) and stiffness (SRNODE) regularization through our
differentiable solver, and local error regularization (one differentiable step at a random
time on top of torchdiffeq / torchsde). Tasks: 8x8 digits classification, the cubic spiral ODE,
a latent ODE on irregularly sampled series, the spiral SDE (none / STEER / local only), and
the physical systems with known vector fields of issue 28 (Van der Pol, Lorenz-63, stochastic
Lotka-Volterra). Every row reports prediction NFE beside the true dynamics' NFE where known
(the floor), prediction wall time and training CPU time. The weights here are the tasks'
fixed defaults; ``benchmarks/nde_sweep.py`` chooses them on validation data.

Targets (issue 8): prediction NFE <= 0.7x unregularized at equal accuracy (within 0.5 pp) on
digits and the spiral ODE; local-regularization training time <= 1.1x unregularized.

    python benchmarks/nde_regularization.py --quick --out out/nde_regularization

writes ``<out>.json`` and ``<out>.md``. Training uses one CPU thread by default (the models
are tiny). NFE counts are deterministic; wall-clock times on a shared machine are noisy, so the
training-time target is checked on process CPU time (wall clock is reported too).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

from sciml.nde.registry import EXPERIMENT_NAMES, REGULARIZER_NAMES, make_problem
from sciml.workflows.nde_experiment import add_ratios, nde_table, run_experiment

#: the experiment table: every task with these methods (those a task supports); local stiffness
#: is registered but left out, as in the 2023 paper ("did not yield positive results")
TASK_ORDER = (
    "digits",
    "spiral-ode",
    "latent-ode",
    "spiral-sde",
    "van-der-pol",
    "lorenz63",
    "lotka-volterra-sde",
)
METHODS = ("none", "steer", "rnode", "error", "stiffness", "local-error")


def targets(rows: list[dict]) -> list[dict]:
    """The issue's checks, per regularized method, as rows of (check, value, target, met)."""
    rows = add_ratios(rows)
    out = []
    for r in rows:
        if r["method"] == "none" or r["predict_nfe_ratio"] is None:
            continue
        if r["task"] in ("digits", "spiral-ode"):
            if r["task"] == "digits":
                equal = abs(r["value_delta"]) <= 0.005 or r["value_delta"] > 0
                acc_txt = f"accuracy {100 * r['value_delta']:+.2f} pp"
            else:  # a loss: "equal accuracy" = no more than 10% worse than unregularized
                base = r["value"] - r["value_delta"]
                equal = r["value"] <= 1.1 * base
                acc_txt = f"MSE x{r['value'] / base:.2f}"
            out.append(
                {
                    "check": f"{r['task']}/{r['method']}: predict NFE <= 0.7x at equal accuracy",
                    "value": f"{r['predict_nfe_ratio']:.2f}x, {acc_txt}",
                    "met": bool(r["predict_nfe_ratio"] <= 0.7 and equal),
                }
            )
        if r["method"].startswith("local"):
            out.append(
                {
                    "check": f"{r['task']}/{r['method']}: train time <= 1.1x unregularized "
                    "(process CPU time)",
                    "value": f"{r['train_cpu_ratio']:.2f}x CPU ({r['train_time_ratio']:.2f}x wall)",
                    "met": bool(r["train_cpu_ratio"] <= 1.1),
                }
            )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small budget (a few minutes on CPU)")
    p.add_argument(
        "--device", default="cuda" if torch.cuda.is_available() else "cpu", help="torch device"
    )
    p.add_argument("--out", default="out/nde_regularization", help="path prefix for .json/.md")
    p.add_argument("--tasks", nargs="+", default=list(TASK_ORDER), choices=EXPERIMENT_NAMES)
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=REGULARIZER_NAMES)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="CPU threads (0: torch default)")
    args = p.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    rows = []
    t0 = time.perf_counter()
    for task in args.tasks:
        problem = make_problem(task)
        supported = problem.regularizers or REGULARIZER_NAMES
        methods = [m for m in args.methods if m in supported]
        if "none" not in methods:
            methods = ["none", *methods]
        for m in methods:
            r = run_experiment(
                problem,
                problem.make_regularizer(m),
                steps=problem.quick_iters if args.quick else problem.iters,
                seed=args.seed,
                device=args.device,
                progress=sys.stderr.isatty(),
            )
            rows.append(r)
            print(
                f"{task:>10} {m:>12}: {r['metric']} {r['value']:.4g}  train {r['train_time_s']:.1f}s"
                f"  predict NFE {r['predict_nfe']:.0f}",
                file=sys.stderr,
                flush=True,
            )
    total = time.perf_counter() - t0
    checks = targets(rows)
    table = nde_table(rows)
    lines = [
        f"# Regularized neural ODEs/SDEs ({'quick' if args.quick else 'full'} run, "
        f"device {args.device}, {total:.0f} s total)",
        "",
        table,
        "",
        "## Targets",
        "",
        "| check | measured | met |",
        "|---|---|---|",
        *[f"| {c['check']} | {c['value']} | {'yes' if c['met'] else 'NO'} |" for c in checks],
    ]
    refs = [
        r for r in rows if r.get("true_field_predict_nfe") is not None and r["method"] == "none"
    ]
    if refs:
        lines += ["", "## Reference", ""]
        lines += [
            f"- {r['task']}: the true vector field needs {r['true_field_predict_nfe']} NFE on the "
            f"same prediction batch and tolerances (unregularized model: {r['predict_nfe']:.0f})."
            for r in refs
        ]
    md = "\n".join(lines) + "\n"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "quick": args.quick,
        "device": args.device,
        "seed": args.seed,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "total_time_s": total,
    }
    payload = {"meta": meta, "rows": add_ratios(rows), "targets": checks}
    out.with_suffix(".json").write_text(json.dumps(payload, indent=2))
    out.with_suffix(".md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
