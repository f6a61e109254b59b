"""The ``sciml`` command.

One argparse parser; each subcommand's handler imports what it needs lazily, so
``sciml --version`` and ``sciml info`` stay fast. To add a subcommand: write an
``_add_<name>(sub)`` function that declares its arguments and sets ``func`` to a handler,
and call it from :func:`build_parser`.
"""

from __future__ import annotations

import argparse
import sys


def _info(args: argparse.Namespace) -> int:
    import platform

    import numpy as np
    import torch

    import sciml

    rows = [
        ("sciml", sciml.__version__),
        ("python", platform.python_version()),
        ("numpy", np.__version__),
        ("torch", torch.__version__),
        ("cuda", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "not available"),
        ("torch threads", str(torch.get_num_threads())),
    ]
    try:
        import dolfinx_solver  # noqa: F401  (must come before dolfinx / petsc4py)

        import dolfinx
        from mpi4py import MPI
        from petsc4py import PETSc

        rows += [
            ("dolfinx", dolfinx.__version__),
            ("petsc", ".".join(map(str, PETSc.Sys.getVersion()))),
            ("mpi", MPI.Get_library_version().splitlines()[0].strip()),
            ("mpi size", str(MPI.COMM_WORLD.size)),
        ]
    except ImportError as exc:  # pragma: no cover - depends on the install
        rows.append(("dolfinx", f"not available ({exc})"))
    for mod in ("neuralop", "gpytorch", "torchdiffeq", "torchsde", "deepwave", "pyamg", "h5py"):
        try:
            m = __import__(mod)
            rows.append((mod, getattr(m, "__version__", "installed")))
        except ImportError:
            rows.append((mod, "not installed"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


def _add_info(sub) -> None:
    p = sub.add_parser("info", help="versions of sciml and its engines, devices, MPI size")
    p.set_defaults(func=_info)


def _quickstart(args: argparse.Namespace) -> int:
    from sciml.quickstart import run

    return run(out=args.out, n=args.n)


def _add_quickstart(sub) -> None:
    p = sub.add_parser("quickstart", help="the project's main job on small built-in defaults")
    p.add_argument("--out", default="out/quickstart", help="folder for plots and tables")
    p.add_argument("--n", type=int, default=32, help="mesh cells per side")
    p.set_defaults(func=_quickstart)


def build_parser() -> argparse.ArgumentParser:
    import sciml

    parser = argparse.ArgumentParser(
        prog="sciml", description="Scientific ML: PDE engines, neural operators, learned solvers."
    )
    parser.add_argument("--version", action="version", version=f"sciml {sciml.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_info(sub)
    _add_quickstart(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError, TypeError) as exc:
        print(f"sciml {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
