"""The ``navier-stokes-2d`` recipe on the GPU vs the CPU: samples/s at the published setting and
how closely the two devices' samples agree.

Published setting (Li et al.'s FNO data, also LSM's): 256 x 256 Crank-Nicolson pseudo-spectral,
``dt = 1e-4``, 20 unit-time frames (200 000 steps per trajectory), subsampled to 64 x 64; the
recipe integrates ``batch_size = 40`` trajectories together.

1. **Rate**: seconds per step of a batch of 40 at 256^2 on the CPU and on CUDA (eager and with
   the CUDA-graph time loop), timed over ``--steps`` steps and extrapolated to samples/s of the
   whole recipe (``40 / (200 000 x seconds per step)``). A full trajectory on the CPU takes hours,
   so the CPU figure is always extrapolated.
2. **Agreement after the timed steps**: the same initial fields (drawn on the CPU from the
   per-sample seeds) integrated on both devices; relative L2 difference.
3. **Agreement over the whole horizon** (CUDA): the recipe at its CPU setting (64^2,
   ``dt = 4e-3``, the full 20 time units) on both devices: relative difference per frame (the
   flow is chaotic, so round-off differences grow; this is the tolerance the recipe states).
4. ``--parts full`` (CUDA): one real batch of 40 trajectories at the published setting through
   the recipe's worker, end to end: measured samples/s.

    python benchmarks/navier_stokes_data.py --quick --out out/ns_data           # CPU only
    python benchmarks/navier_stokes_data.py --device cuda --parts rate,agreement,full --out out/ns
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from sciml.datasets import get_recipe
from sciml.grid import Grid
from sciml.physics.steppers.navier_stokes import navier_stokes_initial, solve_navier_stokes

PUBLISHED_STEPS = 200_000  # 20 time units at dt 1e-4


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step_rate(
    w0: torch.Tensor, grid: Grid, steps: int, *, graph: bool
) -> tuple[float, torch.Tensor]:
    """Seconds per step in steady state, and the state after ``steps`` steps.

    On CUDA the difference of a ``steps`` and a ``3 steps`` run cancels the fixed costs (FFT
    plans, the graph's warm-up and capture); on the CPU, where those are negligible against a
    step, one timed run after a warm-up.
    """

    def run(k: int) -> tuple[float, torch.Tensor]:
        kw = dict(nu=1e-5, t_end=k * 1e-4, dt=1e-4, cuda_graph=graph, graph_steps=min(50, steps))
        _sync(w0.device)
        t0 = time.perf_counter()
        w, _ = solve_navier_stokes(w0, grid, **kw)
        _sync(w0.device)
        return time.perf_counter() - t0, w

    run(min(steps, 2))  # warm-up: FFT plans, allocator
    t1, w = run(steps)
    if w0.device.type != "cuda":
        return t1 / steps, w
    t3, _ = run(3 * steps)
    return max(t3 - t1, 1e-12) / (2 * steps), w


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double().cpu(), b.double().cpu()
    return float((a - b).norm() / b.norm())


def build_parser() -> argparse.ArgumentParser:
    """The command line (also read by tests/benchmarks/test_gpu_scripts.py)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    ap.add_argument("--quick", action="store_true", help="CPU sizes: batch 4, a few steps")
    ap.add_argument("--steps", type=int, help="timed steps (default: 400 CUDA, 4 CPU)")
    ap.add_argument("--batch", type=int, help="trajectories integrated together (default 40)")
    ap.add_argument(
        "--parts",
        default="rate,agreement",
        help="comma list: rate (CPU always), agreement (CUDA), full (CUDA: one real recipe batch)",
    )
    ap.add_argument("--threads", type=int, help="torch CPU threads")
    ap.add_argument("--out", default="out/navier_stokes_data", help="output folder")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    cuda = device.type == "cuda"
    rec = get_recipe("navier-stokes-2d")
    batch = args.batch or (4 if args.quick else rec.batch_size)
    grid = Grid((256, 256), periodic=True)
    seeds = list(range(batch))
    w0 = navier_stokes_initial(grid, seeds, dtype=torch.float64)  # per-sample seeds, on the CPU
    t0 = time.perf_counter()
    rows, agreement = [], {}

    parts = [x for x in args.parts.split(",") if x]
    cpu_steps = args.steps if (args.steps and not cuda) else (2 if args.quick else 4)
    t_cpu = None
    if "rate" in parts or not cuda:
        t_cpu, w_cpu = step_rate(w0, grid, cpu_steps, graph=False)
        rows.append(
            dict(device="cpu", loop="eager", batch=batch, steps=cpu_steps, s_per_step=t_cpu)
        )
    if cuda and "rate" in parts:
        steps = args.steps or 400
        for graph in (False, True):
            t, w = step_rate(w0.to(device), grid, steps, graph=graph)
            rows.append(
                dict(
                    device="cuda",
                    loop="CUDA graph" if graph else "eager",
                    batch=batch,
                    steps=steps,
                    s_per_step=t,
                )  # fmt: skip
            )
        # the same initial state on both devices, after the CPU's timed steps
        _, w_gpu = step_rate(w0.to(device), grid, cpu_steps, graph=True)
        agreement["after_timed_steps"] = dict(steps=cpu_steps, rel_l2=rel(w_gpu, w_cpu))
    if cuda and "agreement" in parts:
        # the whole horizon at the recipe's CPU setting, both devices
        p = rec.params({"solver_resolution": 64, "dt": 4e-3})
        small = np.arange(4)
        a = rec.worker(p, device="cpu")(small).outputs
        b = rec.worker(p, device=device)(small).outputs
        per_frame = [
            float(np.linalg.norm(a[:, f] - b[:, f]) / np.linalg.norm(a[:, f]))
            for f in range(a.shape[1])
        ]
        agreement["cpu_setting_full_horizon"] = dict(
            setting="64^2, dt 4e-3, t = 1..20, 4 samples, float32 output",
            rel_l2_per_frame=per_frame,
        )
    if cuda and "full" in parts:
        p = rec.params({"solver_resolution": 256, "dt": 1e-4})
        run = rec.worker(p, device=device)
        _sync(device)
        t1 = time.perf_counter()
        out = run(np.arange(rec.batch_size))
        _sync(device)
        dt = time.perf_counter() - t1
        agreement["full_batch"] = dict(samples=len(out.outputs), seconds=dt)
        rows.append(
            dict(
                device="cuda",
                loop="recipe worker, end to end",
                batch=rec.batch_size,
                steps=PUBLISHED_STEPS,
                s_per_step=dt / PUBLISHED_STEPS,
                measured=True,
            )  # fmt: skip
        )
    for r in rows:
        r["samples_per_s"] = r["batch"] / (PUBLISHED_STEPS * r["s_per_step"])
        if t_cpu is not None:
            r["vs_cpu"] = t_cpu * batch / (r["s_per_step"] * r["batch"])
    report = dict(
        device=str(device),
        torch=torch.__version__,
        gpu=torch.cuda.get_device_name(device) if cuda else None,
        load=list(os.getloadavg()),
        torch_threads=torch.get_num_threads(),
        rows=rows,
        agreement=agreement,
        wall_s=time.perf_counter() - t0,
    )
    lines = [
        f"navier-stokes-2d at the published setting (256^2, dt 1e-4, {PUBLISHED_STEPS} steps per "
        f"trajectory); load {report['load'][0]:.1f}, {report['torch_threads']} CPU threads, GPU "
        f"{report['gpu']}.",
        "",
        "| device | loop | batch | timed steps | ms/step | samples/s (recipe) | / CPU |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        vs_cpu = f"{r['vs_cpu']:.1f}" if "vs_cpu" in r else ""
        lines.append(
            f"| {r['device']} | {r['loop']} | {r['batch']} | {r['steps']} | {1e3 * r['s_per_step']:.3f} "
            f"| {r['samples_per_s']:.3g}{'' if r.get('measured') else ' (extrapolated)'} | {vs_cpu} |"
        )
    if agreement:
        lines += ["", "Agreement GPU vs CPU (relative L2): " + json.dumps(agreement)]
    md = "\n".join(lines) + "\n"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "navier_stokes_data.json").write_text(json.dumps(report, indent=2))
    (out / "navier_stokes_data.md").write_text(md)
    print(md)
    print(f"wrote {out}/navier_stokes_data.json and .md in {report['wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
