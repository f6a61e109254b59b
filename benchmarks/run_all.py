"""Run every benchmark script in this folder (``make bench``).

    python benchmarks/run_all.py [--quick] [--out bench_out] [--only NAME ...]

Each script writes JSON and a markdown table under ``<out>/<script name>/``; this runner
prints a summary and exits non-zero if any script failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small CPU-sized runs")
    ap.add_argument("--out", default="bench_out")
    ap.add_argument("--only", nargs="*", help="script names (without .py) to run")
    args = ap.parse_args()
    scripts = sorted(p for p in HERE.glob("*.py") if p.name != Path(__file__).name)
    if args.only:
        unknown = sorted(set(args.only) - {p.stem for p in scripts})
        if unknown:
            print(f"--only: unknown benchmark(s) {unknown}; known: {[p.stem for p in scripts]}")
            return 2
        scripts = [p for p in scripts if p.stem in args.only]
    failed = []
    for script in scripts:
        cmd = [sys.executable, str(script), "--out", str(Path(args.out) / script.stem)]
        if args.quick:
            cmd.append("--quick")
        print(f"== {script.name}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd)
        print(f"== {script.name}: exit {rc} in {time.perf_counter() - t0:.0f} s", flush=True)
        if rc:
            failed.append(script.name)
    if failed:
        print(f"failed: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
