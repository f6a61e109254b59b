"""``sciml nde``: regularized neural ODE/SDE experiments.

* ``sciml nde TASK --reg ...`` trains each regularizer once (fixed weights) and prints the
  accuracy, time and NFE table (:func:`sciml.workflows.nde_experiment.nde_table`, shared with
  ``benchmarks/nde_regularization.py``).
* ``sciml nde sweep TASK --reg ...`` trains a geometric ladder of penalty weights per
  regularizer, chooses on validation data the weight that cuts the prediction NFE most within
  1.05x the unregularized validation error, and reports test numbers for that weight only;
  writes ``OUT.png`` (Pareto front), ``OUT.json`` and ``OUT.md``
  (:mod:`sciml.workflows.nde_sweep`, shared with ``benchmarks/nde_sweep.py``).

The experiment and regularizer names come from :mod:`sciml.nde.registry` (plain data: building
the parser imports no torch).
"""

from __future__ import annotations

import argparse
import sys

from sciml.commands._types import nonnegative_int, positive_float, positive_int


def _steps(args: argparse.Namespace, problem: object) -> int:
    if args.iters is not None:
        return args.iters
    return problem.quick_iters if args.quick else problem.iters


def _nde(args: argparse.Namespace) -> int:
    import json

    import torch

    from sciml.io import check_out_path
    from sciml.nde.registry import make_problem
    from sciml.workflows.nde_experiment import add_ratios, nde_table, run_experiment

    if args.threads > 0:  # the models are tiny; extra threads only add contention
        torch.set_num_threads(args.threads)
    problem = make_problem(args.task)
    names = list(dict.fromkeys(args.reg))
    for name in names:  # refuse an unsupported method before training anything
        problem.check_supported(name)
    if args.json:
        check_out_path(args.json, overwrite=args.overwrite, what="--json")  # before training
    rows = [
        run_experiment(
            problem,
            problem.make_regularizer(name),
            steps=_steps(args, problem),
            seed=args.seed,
            device=args.device,
            weight_scale=args.weight_scale,
        )
        for name in names
    ]
    print(nde_table(rows))
    if args.json:
        from pathlib import Path

        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(add_ratios(rows), indent=2))
    return 0


def _sweep(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    import torch

    from sciml.io import check_out_path
    from sciml.nde.registry import make_problem
    from sciml.workflows.nde_sweep import plan_sweep, plot_pareto, sweep, sweep_report

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    problem = make_problem(args.task)
    names = list(dict.fromkeys(args.reg))
    if args.seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {args.seeds}")
    if not args.tolerance >= 1:
        raise ValueError(f"--tolerance must be >= 1, got {args.tolerance}")
    plan = plan_sweep(problem, names, args.weights, points=args.points, factor=args.factor)
    prefix = Path(args.out)
    outs = {ext: prefix.with_name(prefix.name + ext) for ext in (".png", ".json", ".md")}
    for path in outs.values():  # before any training
        check_out_path(path, overwrite=args.overwrite, what="--out")
    steps = _steps(args, problem)
    n_runs = args.seeds * (1 + sum(len(ws) for ws in plan.values()))
    print(f"sweeping {problem.name}: {n_runs} trainings of {steps} steps", file=sys.stderr)
    result = sweep(
        problem,
        [problem.make_regularizer(name) for name in names],
        steps=steps,
        weights=args.weights,
        points=args.points,
        factor=args.factor,
        seeds=range(args.seeds),
        tolerance=args.tolerance,
        repeats=args.repeats,
        device=args.device,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    report = sweep_report(result)
    print(report)
    outs[".md"].parent.mkdir(parents=True, exist_ok=True)
    outs[".md"].write_text(report + "\n")
    outs[".json"].write_text(json.dumps(result.to_dict(), indent=2))
    plot_pareto(result, outs[".png"])
    print(f"wrote {outs['.png']}, {outs['.json']}, {outs['.md']}", file=sys.stderr)
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="small training budget")
    p.add_argument(
        "--iters", type=positive_int, default=None, help="training iterations (default: the task's)"
    )
    p.add_argument("--device", default="cpu", help="torch device: cpu or cuda")
    p.add_argument(
        "--threads", type=nonnegative_int, default=1, help="torch CPU threads (0: torch default)"
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sciml nde`` (neural differential equation experiments) on ``sub``: one
    sub-command per task (the fixed-weight table) and ``sweep`` (the weight sweep)."""
    from sciml.nde.registry import EXPERIMENT_NAMES, REGULARIZER_NAMES

    p = sub.add_parser(
        "nde",
        help="train regularized neural ODEs/SDEs; table of accuracy, time and NFE; weight sweeps",
        description="sciml nde TASK --reg ...: one training per regularizer; "
        "sciml nde sweep TASK --reg ...: choose the penalty weight on validation data.",
    )
    tasks = p.add_subparsers(dest="task", metavar="{sweep,TASK}")
    tasks.required = True
    for name in EXPERIMENT_NAMES:
        t = tasks.add_parser(name, help=f"the {name} experiment (fixed penalty weights)")
        t.add_argument(
            "--reg",
            nargs="+",
            default=["none"],
            choices=REGULARIZER_NAMES,
            help="one or more regularizers (each trained from the same seed)",
        )
        _common(t)
        t.add_argument(
            "--seed", type=nonnegative_int, default=0, help="seed of the data and the weights"
        )
        t.add_argument(
            "--weight-scale",
            type=positive_float,
            default=1.0,
            help="multiply the task's regularization weights (> 0)",
        )
        t.add_argument("--json", default=None, help="also write the rows as JSON here")
        t.add_argument("--overwrite", action="store_true", help="replace an existing --json")
        t.set_defaults(func=_nde)

    s = tasks.add_parser(
        "sweep",
        help="sweep the penalty weight; choose on validation error, report test numbers",
        description="Train the unregularized model and a geometric ladder of penalty weights "
        "per regularizer; choose the weight with the fewest prediction NFE whose validation "
        "error is within --tolerance of the unregularized one (or keep the unregularized "
        "model); report test numbers for it. Writes OUT.png, OUT.json and OUT.md.",
    )
    s.add_argument("sweep_task", metavar="TASK", choices=EXPERIMENT_NAMES, help="the experiment")
    s.add_argument(
        "--reg",
        nargs="+",
        default=["local-error"],
        choices=REGULARIZER_NAMES,
        help="regularizers whose penalty weight is swept (default local-error)",
    )
    s.add_argument(
        "--weights",
        nargs="+",
        type=float,
        default=None,
        help="start weights to train (default: --points weights around the task's default)",
    )
    s.add_argument(
        "--points", type=int, default=5, help="weights in the default ladder (>= 2; default 5)"
    )
    s.add_argument(
        "--factor",
        type=float,
        default=10**0.5,
        help="ratio of neighbouring weights in the default ladder (default sqrt(10))",
    )
    s.add_argument(
        "--seeds", type=positive_int, default=1, help="seeds per weight (0 .. N-1; default 1)"
    )
    s.add_argument(
        "--tolerance",
        type=float,
        default=1.05,
        help="validation error allowed, as a factor of the unregularized one (default 1.05)",
    )
    s.add_argument(
        "--repeats",
        type=positive_int,
        default=5,
        help="prediction timing repeats (the fastest is kept; default 5)",
    )
    s.add_argument(
        "--out", required=True, help="output path prefix: writes OUT.png, OUT.json, OUT.md"
    )
    s.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    _common(s)
    s.set_defaults(func=_sweep_entry)


def _sweep_entry(args: argparse.Namespace) -> int:
    args.task = args.sweep_task
    return _sweep(args)
