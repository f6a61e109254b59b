"""``sciml invert PROBLEM ...``: inverse problems, one sub-subcommand per problem kind.

Each problem kind lives in its own module ``sciml/commands/invert_<kind>.py`` exposing
``add_parser(invert_sub)``; list the kind in :data:`PROBLEMS` (and ``"invert"`` in
:data:`sciml.commands.COMMANDS` once the first kind exists).
"""

from __future__ import annotations

import argparse
import importlib

#: problem kinds, each with a module ``sciml.commands.invert_<kind>``
PROBLEMS: tuple[str, ...] = ("darcy", "seismic")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sciml invert`` on ``sub`` and each kind of :data:`PROBLEMS` under it."""
    p = sub.add_parser(
        "invert", help="inverse problems: recover a field (and its uncertainty) from data"
    )
    invert_sub = p.add_subparsers(dest="invert_command", metavar="PROBLEM", required=True)
    for kind in PROBLEMS:
        importlib.import_module(f"sciml.commands.invert_{kind}").add_parser(invert_sub)
