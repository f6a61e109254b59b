"""``sciml nde``: regularized neural ODE/SDE experiments (accuracy, time and NFE table).

The experiment and regularizer names come from :mod:`sciml.nde.registry` (plain data: building
the parser imports no torch). The table with ratios against the unregularized run is
:func:`sciml.workflows.nde_experiment.nde_table` (shared with ``benchmarks/nde_regularization.py``).
"""

from __future__ import annotations

import argparse

from sciml.commands._types import nonnegative_int, positive_float, positive_int


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
    steps = args.iters if args.iters is not None else (
        problem.quick_iters if args.quick else problem.iters
    )  # fmt: skip
    rows = [
        run_experiment(
            problem,
            problem.make_regularizer(name),
            steps=steps,
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


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sciml nde`` (neural differential equation experiments) on ``sub``."""
    from sciml.nde.registry import EXPERIMENT_NAMES, REGULARIZER_NAMES

    p = sub.add_parser(
        "nde", help="train regularized neural ODEs/SDEs; table of accuracy, time and NFE"
    )
    p.add_argument(
        "task", choices=EXPERIMENT_NAMES, help="experiment: " + ", ".join(EXPERIMENT_NAMES)
    )
    p.add_argument(
        "--reg",
        nargs="+",
        default=["none"],
        choices=REGULARIZER_NAMES,
        help="one or more regularizers (each trained from the same seed)",
    )
    p.add_argument("--quick", action="store_true", help="small training budget")
    p.add_argument(
        "--iters", type=positive_int, default=None, help="training iterations (default: the task's)"
    )
    p.add_argument(
        "--seed", type=nonnegative_int, default=0, help="seed of the data and the weights"
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument(
        "--weight-scale",
        type=positive_float,
        default=1.0,
        help="multiply the task's regularization weights (> 0)",
    )
    p.add_argument("--json", default=None, help="also write the rows as JSON here")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --json")
    p.add_argument(
        "--threads", type=nonnegative_int, default=1, help="torch CPU threads (0: torch default)"
    )
    p.set_defaults(func=_nde)
