"""`sciml quickstart`: the project's main job on small built-in defaults.

Step 1 (ground truth): a real FEniCSx solve of a manufactured Poisson problem on an
unstructured mesh, transferred to a Grid and checked against the exact solution.

Step 2 (neural operators): a small ``darcy-pwc`` data set (FEniCSx solves, seeded), then LSM
and neuraloperator's FNO trained for the same wall-clock budget with the same Trainer; the
comparison table (test relative L2 at the training resolution and, resampled with Grid, at
twice the resolution; parameters; epochs; samples/s; inference time) and plots.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from sciml.datasets import generate, split_indices
from sciml.grid import Grid
from sciml.io import check_out_dir
from sciml.mesh import Mesh
from sciml.operators.registry import build
from sciml.physics.fem import solve_scalar_elliptic
from sciml.train import TrainConfig, predict
from sciml.train.data import load_dataset_file
from sciml.workflows.compare import train_and_test
from sciml.workflows.runs import resolution_transfer
from sciml.workflows.tables import markdown_table


def fem_ground_truth(out: Path, n: int = 32, *, log: Callable[[str], None] = print) -> float:
    """Solve ``-Δu = f`` with ``u = sin(πx) sin(2πy)`` on a mesh; return the grid max error."""
    # heavy optional dependency (FEniCSx): loaded when first used
    import ufl

    def exact(x: ufl.SpatialCoordinate) -> ufl.core.expr.Expr:
        return ufl.sin(ufl.pi * x[0]) * ufl.sin(2 * ufl.pi * x[1])

    mesh = Mesh.rectangle(n, n)
    sol = solve_scalar_elliptic(mesh, forcing=lambda x: 5 * ufl.pi**2 * exact(x), degree=2)
    l2 = sol.l2_error(exact)
    grid_n = n + 1  # grid points on the mesh vertices: the transfer adds no interpolation error
    grid = Grid((grid_n, grid_n))
    u = sol.to_grid(grid)
    c = grid.coords(dtype=torch.float64).numpy()
    truth = np.sin(math.pi * c[0]) * np.sin(2 * math.pi * c[1])
    err = np.abs(u - truth).max()
    log(
        f"FEniCSx P2 Poisson on {mesh.num_cells} triangles: L2 error {l2:.3e}, "
        f"{sol.iterations} CG+GAMG iterations"
    )
    log(f"transferred to a {grid_n}x{grid_n} grid: max error vs exact {err:.3e}")
    _plot(out / "fem_poisson.png", grid, u, truth)
    log(f"wrote {out / 'fem_poisson.png'}")
    return float(err)


def _plot(path: Path, grid: Grid, u: np.ndarray, truth: np.ndarray) -> None:
    # heavy optional dependency (matplotlib): loaded when first used
    import matplotlib

    matplotlib.use("Agg")
    # heavy optional dependency (matplotlib): loaded when first used
    import matplotlib.pyplot as plt

    (x0, x1), (y0, y1) = grid.bounds
    fig, axs = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, data, title in zip(axs, (u, truth, u - truth), ("FEniCSx (on grid)", "exact", "error")):
        im = ax.imshow(data.T, origin="lower", extent=(x0, x1, y0, y1), cmap="RdBu_r")
        ax.set_title(title)
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def operator_demo(
    out: Path,
    *,
    n_samples: int = 200,
    n_test: int = 40,
    resolution: int = 33,
    budget: float = 45.0,
    device: str | None = None,
    log: Callable[[str], None] = print,
) -> list[dict]:
    """Darcy (``darcy-pwc``, FEniCSx) -> train LSM and FNO for the same wall-clock budget.

    Prints the comparison table (test relative L2, parameters, epochs, samples/s, inference
    time) and writes ``operators.md``, ``operators.json``, ``operators_samples.png`` and
    ``operators_curves.png`` into ``out``.
    """

    data = out / f"darcy-pwc-{resolution}-n{n_samples}.h5"
    if not data.exists():
        log(f"generating {n_samples} darcy-pwc samples at {resolution}x{resolution} (FEniCSx)")
        generate(
            "darcy-pwc",
            n_samples,
            data,
            params={"resolution": resolution, "store_mesh_values": False},
        )
    x, y, meta = load_dataset_file(data)
    tr, te = split_indices(x.shape[0], [x.shape[0] - n_test, n_test], seed=0)
    tr, te = torch.as_tensor(tr), torch.as_tensor(te)
    cfg = TrainConfig(epochs=100_000, batch_size=10, lr=2e-3, time_budget=budget, val_fraction=0.1)
    models = {
        "LSM": lambda: build(
            "lsm", in_channels=1, out_channels=1, width=16, heads=4, levels=3, patches=2
        ),
        "FNO": lambda: build("fno", in_channels=1, out_channels=1, width=32, modes=12),
    }
    rows = []
    for name, make in models.items():
        log(f"training {name} for {budget:.0f} s")
        rows.append(train_and_test(name, make, (x[tr], y[tr]), (x[te], y[te]), cfg, device=device))
    grid = Grid.from_dict(meta["grid"])
    fine = 2 * resolution - 1
    for r in rows:
        tf = resolution_transfer(r["operator"], x[te], y[te], grid, [fine], device=device)
        r["test_l2_fine"] = tf[0]["rel_l2"]
        r["infer_ms"] = 1e3 * r["infer_s_per_sample"]
    table = markdown_table(
        rows,
        [
            ("name", "model", ""),
            ("params", "parameters", ",d"),
            ("epochs", "epochs", "d"),
            ("train_time_s", "train s", ".0f"),
            ("samples_per_s", "samples/s", ".0f"),
            ("test_l2", f"test rel. L2 ({resolution}²)", ".4f"),
            ("test_l2_fine", f"at {fine}² (resampled)", ".4f"),
            ("infer_ms", "inference ms/sample", ".2f"),
        ],
    )
    header = (
        f"darcy-pwc {resolution}x{resolution}: {len(tr)} train / {len(te)} test samples, "
        f"{budget:.0f} s of training per model"
    )
    log(header)
    log(table)
    (out / "operators.md").write_text(f"{header}\n\n{table}\n")
    keep = ("name", "params", "epochs", "train_time_s", "samples_per_s", "test_l2")
    (out / "operators.json").write_text(
        json.dumps([{k: r[k] for k in keep + ("test_l2_fine", "infer_ms")} for r in rows], indent=2)
    )
    _plot_operators(out, rows, x[te], y[te])
    log(f"wrote {out / 'operators_samples.png'}, {out / 'operators_curves.png'}")
    return rows


def _plot_operators(out: Path, rows: list[dict], x: torch.Tensor, y: torch.Tensor) -> None:
    # heavy optional dependency (matplotlib): loaded when first used
    import matplotlib

    matplotlib.use("Agg")
    # heavy optional dependency (matplotlib): loaded when first used
    import matplotlib.pyplot as plt

    i = int(torch.argsort(rows[0]["test_errors"])[len(rows[0]["test_errors"]) // 2])
    preds = [predict(r["operator"], x[i : i + 1])[0, 0] for r in rows]
    fig, axs = plt.subplots(1, 2 + 2 * len(rows), figsize=(3.2 * (2 + 2 * len(rows)), 3.2))
    panels = [(x[i, 0], "coefficient a"), (y[i, 0], "FEniCSx u")]
    for r, p in zip(rows, preds):
        panels += [(p, f"{r['name']} prediction"), (p - y[i, 0], f"{r['name']} error")]
    for ax, (img, title) in zip(axs, panels):
        im = ax.imshow(img.numpy().T, origin="lower", cmap="RdBu_r")
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, shrink=0.75)
    fig.tight_layout()
    fig.savefig(out / "operators_samples.png", dpi=100)
    plt.close(fig)

    fig, axs = plt.subplots(1, 2, figsize=(10, 3.6))
    for r in rows:
        t = [h["train_time"] for h in r["history"]]
        axs[0].semilogy(t, [h["val_l2"] for h in r["history"]], label=r["name"])
        axs[1].hist(r["test_errors"].numpy(), bins=15, alpha=0.6, label=r["name"])
    axs[0].set_xlabel("training time [s]")
    axs[0].set_ylabel("validation relative L2")
    axs[1].set_xlabel("test relative L2 per sample")
    for ax in axs:
        ax.legend()
    fig.tight_layout()
    fig.savefig(out / "operators_curves.png", dpi=100)
    plt.close(fig)


#: the smallest data set the demo splits into train (with validation) and test
MIN_SAMPLES = 20


#: what a quickstart writes into its folder (an earlier run's are refused unless overwrite)
OUTPUTS = (
    "fem_poisson.png",
    "operators.md",
    "operators.json",
    "operators_samples.png",
    "operators_curves.png",
)


def fem_tolerance(n: int) -> float:
    """The bound on the grid max error of the P2 solve with ``n`` cells per side: the error
    falls like ``h^4`` at the vertices (measured 1.6e-2, 1.1e-3, 7.1e-5, 4.5e-6, 2.8e-7 at
    n = 4, 8, 16, 32, 64), so the bound is ``1.5e-5 (32 / n)^4`` (3-4x above the measured).

    >>> fem_tolerance(32)
    1.5e-05
    """
    return 1.5e-5 * (32 / n) ** 4


def run(
    out: str = "out/quickstart",
    n: int = 32,
    budget: float = 60.0,
    samples: int = 200,
    *,
    overwrite: bool = False,
    log: Callable[[str], None] = print,
) -> int:
    """The quickstart job: FEniCSx ground truth, then LSM vs FNO on ``samples`` Darcy samples
    for ``budget`` seconds each; plots and tables go to the folder ``out`` (checked first: an
    earlier run's results there are refused unless ``overwrite``). Lines go to ``log``."""

    if isinstance(n, bool) or not isinstance(n, int) or n < 4:
        raise ValueError(f"n must be an integer >= 4 (mesh cells per side), got {n!r}")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < MIN_SAMPLES:
        raise ValueError(
            f"samples must be an integer >= {MIN_SAMPLES} (an 80/20 train/test split with a "
            f"validation split carved from training), got {samples!r}"
        )
    if not (isinstance(budget, (int, float)) and math.isfinite(budget) and budget > 0):
        raise ValueError(f"budget must be a positive number of seconds, got {budget!r}")
    out_dir = check_out_dir(out, what="--out")
    old = [name for name in OUTPUTS if (out_dir / name).exists()]
    if old and not overwrite:
        raise FileExistsError(
            f"--out {str(out_dir)!r} holds an earlier quickstart's results ({', '.join(old)}); "
            "pass --overwrite to replace them"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    err = fem_ground_truth(out_dir, n=n, log=log)
    if not err < fem_tolerance(n):
        log(f"FEM ground truth error {err:.3e} is above its O(h^4) bound {fem_tolerance(n):.1e}")
        return 1
    rows = operator_demo(out_dir, n_samples=samples, n_test=samples // 5, budget=budget, log=log)
    best = min(rows, key=lambda r: r["test_l2"])
    log(f"best at equal wall clock: {best['name']} (test relative L2 {best['test_l2']:.4f})")
    return 0
