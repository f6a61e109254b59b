"""``sciml eval``: evaluate a trained run (relative L2 table, plots, resolution transfer)."""

from __future__ import annotations

import argparse

from sciml.commands._types import int_list


def _eval(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sciml.workflows.runs import eval_run

    eval_run(
        args.run, args.data, resolutions=args.resolutions, out=args.out, device=args.device,
        overwrite=args.overwrite,
    )  # fmt: skip
    out = Path(args.out) if args.out is not None else Path(args.run) / "eval"
    print((out / "eval.md").read_text(), end="")
    pngs = [f.name for f in (out / "error_histogram.png", out / "samples.png") if f.exists()]
    print(f"wrote {out / 'eval.md'}, " + ", ".join(["eval.json", *pngs]))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sciml eval`` (relative L2 table, plots, resolution transfer) on ``sub``."""
    p = sub.add_parser("eval", help="evaluate a trained run: relative L2 table, plots, transfer")
    p.add_argument("run", help="run folder written by `sciml train`")
    p.add_argument("--data", required=True, help="data file (its test split if it trained)")
    p.add_argument(
        "--resolutions", type=int_list, help="comma list, e.g. 32,64,128: discretisation transfer"
    )
    p.add_argument("--out", help="output folder (default RUN/eval)")
    p.add_argument("--device", help="cuda, cpu, ... (default: cuda when available)")
    p.add_argument(
        "--overwrite", action="store_true", help="replace an earlier evaluation in --out"
    )
    p.set_defaults(func=_eval)
