"""Data generation speed: samples/s per recipe, serial vs worker processes, and the time to
build each recipe's default training set (extrapolated from the measured rate).

    python benchmarks/datasets_generation.py --out bench_out/datasets [--quick]

Writes ``datasets.json`` and ``datasets.md`` (a table) into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from sciml.datasets import generate

# (recipe, params, default training-set size, samples to time)
CASES = [
    ("darcy-pwc", {"resolution": 64}, 1200, 16),
    ("darcy-pwc", {"resolution": 85}, 1200, 16),
    ("darcy-smooth", {"resolution": 64}, 1200, 16),
    ("poisson-multiscale", {"resolution": 64}, 1200, 16),
    ("elasticity-holes", {"resolution": 64}, 1200, 8),
    ("navier-stokes-2d", {}, 1200, 20),
    ("seismic-flatvel", {}, 1000, 16),
    ("seismic-curvevel", {}, 1000, 16),
]


def time_case(recipe, params, n, workers, folder) -> float:
    out = Path(folder) / f"{recipe}-{workers}-{time.time_ns()}.h5"
    t0 = time.perf_counter()
    generate(recipe, n, out, params=params, workers=workers, progress=False)
    dt = time.perf_counter() - t0
    out.unlink()
    return n / dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="bench_out/datasets")
    ap.add_argument(
        "--quick", action="store_true", help="darcy-pwc 64 and seismic only, fewer samples"
    )
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cases = CASES
    if args.quick:  # darcy-pwc at 64x64 and seismic-flatvel, 8 samples each
        cases = [
            (r, p, d, 8)
            for r, p, d, _ in CASES
            if (r, p.get("resolution")) in (("darcy-pwc", 64), ("seismic-flatvel", None))
        ]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for recipe, params, default_n, n in cases:
            serial = time_case(recipe, params, n, 1, tmp)
            parallel = time_case(recipe, params, n, args.workers, tmp)
            best = max(serial, parallel)
            row = {
                "recipe": recipe, "params": params, "samples_timed": n,
                "serial_samples_per_s": serial, "workers": args.workers,
                "parallel_samples_per_s": parallel, "speedup": parallel / serial,
                "default_n": default_n, "default_set_minutes": default_n / best / 60,
            }  # fmt: skip
            rows.append(row)
            print(json.dumps(row))
    machine = {
        "platform": platform.platform(), "cpus": os.cpu_count(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }  # fmt: skip
    (out / "datasets.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))
    lines = [
        f"Machine: {machine['cpus']} CPUs, GPU: {machine['cuda'] or 'none'}",
        "",
        f"| recipe | params | serial samples/s | {args.workers} workers samples/s | speedup | default set (n) | minutes |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['recipe']} | {json.dumps(r['params'])} | {r['serial_samples_per_s']:.2f} | "
            f"{r['parallel_samples_per_s']:.2f} | {r['speedup']:.2f}x | {r['default_n']} | "
            f"{r['default_set_minutes']:.1f} |"
        )
    (out / "datasets.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
