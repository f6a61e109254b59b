"""``sciml traverse``: image strips and animations of a trained latent-traversal run."""

from __future__ import annotations

import argparse

from sciml.commands._types import nonnegative_int, positive_int


def _traverse(args: argparse.Namespace) -> int:
    from sciml.workflows.traversal_media import write_traversal_media

    paths = write_traversal_media(
        args.run,
        args.out,
        steps=args.steps,
        starts=args.starts,
        seed=args.seed,
        scale=args.scale,
        overwrite=args.overwrite,
    )
    print(f"wrote {len(paths)} files to {args.out}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sciml traverse`` (strips and animations of a traversal run) on ``sub``."""
    p = sub.add_parser(
        "traverse", help="image strips (PNG) and animations (GIF) of a latent-traversal run"
    )
    p.add_argument("run", help="run folder with model.pt from a traversal training")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--steps", type=positive_int, help="flow steps each way (default: as trained)")
    p.add_argument("--starts", type=positive_int, default=4, help="starting codes (one strip each)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the starting codes")
    p.add_argument("--scale", type=positive_int, default=4, help="pixel magnification")
    p.add_argument("--overwrite", action="store_true", help="replace files in --out")
    p.set_defaults(func=_traverse)
