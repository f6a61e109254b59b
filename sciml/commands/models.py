"""``sciml models``: the model zoo (trained weights shipped with the package).

``list`` names them, ``info NAME`` prints a card (what the model is, the command that made it,
recipe, seed, steps, machine, metrics and when they were measured), ``eval NAME`` measures
the card's metrics again on a fresh sample of its recipe. A zoo model is used elsewhere as
``zoo:NAME`` in place of a model file or run folder.
"""

from __future__ import annotations

import argparse

from sciml.commands._types import describe, positive_int


def _list(args: argparse.Namespace) -> int:
    from sciml.zoo import card, names, path

    for name in names():
        c = card(name)
        size = path(name).stat().st_size / 2**20
        print(f"{name:<22} {c['family']:<10} {size:6.2f} MB  {c['description'][:70]}")
    return 0


def _info(args: argparse.Namespace) -> int:
    import json

    from sciml.zoo import card

    c = card(args.name)
    print(json.dumps(c, indent=2))
    return 0


def _eval(args: argparse.Namespace) -> int:
    import json

    import torch

    from sciml.io import check_out_path
    from sciml.zoo import card
    from sciml.zoo.evaluate import compare, evaluate

    card(args.name)  # an unknown name is one line, before anything else
    if args.json:
        check_out_path(args.json, overwrite=args.overwrite, what="--json")
    torch.set_num_threads(args.threads or torch.get_num_threads())
    measured = evaluate(args.name, n=args.n, device=args.device or "cpu")
    rows = compare(args.name, measured)
    print(f"| {args.name} | card | measured | measured / card |")
    print("|---|---|---|---|")
    for r in rows:
        ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}"
        ref = "n/a" if r["card"] is None else f"{r['card']:.4g}"
        print(f"| {r['metric']} | {ref} | {r['measured']:.4g} | {ratio} |")
    if args.json:
        from pathlib import Path

        Path(args.json).write_text(json.dumps({"name": args.name, "rows": rows}, indent=2))
        print(f"wrote {args.json}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sciml models`` (list / info / eval of the model zoo) on ``sub``."""
    p = sub.add_parser(
        "models", help="the model zoo: list, card, re-evaluate", description=describe(__doc__)
    )
    msub = p.add_subparsers(dest="models_command", metavar="MODELS_COMMAND", required=True)
    ls = msub.add_parser("list", help="the shipped models: name, family, size, what it is")
    ls.set_defaults(func=_list)
    i = msub.add_parser("info", help="a model's card (command, recipe, steps, metrics)")
    i.add_argument("name", help="zoo model name (sciml models list)")
    i.set_defaults(func=_info)
    e = msub.add_parser("eval", help="measure a model's card metrics again on fresh data")
    e.add_argument("name", help="zoo model name (sciml models list)")
    e.add_argument("--n", type=positive_int, help="samples of the fresh test set (default: card's)")
    e.add_argument("--device", help="cpu or cuda (default cpu)")
    e.add_argument("--threads", type=positive_int, help="torch CPU threads (default torch's)")
    e.add_argument("--json", help="also write the table as JSON here")
    e.add_argument("--overwrite", action="store_true", help="replace an existing --json")
    e.set_defaults(func=_eval)
