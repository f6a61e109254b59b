"""``sciml invert seismic RUN_DIR --data FILE --out DIR``: a trained seismic imaging model's
velocity estimate refined by full-waveform inversion (FWI) through the torch propagator.

Reads ``RUN_DIR/model.pt`` (a model trained with the seismic imaging task) and gathers from a
``seismic-<family>`` data file (its velocities, when present, score the estimates); writes
``velocity.npz`` (network, refined and linear-start velocities, m/s), ``report.json`` (MAE and
SSIM before/after, misfits, seconds) and ``refinement.png``.
"""

from __future__ import annotations

import argparse

from sciml.commands._types import describe, nonnegative_int, positive_float, positive_int


def _parse_indices(text: str | None, n: int, limit: int) -> list[int]:
    if text is None:
        return list(range(min(limit, n)))
    try:
        idx = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ValueError(f"--samples must be a comma list of integers, got {text!r}") from None
    bad = [i for i in idx if not 0 <= i < n]
    if not idx or bad:
        raise ValueError(f"--samples must be indices in [0, {n}), got {text!r}")
    return idx


def _invert(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    import numpy as np
    import torch

    from sciml.datasets import GridDataset
    from sciml.inverse.seismic_refinement import acquisition_from_meta, refine_with_fwi
    from sciml.io import check_out_dir
    from sciml.operators.seismic.imaging_task import load_imaging_model

    out = Path(args.out)
    check_out_dir(out, what="--out")  # a file, or a folder nobody can write: before any work
    targets = [out / n for n in ("velocity.npz", "report.json", "refinement.png")]
    if not args.overwrite and any(t.exists() for t in targets):
        raise FileExistsError(f"--out {str(out)!r} holds results; pass --overwrite to replace")
    if args.iterations < 0 or not args.lr > 0:
        raise ValueError("--iterations must be >= 0 and --lr > 0")
    if args.max_samples < 1:
        raise ValueError("--max-samples must be >= 1")
    run = Path(args.run)
    model_file = run / "model.pt" if run.is_dir() else run
    if not model_file.is_file():
        raise FileNotFoundError(f"RUN_DIR: no model file {str(model_file)!r}")
    if not Path(args.data).is_file():
        raise FileNotFoundError(f"--data {str(args.data)!r} does not exist")
    ds = GridDataset(args.data)
    grid, survey, kw = acquisition_from_meta(ds.meta, path=str(args.data))
    idx = _parse_indices(args.samples, len(ds), args.max_samples)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model, norm, dirs = load_imaging_model(model_file, device)
    if "inverse" not in dirs:
        raise ValueError(f"{str(model_file)!r} was trained for {dirs}, not the inverse direction")
    sub = ds.subset(idx)
    velocity = torch.as_tensor(sub.inputs_array()).float()
    observed = torch.as_tensor(sub.outputs_array()).float()
    print(f"{len(idx)} sample(s) of {args.data}; FWI: {args.iterations} iterations, lr "
          f"{args.lr} m/s, on {device}", flush=True)  # fmt: skip
    res = refine_with_fwi(
        model, norm, observed, grid, survey, true_velocity=velocity,
        iterations=args.iterations, lr=args.lr, linear=not args.no_linear, device=device,
        compile=False if args.no_compile else None, **kw,
    )  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    arrays = {"indices": np.array(idx), "true": velocity.numpy(),
              "network": res.network.numpy(), "refined": res.refined.numpy()}  # fmt: skip
    if res.linear is not None:
        arrays["linear"] = res.linear.numpy()
    np.savez(out / "velocity.npz", **arrays)
    report = {"run": str(model_file), "data": str(args.data), "indices": idx, **res.report}
    (out / "report.json").write_text(json.dumps(report, indent=2))
    for label in ("network", "linear"):
        r = res.report.get(label)
        if r:
            print(f"FWI from the {label} start: MAE {r['mae_before']:.4f} -> {r['mae_after']:.4f}"
                  f" (x1500 m/s), SSIM {r['ssim_before']:.3f} -> {r['ssim_after']:.3f}, misfit "
                  f"{r['misfit'][0]:.3g} -> {r['misfit'][-1]:.3g}, {r['seconds']:.1f} s")  # fmt: skip
    _plot(out / "refinement.png", arrays)
    print(f"wrote {out}/velocity.npz, report.json, refinement.png")
    return 0


def _plot(path, arrays) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = [k for k in ("true", "network", "refined", "linear") if k in arrays]
    n = min(3, arrays["true"].shape[0])
    fig, axes = plt.subplots(n, len(cols), figsize=(2.6 * len(cols), 2.4 * n), squeeze=False)
    for i in range(n):
        for j, k in enumerate(cols):
            ax = axes[i, j]
            im = ax.imshow(arrays[k][i, 0], vmin=1500, vmax=4500, cmap="viridis")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title({"refined": "network + FWI", "linear": "linear + FWI"}.get(k, k))
    fig.colorbar(im, ax=axes, shrink=0.8, label="velocity (m/s)")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def add_parser(invert_sub: argparse._SubParsersAction) -> None:
    """Register ``sciml invert seismic`` on the ``sciml invert`` subparsers ``invert_sub``."""
    p = invert_sub.add_parser(
        "seismic",
        help="refine a seismic imaging model's velocity estimate by FWI",
        description=describe(__doc__),
    )
    p.add_argument("run", help="run folder (or model.pt) of a trained inverse seismic model")
    p.add_argument("--data", required=True, help="seismic-<family> data file (gathers)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--samples", help="comma list of sample indices (default: the first ones)")
    p.add_argument(
        "--max-samples", type=positive_int, default=4, help="how many samples without --samples"
    )
    p.add_argument("--iterations", type=nonnegative_int, default=10, help="FWI iterations")
    p.add_argument("--lr", type=positive_float, default=20.0, help="FWI step size (m/s, Adam)")
    p.add_argument("--no-linear", action="store_true", help="skip the linear-start comparison")
    p.add_argument(
        "--no-compile",
        action="store_true",
        help="run the propagator eagerly (no torch.compile warm-up; slower steps)",
    )
    p.add_argument("--device", help="cpu, cuda, ... (default: cuda when available)")
    p.add_argument("--overwrite", action="store_true", help="replace existing results")
    p.set_defaults(func=_invert)
