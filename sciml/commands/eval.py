"""``sciml eval``: evaluate a trained run (relative L2 table, plots, resolution transfer)."""

from __future__ import annotations

import argparse


def _eval(args: argparse.Namespace) -> int:
    from sciml.train.runs import eval_run

    res = [int(r) for r in args.resolutions.split(",")] if args.resolutions else None
    eval_run(args.run, args.data, resolutions=res, out=args.out, device=args.device)
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("eval", help="evaluate a trained run: relative L2 table, plots, transfer")
    p.add_argument("run", help="run folder written by `sciml train`")
    p.add_argument("--data", required=True, help="data file (its test split if it trained)")
    p.add_argument("--resolutions", help="comma list, e.g. 32,64,128: discretisation transfer")
    p.add_argument("--out", help="output folder (default RUN/eval)")
    p.add_argument("--device")
    p.set_defaults(func=_eval)
