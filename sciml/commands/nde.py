"""``sciml nde``: regularized neural ODE/SDE experiments (accuracy, time and NFE table).

The experiment and regularizer names come from :mod:`sciml.nde.registry` (plain data: building
the parser imports no torch). The table with ratios against the unregularized run
(:func:`markdown_table`) is shared with ``benchmarks/nde_regularization.py``.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``predict_nfe_ratio``, ``train_time_ratio`` (wall clock), ``train_cpu_ratio`` (process
    CPU time; robust on a shared machine) and ``value_delta`` relative to the ``method == "none"``
    row of the same task (``None`` when that row is missing)."""
    base = {r["task"]: r for r in rows if r["method"] == "none"}
    out = []
    for r in rows:
        b = base.get(r["task"])
        r = dict(r)
        r["predict_nfe_ratio"] = r["predict_nfe"] / b["predict_nfe"] if b else None
        r["train_time_ratio"] = r["train_time_s"] / b["train_time_s"] if b else None
        cpu, cpu0 = r.get("train_cpu_s"), b.get("train_cpu_s") if b else None
        r["train_cpu_ratio"] = cpu / cpu0 if cpu is not None and cpu0 else None
        r["value_delta"] = r["value"] - b["value"] if b else None
        out.append(r)
    return out


def _f(v: Any, fmt: str) -> str:
    return "n/a" if v is None else format(v, fmt)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """Markdown table: task, method, metric, value, train time, predict time, NFEs, ratios."""
    rows = add_ratios(rows)
    head = (
        "| task | method | metric | value | train time (s) | train CPU (s) | predict time (s) "
        "| train NFE/iter | predict NFE | predict NFE / none | train time / none "
        "| train CPU / none |"
    )
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        lines.append(
            f"| {r['task']} | {r['method']} | {r['metric']} | {r['value']:.4g} "
            f"| {r['train_time_s']:.1f} | {_f(r.get('train_cpu_s'), '.1f')} "
            f"| {r['predict_time_s']:.3f} | {r['train_nfe']:.1f} "
            f"| {r['predict_nfe']:.0f} | {_f(r['predict_nfe_ratio'], '.2f')} "
            f"| {_f(r['train_time_ratio'], '.2f')} | {_f(r['train_cpu_ratio'], '.2f')} |"
        )
    return "\n".join(lines)


def _nde(args: argparse.Namespace) -> int:
    import json

    import torch

    from sciml.io import check_out_path
    from sciml.nde.experiment import run_experiment
    from sciml.nde.registry import make_problem

    if args.threads > 0:  # the models are tiny; extra threads only add contention
        torch.set_num_threads(args.threads)
    problem = make_problem(args.task)
    names = list(dict.fromkeys(args.reg))
    for name in names:  # refuse an unsupported method before training anything
        problem.check_supported(name)
    if args.json:
        check_out_path(args.json, overwrite=True, what="--json")  # before any training
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
    print(markdown_table(rows))
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
    p.add_argument("task", choices=EXPERIMENT_NAMES)
    p.add_argument(
        "--reg",
        nargs="+",
        default=["none"],
        choices=REGULARIZER_NAMES,
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
