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
import os
import time
from pathlib import Path

import h5py
import numpy as np
import torch

from sciml.datasets import storage
from sciml.grid import Grid
from sciml.io import FileFormatError, check_fields, check_out_path, safe_torch_load

__all__ = ["FORMATS", "read_neuralop_pt", "read_pdebench", "import_file"]


def _check(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"path: {str(path)!r} does not exist")
    if not path.is_file():
        raise FileFormatError(f"path: {str(path)!r} is not a file")
    return path


def _finite(path: Path, name: str, arr: np.ndarray) -> np.ndarray:
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise FileFormatError(
            f"path: {str(path)!r}: {name} holds {bad} non-finite value(s) (NaN or inf)"
        )
    return arr


def read_neuralop_pt(path: str | Path) -> tuple[np.ndarray, np.ndarray, Grid]:
    """``(inputs [N, 1, *S], outputs [N, C, *S], grid)`` from a neuraloperator ``.pt`` file.

    The file is read with ``weights_only=True`` (no code runs) and must be a dict with tensors
    ``x: [N, *S]`` (1-3 spatial axes) and ``y: [N, *S]`` or ``[N, T, *S]``.
    """
    path = _check(path)
    data = safe_torch_load(path, what="neuraloperator file")
    check_fields(
        data, {"x": torch.Tensor, "y": torch.Tensor}, path=path, what="neuraloperator file"
    )
    x, y = data["x"], data["y"]
    for name, t in (("x", x), ("y", y)):
        if t.is_complex() or not (t.is_floating_point() or t.dtype in _INT_DTYPES):
            raise FileFormatError(
                f"neuraloperator file {str(path)!r}: field {name!r} has dtype {t.dtype}, "
                "expected real numbers"
            )
    if not 2 <= x.ndim <= 4:
        raise FileFormatError(
            f"neuraloperator file {str(path)!r}: field 'x' has shape {list(x.shape)}, expected "
            "[N, *S] with 1-3 spatial axes"
        )
    if not 2 <= y.ndim <= 5:
        raise FileFormatError(
            f"neuraloperator file {str(path)!r}: field 'y' has shape {list(y.shape)}, expected "
            "[N, *S] or [N, T, *S]"
        )
    if x.shape[0] != y.shape[0]:
        raise FileFormatError(
            f"neuraloperator file {str(path)!r}: field 'x' holds {x.shape[0]} samples but "
            f"'y' holds {y.shape[0]}"
        )
    if x.shape[0] == 0:
        raise FileFormatError(f"neuraloperator file {str(path)!r}: field 'x' holds no samples")
    if min(x.shape[1:]) < 2:
        raise FileFormatError(
            f"neuraloperator file {str(path)!r}: field 'x' has shape {list(x.shape)}; every "
            "spatial axis needs at least 2 points"
        )
    x = _finite(path, "field 'x'", x.float().numpy())
    y = _finite(path, "field 'y'", y.float().numpy())
    spatial = x.shape[1:]
    inputs = x[:, None]
    if y.shape[1:] == spatial:
        outputs = y[:, None]
    elif y.ndim == x.ndim + 1 and y.shape[2:] == spatial:
        outputs = y  # [N, T, *S]
    else:
        raise FileFormatError(
            f"neuraloperator file {str(path)!r}: field 'y' has shape {list(y.shape)}; with "
            f"'x' {list(x.shape)} expected {[x.shape[0], *spatial]} or "
            f"{[x.shape[0], 'T', *spatial]}"
        )
    return inputs, outputs, Grid(spatial)


_INT_DTYPES = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)


def _array(f: h5py.File, name: str, path: Path) -> np.ndarray:
    ds = f[name]
    if not isinstance(ds, h5py.Dataset) or ds.dtype.kind not in "fiu":
        raise FileFormatError(f"PDEBench file {str(path)!r}: {name!r} is not a numeric array")
    return ds[...]


def read_pdebench(path: str | Path) -> tuple[np.ndarray, np.ndarray, Grid]:
    """``(inputs, outputs, grid)`` from a PDEBench HDF5 file (Darcy or a time series).

    Darcy: ``nu [N, *S]`` and ``tensor [N, 1, *S]``; time series: ``tensor [N, T, *S]`` with
    ``T >= 2`` (input the first frame, output the rest); 1-3 spatial axes.
    """
    path = _check(path)
    where = f"PDEBench file {str(path)!r}"
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        reason = str(exc).split("(")[0].strip() or type(exc).__name__
        raise FileFormatError(f"{where} is not a readable HDF5 file ({reason})") from None
    with f:
        storage.check_self_contained(f, where)
        if "tensor" not in f:
            raise FileFormatError(f"{where} has no 'tensor' array (not a PDEBench file)")
        tensor = _array(f, "tensor", path).astype(np.float32)
        coords = [
            _array(f, k, path).astype(np.float64).reshape(-1)
            for k in ("x-coordinate", "y-coordinate", "z-coordinate")
            if k in f
        ]
        if "nu" in f:  # Darcy: coefficient -> solution
            nu = _array(f, "nu", path).astype(np.float32)
            if not 2 <= nu.ndim <= 4 or nu.shape[0] == 0:
                raise FileFormatError(
                    f"{where}: 'nu' has shape {list(nu.shape)}, expected [N, *S] with 1-3 "
                    "spatial axes"
                )
            per_sample = int(np.prod(nu.shape[1:]))
            if tensor.shape[0] != nu.shape[0] or tensor[0].size % per_sample:
                raise FileFormatError(
                    f"{where}: 'tensor' has shape {list(tensor.shape)}, expected [N, C, *S] "
                    f"with 'nu' {list(nu.shape)}"
                )
            inputs, outputs = nu[:, None], tensor.reshape(nu.shape[0], -1, *nu.shape[1:])
            in_name = "'nu'"
        else:  # time series [N, T, *S]
            if not 3 <= tensor.ndim <= 5 or tensor.shape[1] < 2 or tensor.shape[0] == 0:
                raise FileFormatError(
                    f"{where}: 'tensor' has shape {list(tensor.shape)}, expected [N, T, *S] "
                    "with T >= 2 frames and 1-3 spatial axes"
                )
            inputs, outputs = tensor[:, :1], tensor[:, 1:]
            in_name = "'tensor'"
    _finite(path, in_name, inputs)
    _finite(path, "'tensor'", outputs)
    spatial = inputs.shape[2:]
    if coords and len(coords) == len(spatial):
        # PDEBench stores cell centres, and its arrays are [.., y, x] for 2-D: reverse axes
        if len(spatial) > 1:
            coords = coords[::-1]
        bounds = []
        for axis, (c, n) in enumerate(zip(coords, spatial)):
            if len(c) != n:
                raise FileFormatError(
                    f"{where}: coordinate array {axis} has {len(c)} entries but the data have "
                    f"{n} points on that axis"
                )
            h = float(c[1] - c[0]) if len(c) > 1 else 1.0
            bounds.append((float(c[0]) - h / 2, float(c[-1]) + h / 2))
        try:
            grid = Grid(spatial, tuple(bounds), centering="cell")
        except ValueError as exc:
            raise FileFormatError(f"{where}: bad coordinate arrays ({exc})") from None
    else:
        grid = Grid(spatial, centering="cell")
    return inputs, outputs, grid


FORMATS = {"neuralop-pt": read_neuralop_pt, "pdebench": read_pdebench}


def import_file(path: str | Path, out: str | Path, *, fmt: str, overwrite: bool = False) -> Path:
    """Convert an outside file to a complete sciml data set at ``out``.

    ``out`` is checked before anything is read (an existing file is replaced only with
    ``overwrite=True``); the new file is written beside it and renamed into place, so a
    failure (full disk, kill) never leaves a half-written file at ``out``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt: unknown format {fmt!r}; known: {sorted(FORMATS)}")
    out = Path(out)
    check_out_path(out, overwrite=overwrite, what="out:")
    if not out.parent.exists():
        raise FileNotFoundError(f"out: folder {out.parent} does not exist")
    inputs, outputs, grid = FORMATS[fmt](path)
    n = inputs.shape[0]
    storage.ensure_space(out, inputs.nbytes + outputs.nbytes)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.import")
    try:
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
        os.replace(tmp, out)
    except OSError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OSError(exc.errno, f"out: could not write {str(out)!r} ({reason[:200]})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return out
