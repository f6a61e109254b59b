"""``sciml info``: versions of sciml and its engines, devices, MPI size."""

from __future__ import annotations

import argparse


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
    from importlib.metadata import PackageNotFoundError, version

    # versions from the installed distributions: nothing is imported (fast, and no import-time
    # warnings of the libraries themselves)
    for mod, dist in (("neuralop", "neuraloperator"), ("gpytorch", "gpytorch"),
                      ("torchdiffeq", "torchdiffeq"), ("torchsde", "torchsde"),
                      ("deepwave", "deepwave"), ("pyamg", "pyamg"), ("h5py", "h5py")):  # fmt: skip
        try:
            rows.append((mod, version(dist)))
        except PackageNotFoundError:
            rows.append((mod, "not installed"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sciml info`` (versions, devices, MPI size) on ``sub``."""
    p = sub.add_parser("info", help="versions of sciml and its engines, devices, MPI size")
    p.set_defaults(func=_info)
