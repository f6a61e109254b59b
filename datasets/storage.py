"""The HDF5 schema of sciml data sets.

::

    /inputs    float32 [N, C_in, *S]    chunked one sample per chunk, lzf-compressed
    /outputs   float32 [N, C_out, *S]   (seismic recipes: gathers [N, sources, time, receivers])
    /seeds     int64 [N]                the seed of every sample
    /done      bool [N]                 finished samples (resumable generation)
    /extras/<name>  [N, ...]            recipe-specific arrays (e.g. solution on the mesh nodes)
    /mesh/{points,cells}                one mesh shared by all samples (FEniCSx recipes)
    /meshes/<i>/{points,cells,<values>} per-sample meshes (e.g. elasticity-holes)
    attrs: schema, recipe, recipe_version, params (JSON), base_seed, n, grid (JSON of
           Grid.to_dict()), input_names, output_names (JSON), versions (JSON), created,
           complete (bool)

A file being generated is written as ``<out>.partial`` and renamed to ``<out>`` only when
every sample is done, so a file at ``<out>`` always reads as complete.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sciml.grid import Grid

__all__ = [
    "SCHEMA_VERSION",
    "partial_path",
    "create",
    "check_matches",
    "write_batch",
    "finalize",
    "read_meta",
    "software_versions",
]

SCHEMA_VERSION = 1


def partial_path(out: Path) -> Path:
    return out.with_name(out.name + ".partial")


def software_versions() -> dict[str, str]:
    import torch

    import sciml

    versions = {
        "sciml": sciml.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "h5py": h5py.__version__,
    }
    for mod in ("dolfinx", "deepwave", "scipy"):
        try:
            if mod == "dolfinx":
                import dolfinx_solver  # noqa: F401
            versions[mod] = __import__(mod).__version__
        except ImportError:
            pass
    return versions


def create(
    path: Path,
    *,
    recipe: Any,
    params: dict,
    n: int,
    base_seed: int,
    seeds: np.ndarray,
    grid: Grid,
    shapes: tuple[tuple[int, ...], tuple[int, ...]],
) -> h5py.File:
    """Create a new (partial) file with every dataset allocated and nothing done.

    ``shapes``: per-sample shapes of inputs and outputs (``[C, *grid.shape]`` for most
    recipes; seismic outputs are gathers ``[sources, time, receivers]``).
    """
    f = h5py.File(path, "w")
    for name, shape in zip(("inputs", "outputs"), shapes):
        f.create_dataset(
            name,
            shape=(n, *shape),
            dtype="float32",
            chunks=(1, *shape),
            compression="lzf",
            shuffle=True,
        )
    f.create_dataset("seeds", data=seeds.astype(np.int64))
    f.create_dataset("done", data=np.zeros(n, dtype=bool))
    f.attrs.update(
        {
            "schema": SCHEMA_VERSION,
            "recipe": recipe.name,
            "recipe_version": recipe.version,
            "params": json.dumps(params, sort_keys=True),
            "base_seed": int(base_seed),
            "n": int(n),
            "grid": json.dumps(grid.to_dict()),
            "input_names": json.dumps(list(recipe.input_names)),
            "output_names": json.dumps(list(recipe.output_names)),
            "versions": json.dumps(software_versions()),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "complete": False,
        }
    )
    f.flush()
    return f


def check_matches(f: h5py.File, path: Path, *, recipe: Any, params: dict, n: int, base_seed: int):
    """Raise ValueError unless the file at ``path`` was made by the same recipe/params/n/seed."""
    a = f.attrs
    expected = {
        "recipe": recipe.name,
        "recipe_version": recipe.version,
        "params": json.dumps(params, sort_keys=True),
        "n": n,
        "base_seed": base_seed,
    }
    for key, value in expected.items():
        have = a.get(key)
        have = have.item() if isinstance(have, np.generic) else have
        if have != value:
            raise ValueError(
                f"out: {path} was made with {key}={have!r}, not {value!r}; it is left untouched "
                "(choose another --out, or pass --overwrite to replace it)"
            )


def write_batch(f: h5py.File, indices: np.ndarray, batch) -> None:
    """Store one batch (a contiguous index range) and mark it done, then flush: a kill loses
    at most this batch."""
    lo, hi = int(indices[0]), int(indices[-1]) + 1
    if hi - lo != len(indices):
        raise ValueError(f"indices must be a contiguous range, got {indices}")
    for name, arr in (("inputs", batch.inputs), ("outputs", batch.outputs)):
        expected = (len(indices), *f[name].shape[1:])
        if arr.shape != expected:
            raise ValueError(f"recipe returned {name} of shape {arr.shape}, expected {expected}")
        if not np.isfinite(arr).all():
            raise ValueError(f"recipe returned non-finite {name} for samples {lo}..{hi - 1}")
        f[name][lo:hi] = arr.astype(np.float32)
    for name, arr in batch.extras.items():
        key = f"extras/{name}"
        if key not in f:
            n = f["done"].shape[0]
            f.create_dataset(
                key, shape=(n, *arr.shape[1:]), dtype=arr.dtype,
                chunks=(1, *arr.shape[1:]), compression="lzf",
            )  # fmt: skip
        f[key][lo:hi] = arr
    if batch.shared_mesh is not None and "mesh" not in f:
        g = f.create_group("mesh")
        for name, arr in batch.shared_mesh.items():
            g.create_dataset(name, data=arr, compression="lzf")
    for j, mesh in enumerate(batch.meshes or []):
        key = f"meshes/{int(indices[j])}"
        if key in f:
            del f[key]
        g = f.create_group(key)
        for name, arr in mesh.items():
            g.create_dataset(name, data=arr, compression="lzf")
    f["done"][lo:hi] = True
    f.flush()


def finalize(f: h5py.File, partial: Path, out: Path) -> None:
    f.attrs["complete"] = True
    f.attrs["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    f.flush()
    f.close()
    os.replace(partial, out)


def read_meta(path: str | Path) -> dict:
    """Attributes and array shapes of a data-set file (JSON fields decoded)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"path: data file {path} does not exist")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise ValueError(f"path: {path} is not a readable HDF5 file ({exc})") from None
    with f:
        if "inputs" not in f or "outputs" not in f:
            raise ValueError(f"path: {path} is not a sciml data set (no /inputs and /outputs)")
        meta: dict[str, Any] = {}
        for key, value in f.attrs.items():
            value = value.item() if isinstance(value, np.generic) else value
            if key in ("params", "grid", "versions", "input_names", "output_names"):
                value = json.loads(value)
            meta[key] = value
        meta["arrays"] = {
            name: {"shape": list(f[name].shape), "dtype": str(f[name].dtype)}
            for name in ("inputs", "outputs", "seeds", "done")
            if name in f
        }
        if "extras" in f:
            for name in f["extras"]:
                ds = f["extras"][name]
                meta["arrays"][f"extras/{name}"] = {"shape": list(ds.shape), "dtype": str(ds.dtype)}
        meta["samples_done"] = int(f["done"][...].sum()) if "done" in f else None
    return meta
