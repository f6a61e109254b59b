"""Figure of a GP-HM solve: solution, pointwise error and learned spectrum (one PNG)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from sciml.solvers.gp.model import KroneckerGPSolver

__all__ = ["plot_gp_solution"]


@torch.no_grad()
def plot_gp_solution(
    model: KroneckerGPSolver,
    path: str | Path,
    *,
    exact: Callable[[torch.Tensor], torch.Tensor] | None = None,
    true_frequencies: dict[str, Sequence[float]] | None = None,
    title: str = "",
    resolution: int = 1000,
) -> Path:
    """Write a PNG with three panels: the GP solution (and the exact one), the pointwise error
    ``|u - u_exact|`` and the learned power spectrum of every axis (true frequencies marked).

    1-D grids are drawn as curves on ``resolution`` points, 2-D grids as images on a grid with
    up to ``min(resolution, 300)`` points per axis. Returns the path.
    """
    # heavy optional dependency (matplotlib): loaded when first used
    import matplotlib

    matplotlib.use("Agg")
    # heavy optional dependency (matplotlib): loaded when first used
    import matplotlib.pyplot as plt

    grid = model.grid
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    if grid.ndim == 1:
        fine = grid.with_shape((resolution,))
        x = fine.axes(dtype=torch.float64)[0]
        pred = model.predict(fine.points(dtype=torch.float64)).cpu()
        axes[0].plot(x, pred, lw=1.0, label="GP-HM")
        if exact is not None:
            ref = exact(fine.points(dtype=torch.float64))
            axes[0].plot(x, ref, "--", lw=0.8, label="exact")
            axes[1].semilogy(x, (pred - ref).abs().clamp_min(1e-16), lw=0.8)
        axes[0].legend(loc="upper right")
        axes[0].set_xlabel(model.letters[0])
    else:
        m = min(resolution, 300)
        fine = grid.with_shape((m,) * 2 + grid.shape[2:])
        coords = fine.axes(dtype=torch.float64)
        if grid.ndim > 2:  # the middle slice of the last axes
            coords = coords[:2] + [a[len(a) // 2 : len(a) // 2 + 1] for a in coords[2:]]
        pred = model.predict_axes(coords).cpu().reshape(m, m)
        extent = [*grid.bounds[1], *grid.bounds[0]]
        im = axes[0].imshow(pred, origin="lower", extent=extent, aspect="auto", cmap="RdBu_r")
        fig.colorbar(im, ax=axes[0])
        axes[0].set_xlabel(model.letters[1])
        axes[0].set_ylabel(model.letters[0])
        if exact is not None:
            pts = torch.cartesian_prod(*coords).reshape(-1, grid.ndim)
            ref = exact(pts).reshape(m, m)
            err = (pred - ref).abs().clamp_min(1e-16).log10()
            im = axes[1].imshow(err, origin="lower", extent=extent, aspect="auto", cmap="magma")
            fig.colorbar(im, ax=axes[1], label="log10 |error|")
    axes[0].set_title("solution")
    axes[1].set_title("pointwise error")
    smax = 1e-300
    for d, letter in enumerate(model.letters):
        kern = model.kernels[d]
        top = max(float(kern.frequencies.abs().max()) * 1.3, 1.0)
        s = torch.linspace(0.0, top, 4000, dtype=torch.float64)
        spec = model.spectrum(d, s).cpu().clamp_min(1e-300)
        smax = max(smax, float(spec.max()))
        line = axes[2].semilogy(s, spec, lw=1.0, label=f"axis {letter}")[0]
        for f in (true_frequencies or {}).get(letter, []):
            axes[2].axvline(f, color=line.get_color(), ls=":", lw=0.8)
    axes[2].set_ylim(smax * 1e-8, smax * 3)  # eight decades below the highest peak
    axes[2].set_xlabel("frequency (cycles per unit)")
    axes[2].set_title("learned spectrum (dotted: true frequencies)")
    axes[2].legend(loc="upper right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
