"""The ``sciml`` command: builds one argparse parser from the modules in
:mod:`sciml.commands` and turns every user error into one line on stderr and exit code 2.

Building the parser imports no torch (each command imports what it needs when it runs), so
``sciml --help`` and ``sciml --version`` are fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from sciml.commands import COMMANDS
from sciml.commands._types import HelpFormatter

#: errors a user can cause (bad argument, missing or wrong file, existing output, read-only
#: folder, a size beyond this machine's memory, input nested beyond reason): reported as
#: ``sciml CMD: error: ...`` with exit code 2, never as a traceback
USER_ERRORS = (ValueError, KeyError, TypeError, OSError, MemoryError, RecursionError)


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error reported as one line (``sciml train: error: argument
    --epochs: must be >= 1, got '0' (see sciml train --help)``) and exit code 2, and every
    option's default shown in ``--help`` (:class:`~sciml.commands._types.HelpFormatter`)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:  # noqa: D102 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``sciml`` parser with one subcommand per module in :data:`COMMANDS` (no torch)."""
    import sciml

    parser = Parser(
        prog="sciml", description="Scientific ML: PDE engines, neural operators, learned solvers."
    )
    parser.add_argument("--version", action="version", version=f"sciml {sciml.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"sciml.commands.{name}").add_parser(sub)
    return parser


def _message(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):  # the estimate before the work missed: the last guard
        what = str(exc).strip() or "an allocation failed"
        return f"not enough memory on this machine ({what}); choose a smaller size"
    if isinstance(exc, RecursionError):
        return "input nested too deeply to read"
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in str(exc):
        return f"{exc.strerror or exc}: {exc.filename!r}"
    if isinstance(exc, OSError) and exc.strerror and not exc.filename:
        return exc.strerror  # sciml's own OSErrors carry the whole message (no "[Errno N]")
    return str(exc)


def check_common_options(args: argparse.Namespace) -> None:
    """The options many commands share, checked in one place before any work: ``--device``
    must exist on this machine, ``--threads`` must be >= 0 (0: torch's default), ``--resume``
    and ``--overwrite`` exclude each other, and a ``zoo:NAME`` anywhere becomes that zoo
    model's file (an unknown name is one line listing the available ones)."""
    device = getattr(args, "device", None)
    if device is not None:
        from sciml.commands._types import check_device

        check_device(device)
    threads = getattr(args, "threads", None)
    if threads is not None and (not isinstance(threads, int) or threads < 0):
        raise ValueError(f"--threads must be >= 0 (0: torch's default), got {threads!r}")
    for key, value in vars(args).items():  # zoo:NAME stands for the zoo model's file anywhere
        if isinstance(value, str) and value.startswith("zoo:"):
            from sciml import zoo

            setattr(args, key, str(zoo.resolve(value)))
    if getattr(args, "resume", False) and getattr(args, "overwrite", False):
        raise ValueError(
            "--resume and --overwrite exclude each other: --resume continues the existing "
            "output, --overwrite replaces it"
        )


def main(argv: list[str] | None = None) -> int:
    """Run ``sciml`` on ``argv`` (default ``sys.argv[1:]``); return the exit code (2 on a
    user error, reported as one line on stderr)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        check_common_options(args)
        return int(args.func(args) or 0)
    except BrokenPipeError:  # `sciml data info f.h5 | head`: the reader left; not an error
        sys.stderr.close()
        return 0
    except USER_ERRORS as exc:
        print(f"sciml {args.command}: error: {_message(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
