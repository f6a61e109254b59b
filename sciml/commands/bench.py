"""``sciml bench``: run the side-by-side benchmark scripts from a source checkout."""

from __future__ import annotations

import argparse
import sys


def _bench(args: argparse.Namespace) -> int:
    import subprocess
    from pathlib import Path

    import sciml
    from sciml.io import check_out_dir

    candidates = [
        Path.cwd() / "benchmarks",
        Path(sciml.__file__).resolve().parents[1] / "benchmarks",
    ]
    folder = next((c for c in candidates if (c / "run_all.py").is_file()), None)
    if folder is None:
        raise FileNotFoundError(
            "benchmarks: no benchmarks/run_all.py here or beside the installed package; run "
            "`sciml bench` from a source checkout of sciml"
        )
    known = sorted(p.stem for p in folder.glob("*.py") if p.stem != "run_all")
    unknown = [name for name in args.names if name not in known]
    if unknown:
        raise ValueError(f"unknown benchmark(s) {unknown}; known: {known}")
    out = check_out_dir(args.out, what="--out")  # a file, or a folder nobody can write
    done = [n for n in (args.names or known) if (out / n).exists() and any((out / n).iterdir())]
    if done and not args.overwrite:
        raise FileExistsError(
            f"--out {str(out)!r} holds earlier results of {done}; pass --overwrite to replace "
            "them, or another --out"
        )
    cmd = [sys.executable, str(folder / "run_all.py"), "--out", args.out]
    if args.quick:
        cmd.append("--quick")
    if args.names:
        cmd += ["--only", *args.names]
    return subprocess.call(cmd)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sciml bench`` (side-by-side benchmark scripts) on ``sub``."""
    p = sub.add_parser("bench", help="run the side-by-side benchmarks (from a source checkout)")
    p.add_argument("names", nargs="*", help="benchmark scripts (default: all), e.g. physics_speed")
    p.add_argument("--quick", action="store_true", help="small CPU-sized runs")
    p.add_argument("--out", default="bench_out", help="folder for JSON and markdown results")
    p.add_argument("--overwrite", action="store_true", help="replace earlier results in --out")
    p.set_defaults(func=_bench)
