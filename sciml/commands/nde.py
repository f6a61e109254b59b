"""``sciml nde``: regularized neural ODE/SDE experiments (accuracy, time and NFE table)."""

from __future__ import annotations

import argparse


def _nde(args: argparse.Namespace) -> int:
    import json

    import torch

    from sciml.nde.experiments import SDE_METHODS, run
    from sciml.nde.report import add_ratios, markdown_table

    if args.threads > 0:  # the models are tiny; extra threads only add contention
        torch.set_num_threads(args.threads)
    regs = list(dict.fromkeys(args.reg))
    if args.task == "spiral-sde":
        bad = [r for r in regs if r not in SDE_METHODS]
        if bad:
            raise ValueError(f"--reg for spiral-sde must be among {SDE_METHODS}, got {bad}")
    rows = [
        run(
            args.task,
            r,
            quick=args.quick,
            iters=args.iters,
            seed=args.seed,
            device=args.device,
            weight_scale=args.weight_scale,
        )
        for r in regs
    ]
    print(markdown_table(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(add_ratios(rows), fh, indent=2)
    return 0


def add_parser(sub) -> None:
    # names mirror sciml.nde.experiments.TASKS / METHODS (kept literal: no heavy import here)
    tasks = ("spiral-ode", "spiral-sde", "digits", "latent-ode")
    methods = ("none", "steer", "rnode", "error", "stiffness", "local-error", "local-stiffness")
    p = sub.add_parser(
        "nde", help="train regularized neural ODEs/SDEs; table of accuracy, time and NFE"
    )
    p.add_argument("task", choices=tasks)
    p.add_argument(
        "--reg",
        nargs="+",
        default=["none"],
        choices=methods,
        help="one or more regularizers (each trained from the same seed)",
    )
    p.add_argument("--quick", action="store_true", help="small training budget")
    p.add_argument("--iters", type=int, default=None, help="override the training iterations")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument(
        "--weight-scale", type=float, default=1.0, help="multiply the task's regularization weights"
    )
    p.add_argument("--json", default=None, help="also write the rows as JSON here")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch default)")
    p.set_defaults(func=_nde)
