"""What ``sciml eval`` does for runs on mesh data: per-sample errors on the mesh nodes and PNGs
drawn on the meshes (matplotlib ``tripcolor``).

* a **mesh operator** (``geo-lsm``, ``transolver``, ``gino``) is evaluated on the per-sample
  meshes of the data file (:func:`eval_mesh_model`);
* a **grid operator** trained on the grid arrays of a mesh data file (FNO on the resampled
  grid: the grid baseline) is also scored back on the mesh nodes: its grid prediction is
  interpolated to every node and compared with the nodal truth (:func:`grid_scores_on_nodes`).

Errors are relative L2 per sample over its nodes and all output channels, as in training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciml.datasets.mesh_grid import grid_to_nodes
from sciml.datasets.mesh_sample import MeshSample
from sciml.datasets.point_batch import pad_point_sets
from sciml.grid import Grid
from sciml.operators.mesh.mesh_operator import MeshOperator
from sciml.operators.mesh.mesh_task import evaluate_mesh, predict_mesh
from sciml.train.losses import relative_l2

__all__ = [
    "check_mesh_fits",
    "eval_mesh_model",
    "grid_scores_on_nodes",
    "plot_mesh_samples",
    "summary_rows",
]


def check_mesh_fits(model: MeshOperator, samples: list[MeshSample], model_path, data) -> None:
    """``ValueError`` naming the data file unless its samples fit the mesh model: coordinate
    dimension (``points``), input and output channels."""
    first = samples[0]
    want = {
        "points": (model.coord_dim, first.coord_dim, "-D points"),
        "inputs": (model.in_channels, first.in_channels, " nodal input channel(s)"),
        "outputs": (model.out_channels, first.out_channels, " nodal output channel(s)"),
    }
    for arg, (expected, got, what) in want.items():
        if expected != got:
            raise ValueError(
                f"{arg}: data file {str(data)!r} does not fit the model {str(model_path)!r}: the "
                f"model was trained on {expected}{what}, the data have {got}{what}"
            )


def summary_rows(errs: torch.Tensor) -> dict[str, float]:
    """Mean, std, median and max of per-sample errors."""
    return {
        "rel_l2_mean": float(errs.mean()),
        "rel_l2_std": float(errs.std()) if errs.numel() > 1 else 0.0,
        "rel_l2_median": float(errs.median()),
        "rel_l2_max": float(errs.max()),
    }


def eval_mesh_model(
    model: MeshOperator,
    samples: list[MeshSample],
    indices: list[int],
    *,
    device: torch.device,
    out: Path | None = None,
    plots: bool = True,
) -> dict[str, Any]:
    """Per-sample relative L2 of ``model`` on ``samples`` (file indices ``indices``); with
    ``out`` and ``plots`` also ``error_histogram.png`` and ``samples.png`` on the meshes."""
    batch = pad_point_sets(samples)
    errs = evaluate_mesh(model, batch, device=device)
    result: dict[str, Any] = {"n": int(errs.numel()), **summary_rows(errs)}
    result["per_sample"] = [
        {"index": int(i), "nodes": s.num_points, "rel_l2": float(e)}
        for i, s, e in zip(indices, samples, errs.tolist())
    ]
    if out is not None and plots:
        pred = predict_mesh(model, batch, device=device)
        preds = [pred[i, :, : s.num_points].numpy() for i, s in enumerate(samples)]
        plot_mesh_samples(out, samples, preds, errs)
    return result


def grid_scores_on_nodes(pred: torch.Tensor, grid: Grid, samples: list[MeshSample]) -> torch.Tensor:
    """Relative L2 per sample of grid predictions ``[n, C, *grid.shape]`` interpolated to the
    nodes of ``samples`` (multilinear), against their nodal outputs."""
    errs = []
    for p, s in zip(pred, samples):
        at_nodes = grid_to_nodes(p[None].double(), grid, s.points)[0]
        truth = torch.as_tensor(s.outputs, dtype=torch.float64)
        errs.append(relative_l2(at_nodes[None], truth[None]))
    return torch.stack(errs)


def _scalar(values: np.ndarray) -> tuple[np.ndarray, str]:
    """One nodal field to draw: the channel itself, or the magnitude of several."""
    if values.shape[0] == 1:
        return values[0], ""
    return np.linalg.norm(values, axis=0), " (magnitude)"


def plot_mesh_samples(
    out: Path, samples: list[MeshSample], preds: list[np.ndarray], errs: torch.Tensor
) -> None:
    """``error_histogram.png`` and ``samples.png``: best, median and worst sample drawn on
    their meshes (prediction, truth, error; ``tripcolor`` of the nodal values, 3-D meshes as
    nodes seen from above)."""
    # heavy optional dependency (matplotlib): loaded when first used
    import matplotlib

    matplotlib.use("Agg")
    # heavy optional dependency (matplotlib): loaded when first used
    import matplotlib.pyplot as plt

    out = Path(out)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.hist(errs.numpy(), bins=min(30, max(5, errs.numel() // 3)), color="tab:blue")
    ax.axvline(float(errs.mean()), color="k", ls="--", label=f"mean {float(errs.mean()):.3g}")
    ax.set_xlabel("relative L2 error per sample (mesh nodes)")
    ax.set_ylabel("samples")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "error_histogram.png", dpi=110)
    plt.close(fig)

    order = torch.argsort(errs)
    picks = [("best", order[0]), ("median", order[len(order) // 2]), ("worst", order[-1])]
    fig, axs = plt.subplots(len(picks), 3, figsize=(12, 3.4 * len(picks)), squeeze=False)
    for row, (label, i) in enumerate(picks):
        s = samples[int(i)]
        p, what = _scalar(preds[int(i)])
        t, _ = _scalar(s.outputs)
        e = p - t
        lim = (min(p.min(), t.min()), max(p.max(), t.max()))
        for col, (vals, title) in enumerate(((p, "prediction"), (t, "truth"), (e, "error"))):
            ax = axs[row, col]
            vmin, vmax = lim if col < 2 else (-np.abs(e).max(), np.abs(e).max())
            cmap = "viridis" if col < 2 else "RdBu_r"
            if s.coord_dim == 2:
                tri = s.mesh.simplices()
                im = ax.tripcolor(s.points[:, 0], s.points[:, 1], tri, vals, shading="gouraud",
                                  cmap=cmap, vmin=vmin, vmax=vmax)  # fmt: skip
            else:
                im = ax.scatter(s.points[:, 0], s.points[:, 1], c=vals, s=4, cmap=cmap,
                                vmin=vmin, vmax=vmax)  # fmt: skip
            fig.colorbar(im, ax=ax, shrink=0.8)
            ax.set_aspect("equal")
            name = f"{title}{what}" if col < 2 else f"error{what}"
            ax.set_title(f"{label} ({float(errs[i]):.3g}): {name}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(out / "samples.png", dpi=100)
    plt.close(fig)
