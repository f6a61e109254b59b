"""Speed of the physics engine's forward solvers, side by side with the peer a user would pick.

* Wave propagation, the OpenFWI recipe (70 x 70 at 10 m, 5 shots, 70 receivers, 1000 x 1 ms,
  15 Hz Ricker): samples/s of :func:`sciml.physics.seismic.simulate` (all shots of all samples
  in one batched deepwave call) versus calling ``deepwave.scalar`` directly, one call per
  sample with its 5 shots (what a user of deepwave alone writes).
* Navier-Stokes vorticity, FNO setting (nu = 1e-3, dt = 1e-4): steps/s of
  :func:`sciml.physics.steppers.navier_stokes.solve_navier_stokes` at 64^2 and 256^2 versus the
  FNO reference algorithm (``ns_2d.py`` of the FNO repository, ported to ``torch.fft``: full
  complex FFTs, four inverse transforms per step), with the max difference of the two
  solutions after the timed steps.

Runs on ``--device`` (default cuda when available) and, when that is a GPU, on the CPU too.
Writes ``physics_speed.json`` and ``physics_speed.md`` (``--out`` is a directory, or a path
ending in ``.json``).

    python benchmarks/physics_speed.py --quick --out /tmp/bench
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import torch

from sciml.grid import Grid
from sciml.physics.seismic import Survey, simulate
from sciml.physics.seismic.velocity_models import flat_layers, openfwi_grid
from sciml.physics.steppers.navier_stokes import (
    fno_forcing_field,
    navier_stokes_initial,
    solve_navier_stokes,
)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _timed(fn, device: str, repeats: int = 1) -> float:
    fn()  # warm-up (kernels, FFT plans)
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    _sync(device)
    return (time.perf_counter() - t0) / repeats


# ---------------------------------------------------------------------------------- wave
def bench_wave(device: str, samples: int, nt: int) -> dict:
    import deepwave

    grid = openfwi_grid()
    survey = Survey.openfwi(grid, nt=nt)
    v = flat_layers(grid, range(samples), device=device)

    def ours():
        return simulate(v, grid, survey)

    src = torch.stack([torch.full((5,), 1), torch.linspace(0, 69, 5).round().long()], 1)
    rec = torch.stack([torch.full((70,), 1), torch.arange(70)], 1)
    amps = survey.wavelet.to(device).expand(5, 1, nt).contiguous()
    src_loc, rec_loc = src[:, None].to(device), rec[None].expand(5, 70, 2).contiguous().to(device)

    def peer():
        return [
            deepwave.scalar(
                v[b, 0], 10.0, survey.dt, source_amplitudes=amps, source_locations=src_loc,
                receiver_locations=rec_loc, accuracy=4, pml_width=20, pml_freq=15.0, max_vel=4500.0,
            )[-1]
            for b in range(samples)
        ]  # fmt: skip

    t_ours, t_peer = _timed(ours, device), _timed(peer, device)
    same = torch.allclose(
        ours()[0],
        -peer()[0].transpose(1, 2) / 100.0,
        rtol=1e-4,
        atol=1e-4 * float(ours().abs().max()),
    )
    return {
        "task": f"wave OpenFWI ({samples} samples, {nt} steps)",
        "device": device,
        "ours_per_s": samples / t_ours,
        "peer_per_s": samples / t_peer,
        "unit": "samples/s",
        "peer": "deepwave.scalar, one call per sample",
        "speedup": t_peer / t_ours,
        "agree": bool(same),
    }


# ---------------------------------------------------------------------------- navier-stokes
def fno_reference(w0: torch.Tensor, f: torch.Tensor, visc: float, steps: int, dt: float):
    """The FNO data generator's time loop (ns_2d.py), on torch.fft with full complex FFTs."""
    n = w0.shape[-1]
    k_max = n // 2
    w_h = torch.fft.fft2(w0)
    f_h = torch.fft.fft2(f)
    k_y = torch.cat(
        (torch.arange(0, k_max, device=w0.device), torch.arange(-k_max, 0, device=w0.device))
    ).repeat(n, 1)
    k_x = k_y.transpose(0, 1)
    lap = 4 * math.pi**2 * (k_x**2 + k_y**2)
    lap[0, 0] = 1.0
    dealias = ((k_y.abs() <= 2 / 3 * k_max) & (k_x.abs() <= 2 / 3 * k_max)).to(w0.dtype)
    for _ in range(steps):
        psi_h = w_h / lap
        q = torch.fft.ifft2(2j * math.pi * k_y * psi_h).real
        v = torch.fft.ifft2(-2j * math.pi * k_x * psi_h).real
        w_x = torch.fft.ifft2(2j * math.pi * k_x * w_h).real
        w_y = torch.fft.ifft2(2j * math.pi * k_y * w_h).real
        f_nl = torch.fft.fft2(q * w_x + v * w_y) * dealias
        w_h = (-dt * f_nl + dt * f_h + (1 - 0.5 * dt * visc * lap) * w_h) / (
            1 + 0.5 * dt * visc * lap
        )
    return torch.fft.ifft2(w_h).real


def bench_ns(device: str, n: int, steps: int, batch: int = 1) -> dict:
    dt, nu = 1e-4, 1e-3
    grid = Grid((n, n), periodic=True)
    w0 = navier_stokes_initial(grid, range(batch), device=device)
    f = fno_forcing_field(grid, device=device)

    def ours():
        return solve_navier_stokes(w0, grid, nu=nu, t_end=steps * dt, dt=dt)[0]

    def peer():
        return fno_reference(w0[:, 0], f, nu, steps, dt)

    t_ours, t_peer = _timed(ours, device), _timed(peer, device)
    diff = (ours()[:, 0] - peer()).abs().max().item() / w0.abs().max().item()
    return {
        "task": f"Navier-Stokes {n}x{n} (batch {batch}, {steps} steps)",
        "device": device,
        "ours_per_s": steps / t_ours,
        "peer_per_s": steps / t_peer,
        "unit": "steps/s",
        "peer": "FNO ns_2d.py algorithm (torch.fft port)",
        "speedup": t_peer / t_ours,
        "agree": diff < 1e-4,
        "max_rel_diff": diff,
    }


def _markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        f"Physics engine speed ({meta['platform']}, torch {meta['torch']}, "
        f"{meta['threads']} CPU threads{', ' + meta['gpu'] if meta['gpu'] else ''})",
        "",
        "| task | device | sciml | peer | peer | speed-up | agree |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['task']} | {r['device']} | {r['ours_per_s']:.3g} {r['unit']} | "
            f"{r['peer_per_s']:.3g} {r['unit']} | {r['peer']} | {r['speedup']:.2f}x | "
            f"{'yes' if r['agree'] else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--quick", action="store_true", help="small CPU-sized run")
    p.add_argument("--out", default="benchmarks/results", help="directory or .json path")
    args = p.parse_args(argv)
    devices = [args.device] if args.device == "cpu" else [args.device, "cpu"]
    meta = {
        "platform": platform.platform(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "",
        "quick": args.quick,
    }
    out = Path(args.out)
    json_path = out if out.suffix == ".json" else out / "physics_speed.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    jobs = []
    for dev in devices:
        gpu = dev.startswith("cuda")
        jobs.append(
            lambda dev=dev, gpu=gpu: bench_wave(dev, 2 if args.quick else (64 if gpu else 8), 1000)
        )
        for n, steps in ((64, 100 if args.quick else 1000), (256, 20 if args.quick else 200)):
            jobs.append(lambda dev=dev, n=n, steps=steps: bench_ns(dev, n, steps))
        if not args.quick:
            jobs.append(lambda dev=dev, gpu=gpu: bench_ns(dev, 64, 200, batch=64 if gpu else 8))
    rows = []
    for job in jobs:  # results are written after every row, so a killed run keeps its rows
        try:
            rows.append(job())
        except ImportError as exc:  # e.g. deepwave missing on a GPU machine: keep the rest
            print(f"skipped a row: {exc}", flush=True)
            continue
        print(json.dumps(rows[-1]), flush=True)
        json_path.write_text(json.dumps({"meta": meta, "results": rows}, indent=2))
        json_path.with_suffix(".md").write_text(_markdown(rows, meta))
    md = _markdown(rows, meta)
    print(md)
    return {"meta": meta, "results": rows}


if __name__ == "__main__":
    main()
