"""How far each solver and model runs from the machine's limit: achieved memory bandwidth or
FLOP rate as a fraction of the device's measured peak, one table, one run.

Peaks are measured first, on the same device and under the same load:

* memory bandwidth: a STREAM-like triad ``a = b + s c`` (and a copy) on arrays far larger than
  the caches, counting the bytes read and written once each (STREAM's convention), best of
  several runs, measured before and after the rows (the better of the two counts: on a shared
  machine the load moves); on CUDA the device properties are printed too;
* FLOP rate: a large matrix product in the dtype the models train in (fp32 on the CPU, bf16 on
  CUDA).

Rows (each with its traffic or FLOP model, so the fraction means "of the best any code could
do here"):

* ``cg-*``: one CG iteration on the pressure-Poisson problem of ``benchmarks/linear_solvers.py``
  (held-out ``blobs`` obstacles). Bytes = the minimal traffic of an iteration of the fused
  algorithm (:func:`sciml.solvers.krylov.fused.iteration_bytes`: ``ndim + 12`` grid arrays),
  the same for every variant: eager :func:`~sciml.solvers.krylov.cg.cg` on the CSR matrix
  (scipy's kernel on the CPU, torch sparse on CUDA; *before*), eager ``cg`` on the stencil
  operator, :func:`~sciml.solvers.krylov.fused.fused_cg` eager, compiled, and compiled +
  CUDA graphs (*after*; CUDA only unless ``--compile``);
* ``stencil``: the 7-point matvec alone (reads ``p``, the diagonal and 3 face arrays, writes
  ``Ap``);
* ``ns-step``: one Crank-Nicolson pseudo-spectral Navier-Stokes step (the ``navier-stokes-2d``
  recipe's), eager and CUDA-graph; bytes = 23 passes over a real field of the batch (one
  read + write per FFT and pointwise stage, the least the algorithm needs);
* ``lsm`` / ``fno`` / ``unet``: one training step (forward, relative L2, backward, AdamW) at
  85x85; FLOPs counted by ``torch.utils.flop_counter`` (convolutions, matmuls, attention; FFTs
  are not counted, so FNO's fraction is a lower bound).

    python benchmarks/roofline.py --quick --out out/roofline            # this CPU, small sizes
    python benchmarks/roofline.py --device cuda --out out/roofline      # 128^3/256^3, 256^2 NS

Writes ``<out>/roofline.json``, ``roofline.md`` and ``roofline.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from sciml.grid import Grid
from sciml.solvers.krylov.cg import cg
from sciml.solvers.krylov.fused import fused_cg, iteration_bytes
from sciml.solvers.krylov.operator import as_operator
from sciml.solvers.krylov.stencil import StencilOperator, stencil_apply

#: published peak memory bandwidth (bytes/s) of some GPUs, printed beside the measured one
SPEC_BANDWIDTH = {"H200": 4.8e12, "H100": 3.35e12, "A100": 2.0e12}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(
    fn, device: torch.device, *, repeats: int = 5, warmup: int = 1, best: bool = False
) -> float:
    """Median (``best``: smallest) seconds of ``fn()`` over ``repeats`` runs after a warm-up."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return min(times) if best else statistics.median(times)


# ---------------------------------------------------------------------------------- peaks
def measure_peaks(device: torch.device, quick: bool) -> dict:
    """Triad and copy bandwidth (bytes/s) and matmul FLOP/s on ``device``."""
    n = (1 << 23) if quick else (1 << 26)  # float64: 64 MB / 512 MB per array
    if device.type == "cuda":
        n = 1 << 28  # 2 GB per array: far beyond the 60 MB L2
    arrays = [torch.rand(n, dtype=torch.float64, device=device) for _ in range(3)]
    nbytes = n * 8

    def triad(a=arrays[0], b=arrays[1], c=arrays[2]):
        torch.add(b, c, alpha=1.5, out=a)

    def copy(a=arrays[0], b=arrays[1]):
        a.copy_(b)

    reps = 5 if device.type == "cpu" else 20
    t_triad = timed(triad, device, repeats=reps, best=True)  # STREAM reports the best rate
    t_copy = timed(copy, device, repeats=reps, best=True)
    del arrays, triad, copy
    peaks = {
        "triad_Bps": 3 * nbytes / t_triad,
        "copy_Bps": 2 * nbytes / t_copy,
        "array_MB": nbytes / 1e6,
    }
    peaks["bandwidth_Bps"] = max(peaks["triad_Bps"], peaks["copy_Bps"])
    m = 1024 if quick else 2048
    dtypes = {"fp32": torch.float32}
    if device.type == "cuda":
        m = 8192
        dtypes = {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16}
    for label, dt in dtypes.items():
        x = torch.randn(m, m, device=device).to(dt)
        y = torch.randn(m, m, device=device).to(dt)
        saved = torch.backends.cuda.matmul.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = label == "tf32"
        t = timed(
            lambda x=x, y=y: x @ y, device, repeats=5 if device.type == "cpu" else 10, best=True
        )
        torch.backends.cuda.matmul.allow_tf32 = saved
        peaks[f"matmul_{label}_flops"] = 2 * m**3 / t
    if device.type == "cuda":
        prop = torch.cuda.get_device_properties(device)
        peaks["device"] = prop.name
        peaks["sm_count"] = prop.multi_processor_count
        peaks["memory_GB"] = prop.total_memory / 1e9
        spec = [v for k, v in SPEC_BANDWIDTH.items() if k in prop.name]
        peaks["spec_bandwidth_Bps"] = spec[0] if spec else None
    else:
        peaks["device"] = platform.processor() or platform.machine()
        peaks["cpu_count"] = os.cpu_count()
        peaks["torch_threads"] = torch.get_num_threads()
    return peaks


# ------------------------------------------------------------------------------------- CG
def cg_rows(device: torch.device, sizes: list[int], iters: int, compile_cpu: bool) -> list:
    from sciml.solvers.poisson_problems import make_problem

    rows = []
    cuda = device.type == "cuda"
    for n in sizes:
        t0 = time.perf_counter()
        problem = make_problem(n, ndim=3, family="blobs", seed=0)
        assemble_s = time.perf_counter() - t0
        b = problem.b.to(device=device, dtype=torch.float64)
        op = StencilOperator.from_system(problem.system, device=device)
        need = iteration_bytes(op)
        base = dict(size=f"{n}^3", unknowns=problem.system.n, dtype="float64", unit="iteration")
        base.update(kind="bandwidth", model_bytes=need, assemble_s=assemble_s)

        def per_iter(res):
            return res.solve_time / max(res.iterations, 1)

        csr = as_operator(problem.system.matrix, device=device, check=False)

        def eager(A, b=b):
            return cg(A, b, rtol=0.0, maxiter=iters, check=False)

        def fused(compile, graph, op=op, b=b):
            return fused_cg(op, b, rtol=0.0, maxiter=iters, compile=compile, cuda_graph=graph)

        variants = [
            ("cg-csr (eager, before)", lambda A=csr: eager(A)),
            ("cg-stencil (eager)", lambda A=op: eager(A)),
            ("fused-cg (eager)", lambda: fused(False, False)),
        ]
        if cuda or compile_cpu:
            variants.append(("fused-cg (compiled)", lambda: fused(True, False)))
        if cuda:
            variants.append(("fused-cg (compiled + CUDA graph, after)", lambda: fused(True, True)))
        for label, run in variants:
            try:
                run()  # warm-up: compile, capture, sparse handles
                t = statistics.median(per_iter(run()) for _ in range(3))
                rows.append(dict(base, path=label, time_s=t, achieved=need / t))
            except Exception as exc:
                rows.append(dict(base, path=label, error=f"{type(exc).__name__}: {exc}"[:200]))
            print(rows[-1], flush=True)
        # the matvec alone
        p = torch.randn(1, *op.shape, dtype=torch.float64, device=device) * op.active
        mv_bytes = op.center.numel() * 8 * (len(op.shape) + 3)
        mv = dict(base, unit="matvec", model_bytes=mv_bytes)
        fns = [("stencil (eager)", lambda op=op, p=p: op.apply_field(p))]
        if cuda or compile_cpu:
            comp = torch.compile(stencil_apply, fullgraph=True, dynamic=False)
            fns.append(
                (
                    "stencil (compiled)",
                    lambda op=op, p=p, f=comp: f(p, op.center, op.faces, op.periodic),
                )
            )
        if cuda:
            v = op.to_vector(p)  # the unknowns only: the CSR matrix has no solid cells
            fns.append(("csr matvec (torch sparse)", lambda m=csr.matrix, v=v: m @ v.T))
        for label, fn in fns:
            t = timed(fn, device, repeats=10, warmup=2)
            rows.append(dict(mv, path=label, time_s=t, achieved=mv_bytes / t))
            print(rows[-1], flush=True)
    return rows


# ---------------------------------------------------------------------------- Navier-Stokes
def ns_rows(device: torch.device, configs: list[tuple[int, int]], steps: int) -> list:
    from sciml.physics.steppers.navier_stokes import navier_stokes_initial, solve_navier_stokes

    rows = []
    for n, batch in configs:
        g = Grid((n, n), periodic=True)
        w0 = navier_stokes_initial(g, list(range(batch)), dtype=torch.float64).to(device)
        real = batch * n * n * 8
        need = 23 * real
        graph_opts = [False, True] if device.type == "cuda" else [False]
        for graph in graph_opts:
            label = "ns-step (CUDA graph)" if graph else "ns-step (eager)"

            def run(k, graph=graph, w0=w0, g=g):
                solve_navier_stokes(
                    w0, g, nu=1e-5, t_end=k * 1e-4, dt=1e-4, cuda_graph=graph,
                    graph_steps=min(100, steps),
                )  # fmt: skip

            # steady state: the difference of two horizons cancels the fixed costs (FFT
            # plans, the graph's warm-up and capture, the final inverse FFT)
            t1 = timed(lambda: run(steps), device, repeats=3)
            t3 = timed(lambda: run(3 * steps), device, repeats=3)
            t = max(t3 - t1, 1e-12) / (2 * steps)
            rows.append(
                dict(
                    path=label,
                    size=f"{n}^2 x {batch}",
                    dtype="float64",
                    unit="step",
                    kind="bandwidth",
                    model_bytes=need,
                    time_s=t,
                    achieved=need / t,
                )
            )
            print(rows[-1], flush=True)
    return rows


# ------------------------------------------------------------------------------- operators
def operator_rows(device: torch.device, batch: int, res: int, steps: int, models: dict) -> list:
    from torch.utils.flop_counter import FlopCounterMode

    from sciml.operators.registry import build
    from sciml.train.losses import relative_l2

    rows = []
    cuda = device.type == "cuda"
    for name, kw in models.items():
        torch.manual_seed(0)
        model = build(name, in_channels=1, out_channels=1, **kw).to(device)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        x = torch.randn(batch, 1, res, res, device=device)
        y = torch.randn(batch, 1, res, res, device=device)

        def step(model=model, opt=opt, x=x, y=y):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
                loss = relative_l2(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        with FlopCounterMode(display=False) as counter:
            step()
        flops = counter.get_total_flops()
        t = timed(step, device, repeats=steps, warmup=2)
        rows.append(
            dict(
                path=f"{name} train step" + (" (bf16 autocast)" if cuda else " (fp32)"),
                size=f"{res}^2 x {batch}",
                dtype="bf16" if cuda else "float32",
                unit="step",
                kind="flops",
                model_flops=flops,
                time_s=t,
                achieved=flops / t,
                samples_per_s=batch / t,
            )
        )
        print(rows[-1], flush=True)
    return rows


# ------------------------------------------------------------------------------- reporting
def attach_fractions(rows: list, peaks: dict, device: torch.device) -> None:
    flops_peak = peaks["matmul_bf16_flops"] if device.type == "cuda" else peaks["matmul_fp32_flops"]
    for r in rows:
        if "achieved" not in r:
            continue
        peak = peaks["bandwidth_Bps"] if r["kind"] == "bandwidth" else flops_peak
        r["peak"] = peak
        r["fraction"] = r["achieved"] / peak
        r["bound_s"] = r["time_s"] * r["fraction"]  # time at the peak
        r["x_bound"] = 1 / r["fraction"]


def to_markdown(report: dict) -> str:
    p = report["peaks"]
    load = report["load"]
    lines = [
        f"Device: {p['device']} ({report['device']}); load average {load[0]:.1f} / "
        f"{load[1]:.1f} / {load[2]:.1f} (1/5/15 min) on {os.cpu_count()} CPUs; torch "
        f"{report['torch']}.",
        "",
        f"Peaks (measured here): triad {p['triad_Bps'] / 1e9:.1f} GB/s, copy "
        f"{p['copy_Bps'] / 1e9:.1f} GB/s (arrays of {p['array_MB']:.0f} MB); matmul "
        + ", ".join(
            f"{k.split('_')[1]} {v / 1e12:.3g} TFLOP/s"
            for k, v in p.items()
            if k.startswith("matmul")
        )
        + (
            f"; published bandwidth {p['spec_bandwidth_Bps'] / 1e12:.2f} TB/s"
            if p.get("spec_bandwidth_Bps")
            else ""
        )
        + ".",
        "",
        "| path | size | per | time | model traffic / FLOPs | achieved | fraction of peak "
        "| time at peak | x the bound |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["rows"]:
        if "error" in r:
            lines.append(f"| {r['path']} | {r['size']} | {r['unit']} | error: {r['error']} |||||")
            continue
        if r["kind"] == "bandwidth":
            model = f"{r['model_bytes'] / 1e6:.1f} MB"
            ach = f"{r['achieved'] / 1e9:.1f} GB/s"
        else:
            model = f"{r['model_flops'] / 1e9:.2f} GFLOP"
            ach = f"{r['achieved'] / 1e12:.3f} TFLOP/s"
        lines.append(
            f"| {r['path']} | {r['size']} | {r['unit']} | {_t(r['time_s'])} | {model} | {ach} "
            f"| {100 * r['fraction']:.1f} % | {_t(r['bound_s'])} | {r['x_bound']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def _t(s: float) -> str:
    return f"{s * 1e6:.1f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in report["rows"] if "fraction" in r]
    labels = [f"{r['path']} {r['size']}" for r in rows]
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(rows) + 1.2))
    colors = ["tab:blue" if r["kind"] == "bandwidth" else "tab:orange" for r in rows]
    ax.barh(range(len(rows)), [100 * r["fraction"] for r in rows], color=colors)
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.axvline(100, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("% of measured peak (blue: memory bandwidth, orange: FLOP rate)")
    ax.set_title(f"roofline fractions on {report['peaks']['device']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def build_parser() -> argparse.ArgumentParser:
    """The command line (also read by tests/benchmarks/test_gpu_scripts.py)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    ap.add_argument("--quick", action="store_true", help="small sizes (a CPU run of ~2 minutes)")
    ap.add_argument("--parts", default="cg,ns,operators", help="comma list of cg, ns, operators")
    ap.add_argument("--cg-sizes", type=int, nargs="+", help="default: 32 64 (CPU), 128 256 (CUDA)")
    ap.add_argument("--cg-iters", type=int, default=None, help="timed iterations per CG solve")
    ap.add_argument("--compile", action="store_true", help="also the compiled rows on the CPU")
    ap.add_argument("--threads", type=int, help="torch CPU threads")
    ap.add_argument("--out", default="out/roofline", help="output folder")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    cuda = device.type == "cuda"
    parts = [p for p in args.parts.split(",") if p]
    unknown = set(parts) - {"cg", "ns", "operators"}
    if unknown:
        raise SystemExit(f"--parts: unknown {sorted(unknown)}")
    t0 = time.perf_counter()
    peaks = measure_peaks(device, args.quick and not cuda)
    print("peaks:", peaks, flush=True)
    rows: list[dict] = []
    if "cg" in parts:
        # CPU: 128^3 (16 MB per vector) is the first size well beyond the caches
        sizes = args.cg_sizes or ([128, 256] if cuda else ([32] if args.quick else [64, 128]))
        iters = args.cg_iters or (200 if cuda else 20)
        rows += cg_rows(device, sizes, iters, args.compile)
    if "ns" in parts:
        configs = (
            [(64, 40), (256, 40)] if cuda else ([(64, 8)] if args.quick else [(64, 8), (256, 2)])
        )
        rows += ns_rows(device, configs, 200 if cuda else 10)
    if "operators" in parts:
        models = {
            "lsm": dict(width=64, heads=8, levels=4, tokens=4, basis=12, patches=4),
            "fno": dict(width=32, modes=12),
            "unet": dict(width=32, levels=4),
        }
        if args.quick and not cuda:
            models = {
                "lsm": dict(width=16, heads=4, levels=3, patches=2),
                "fno": dict(width=16, modes=12),
                "unet": dict(width=16, levels=3),
            }
        rows += operator_rows(device, 20 if cuda else 4, 85, 10 if cuda else 3, models)
    # peaks again at the end, the best of both: on a shared machine the load changes
    again = measure_peaks(device, args.quick and not cuda)
    for key, value in again.items():
        if key.endswith(("_Bps", "_flops")) and isinstance(value, float):
            peaks[key] = max(peaks[key], value)
    attach_fractions(rows, peaks, device)
    report = dict(
        device=str(device),
        torch=torch.__version__,
        load=list(os.getloadavg()),
        peaks=peaks,
        rows=rows,
        wall_s=time.perf_counter() - t0,
        command="roofline.py " + " ".join(argv if argv is not None else __import__("sys").argv[1:]),
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "roofline.json").write_text(json.dumps(report, indent=2, default=str))
    md = to_markdown(report)
    (out / "roofline.md").write_text(md)
    if rows:
        plot(report, out / "roofline.png")
    print(md)
    print(f"wrote {out}/roofline.json, roofline.md, roofline.png in {report['wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
