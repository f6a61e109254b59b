"""Plot one sample of a data-set file as a PNG (``sciml data show``)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from sciml.datasets.storage import read_meta

__all__ = ["show_sample"]


def show_sample(path: str | Path, index: int, out: str | Path) -> Path:
    """Plot input and output channels of sample ``index`` (a seismic gather as an image)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    meta = read_meta(path)
    n = meta["arrays"]["inputs"]["shape"][0]
    if not 0 <= index < n:
        raise ValueError(f"index must lie in [0, {n}), got {index}")
    out = Path(out)
    if not out.parent.exists():
        raise FileNotFoundError(f"out: folder {out.parent} does not exist")
    with h5py.File(path, "r") as f:
        x, y = f["inputs"][index], f["outputs"][index]
    names_in = meta.get("input_names") or [f"input{i}" for i in range(len(x))]
    names_out = meta.get("output_names") or [f"output{i}" for i in range(len(y))]
    panels = [(f"input: {names_in[i]}", x[i]) for i in range(len(x))]
    # time series: show the first, middle and last frames
    picks = sorted({0, len(y) // 2, len(y) - 1}) if len(y) > 3 else range(len(y))
    panels += [(f"output: {names_out[i] if i < len(names_out) else i}", y[i]) for i in picks]
    fig, axs = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.4), squeeze=False)
    for ax, (title, data) in zip(axs[0], panels):
        if data.ndim == 1:
            ax.plot(data)
        else:
            data2 = data if data.ndim == 2 else data[..., data.shape[-1] // 2]
            seismic = "gather" in title or "seismic" in meta.get("recipe", "")
            cmap = "gray" if seismic and "output" in title else "viridis"
            vmax = np.percentile(np.abs(data2), 99) if cmap == "gray" else None
            im = ax.imshow(
                data2.T if not seismic else data2, origin="lower" if not seismic else "upper",
                cmap=cmap, aspect="auto", vmin=-vmax if vmax else None, vmax=vmax,
            )  # fmt: skip
            fig.colorbar(im, ax=ax, shrink=0.8)
        ax.set_title(title, fontsize=9)
    fig.suptitle(f"{meta.get('recipe')} sample {index}")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
