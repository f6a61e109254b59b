"""Plot one sample of a data-set file as a PNG (``sciml data show``)."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from sciml.datasets.storage import read_meta
from sciml.io import check_out_path

__all__ = ["show_sample"]


#: picture formats ``show_sample`` writes (the suffix of ``out`` picks one)
FORMATS = (".png", ".pdf", ".svg", ".jpg", ".jpeg")
#: at most this many input channels are drawn (one panel each)
MAX_INPUT_PANELS = 4


def show_sample(path: str | Path, index: int, out: str | Path, *, overwrite: bool = False) -> Path:
    """Plot input and output channels of sample ``index`` (a seismic gather as an image).

    ``out`` must end in one of :data:`FORMATS`; an existing ``out`` is replaced only with
    ``overwrite=True``. Everything is checked before anything is drawn.
    """
    # heavy optional dependency (matplotlib): loaded when first used
    import matplotlib

    matplotlib.use("Agg")
    # heavy optional dependency (matplotlib): loaded when first used
    import matplotlib.pyplot as plt

    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise ValueError(
            f"out: {str(out)!r} must end in a picture extension {'/'.join(FORMATS)} "
            "(it picks the format)"
        )
    check_out_path(out, overwrite=overwrite, what="out:")
    if not out.parent.exists():
        raise FileNotFoundError(f"out: folder {out.parent} does not exist")
    meta = read_meta(path)
    n = meta["arrays"]["inputs"]["shape"][0]
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < n:
        raise ValueError(f"index must lie in [0, {n}), got {index}")
    with h5py.File(path, "r") as f:
        x, y = f["inputs"][index][:MAX_INPUT_PANELS], f["outputs"][index]
    names_in = meta.get("input_names") or []
    names_out = meta.get("output_names") or []
    panels = [
        (f"input: {names_in[i] if i < len(names_in) else f'input{i}'}", x[i]) for i in range(len(x))
    ]
    # time series: show the first, middle and last frames
    picks = sorted({0, len(y) // 2, len(y) - 1}) if len(y) > 3 else range(len(y))
    panels += [(f"output: {names_out[i] if i < len(names_out) else i}", y[i]) for i in picks]
    fig, axs = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.4), squeeze=False)
    for ax, (title, data) in zip(axs[0], panels):
        if data.ndim == 1:
            ax.plot(data)
        else:
            data2 = data if data.ndim == 2 else data[..., data.shape[-1] // 2]
            seismic = "gather" in title or "seismic" in str(meta.get("recipe", ""))
            cmap = "gray" if seismic and "output" in title else "viridis"
            vmax = np.percentile(np.abs(data2), 99) if cmap == "gray" else None
            im = ax.imshow(
                data2.T if not seismic else data2, origin="lower" if not seismic else "upper",
                cmap=cmap, aspect="auto", vmin=-vmax if vmax else None, vmax=vmax,
            )  # fmt: skip
            fig.colorbar(im, ax=ax, shrink=0.8)
        ax.set_title(title, fontsize=9)
    fig.suptitle(f"{meta.get('recipe', Path(path).name)} sample {index}")
    fig.tight_layout()
    # write beside the target and rename: a killed run never leaves half a picture at ``out``
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.tmp{out.suffix}")
    try:
        fig.savefig(tmp, dpi=100)
        os.replace(tmp, out)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)
    return out
