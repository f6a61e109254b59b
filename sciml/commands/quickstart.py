"""``sciml quickstart``: the project's main job on small built-in defaults."""

from __future__ import annotations

import argparse

from sciml.commands._types import positive_float, positive_int


def _quickstart(args: argparse.Namespace) -> int:
    from sciml.workflows.quickstart import run

    return run(
        out=args.out, n=args.n, budget=args.budget, samples=args.samples, overwrite=args.overwrite
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sciml quickstart`` (the main job on small defaults) on ``sub``."""
    p = sub.add_parser("quickstart", help="the project's main job on small built-in defaults")
    p.add_argument("--out", default="out/quickstart", help="folder for plots and tables")
    p.add_argument("--n", type=positive_int, default=32, help="mesh cells per side (>= 4)")
    p.add_argument(
        "--budget", type=positive_float, default=60.0, help="training seconds per operator"
    )
    p.add_argument(
        "--samples", type=positive_int, default=200, help="Darcy samples (80/20 train/test; >= 20)"
    )
    p.add_argument(
        "--overwrite", action="store_true", help="replace an earlier quickstart's results in --out"
    )
    p.set_defaults(func=_quickstart)
