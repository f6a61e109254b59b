"""Readers for outside data formats users already have, converted to sciml's schema.

* ``neuralop-pt``: neuraloperator's ``.pt`` files (``{"x": [N, *S], "y": [N, *S]}`` for
  Darcy and Navier-Stokes, ``{"x": [N, X], "y": [N, T, X]}`` for Burgers).
* ``pdebench``: PDEBench HDF5 files: Darcy (``nu [N, H, W]``, ``tensor [N, 1, H, W]``) and
  single-field time series (``tensor [N, T, *S]``: input the first frame, output the rest),
  with ``x-coordinate``/``y-coordinate`` cell centres.

:func:`import_file` writes a complete sciml HDF5 file that :class:`GridDataset` reads.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import h5py
import numpy as np
import torch

from sciml.datasets import storage
from sciml.grid import Grid

__all__ = ["FORMATS", "read_neuralop_pt", "read_pdebench", "import_file"]


def _check(path: Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"path: {path} does not exist")
    return path


def read_neuralop_pt(path: str | Path) -> tuple[np.ndarray, np.ndarray, Grid]:
    """``(inputs [N, 1, *S], outputs [N, C, *S], grid)`` from a neuraloperator ``.pt`` file."""
    path = _check(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a bad file
        raise ValueError(f"path: cannot read {path} as a torch file ({exc})") from None
    if not isinstance(data, dict) or "x" not in data or "y" not in data:
        raise ValueError(f"path: {path} is not a neuraloperator file (needs keys 'x' and 'y')")
    x = torch.as_tensor(data["x"]).float().numpy()
    y = torch.as_tensor(data["y"]).float().numpy()
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"path: x has {x.shape[0]} samples but y has {y.shape[0]}")
    spatial = x.shape[1:]
    inputs = x[:, None]
    if y.shape[1:] == spatial:
        outputs = y[:, None]
    elif y.ndim == x.ndim + 1 and y.shape[2:] == spatial:
        outputs = y  # [N, T, *S]
    else:
        raise ValueError(f"path: unsupported shapes x {x.shape}, y {y.shape}")
    return inputs, outputs, Grid(spatial)


def read_pdebench(path: str | Path) -> tuple[np.ndarray, np.ndarray, Grid]:
    """``(inputs, outputs, grid)`` from a PDEBench HDF5 file (Darcy or a time series)."""
    path = _check(path)
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise ValueError(f"path: {path} is not a readable HDF5 file ({exc})") from None
    with f:
        if "tensor" not in f:
            raise ValueError(f"path: {path} is not a PDEBench file (no 'tensor' dataset)")
        tensor = f["tensor"][...].astype(np.float32)
        coords = [f[k][...] for k in ("x-coordinate", "y-coordinate", "z-coordinate") if k in f]
        if "nu" in f:  # Darcy: coefficient -> solution
            nu = f["nu"][...].astype(np.float32)
            inputs, outputs = nu[:, None], tensor.reshape(nu.shape[0], -1, *nu.shape[1:])
        else:  # time series [N, T, *S]
            inputs, outputs = tensor[:, :1], tensor[:, 1:]
    spatial = inputs.shape[2:]
    if coords and len(coords) == len(spatial):
        # PDEBench stores cell centres, and its arrays are [.., y, x] for 2-D: reverse axes
        if len(spatial) > 1:
            coords = coords[::-1]
        bounds = []
        for c in coords:
            h = float(c[1] - c[0]) if len(c) > 1 else 1.0
            bounds.append((float(c[0]) - h / 2, float(c[-1]) + h / 2))
        grid = Grid(spatial, tuple(bounds), centering="cell")
    else:
        grid = Grid(spatial, centering="cell")
    return inputs, outputs, grid


FORMATS = {"neuralop-pt": read_neuralop_pt, "pdebench": read_pdebench}


def import_file(path: str | Path, out: str | Path, *, fmt: str) -> Path:
    """Convert an outside file to a complete sciml data set at ``out``."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt: unknown format {fmt!r}; known: {sorted(FORMATS)}")
    inputs, outputs, grid = FORMATS[fmt](path)
    out = Path(out)
    if not out.parent.exists():
        raise FileNotFoundError(f"out: folder {out.parent} does not exist")
    n = inputs.shape[0]
    tmp = storage.partial_path(out)
    with h5py.File(tmp, "w") as f:
        for name, arr in (("inputs", inputs), ("outputs", outputs)):
            f.create_dataset(
                name, data=arr, chunks=(1, *arr.shape[1:]), compression="lzf", shuffle=True
            )
        f.create_dataset("seeds", data=np.arange(n, dtype=np.int64))
        f.create_dataset("done", data=np.ones(n, dtype=bool))
        f.attrs.update(
            {
                "schema": storage.SCHEMA_VERSION,
                "recipe": f"import:{fmt}",
                "recipe_version": 1,
                "params": json.dumps({"source": str(Path(path).resolve())}),
                "base_seed": 0,
                "n": n,
                "grid": json.dumps(grid.to_dict()),
                "input_names": json.dumps([f"input{i}" for i in range(inputs.shape[1])]),
                "output_names": json.dumps([f"output{i}" for i in range(outputs.shape[1])]),
                "versions": json.dumps(storage.software_versions()),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "complete": True,
            }
        )
    tmp.replace(out)
    return out
