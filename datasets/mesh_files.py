"""The mesh part of sciml data files: per-sample meshes with nodal fields.

A *mesh data set* is an ordinary sciml data file (:mod:`sciml.datasets.storage`: grid
``/inputs`` and ``/outputs`` for grid operators, seeds, provenance) that also holds, for every
sample ``i``::

    /meshes/<i>/points   float [N_i, d]      node coordinates (N_i varies per sample)
    /meshes/<i>/cells    int   [M_i, k]      cells (meshio/VTK order)
    /meshes/<i>/<field>  float [N_i] or [N_i, c]   nodal fields
    attrs: mesh_fields = JSON {"cell_type": ..., "inputs": [names], "outputs": [names]}

``mesh_fields`` says which nodal fields are the operator's inputs (none: the geometry is the
input) and outputs. Files written before the attribute existed (``elasticity-holes``) take it
from their recipe's class attributes (:attr:`~sciml.datasets.recipe.Recipe.mesh_output_names`).

:func:`read_mesh_samples` reads samples as :class:`~sciml.datasets.mesh_sample.MeshSample`;
:func:`write_mesh_dataset` writes a user's own meshes and fields (FEniCSx results, say) as a
complete data file, with the grid arrays made by :func:`~sciml.datasets.mesh_grid.nodal_to_grid`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sciml.datasets.mesh_grid import bounding_grid, nodal_to_grid
from sciml.datasets.mesh_sample import MeshSample
from sciml.datasets.recipes import get_recipe, recipe_names
from sciml.datasets.storage import (
    SCHEMA_VERSION,
    check_layout,
    open_data_file,
    software_versions,
)
from sciml.grid import Grid
from sciml.io import FileFormatError

__all__ = [
    "MESH_ATTR",
    "mesh_fields",
    "read_mesh_samples",
    "write_mesh_dataset",
    "mesh_group_fields",
]

#: the file attribute declaring the nodal input and output fields
MESH_ATTR = "mesh_fields"


def mesh_group_fields(cell_type: str, inputs: Sequence[str], outputs: Sequence[str]) -> str:
    """The JSON text of the :data:`MESH_ATTR` attribute."""
    return json.dumps({"cell_type": cell_type, "inputs": list(inputs), "outputs": list(outputs)})


def mesh_fields(meta: dict[str, Any]) -> dict[str, Any] | None:
    """``{"cell_type", "inputs", "outputs"}`` of a data file (its decoded attributes), or
    ``None`` when the file holds no per-sample mesh fields."""
    spec = meta.get(MESH_ATTR)
    if isinstance(spec, (str, bytes)):
        try:
            spec = json.loads(spec)
        except json.JSONDecodeError:
            spec = "bad"
        if not (
            isinstance(spec, dict)
            and isinstance(spec.get("inputs"), list)
            and isinstance(spec.get("outputs"), list)
            and spec["outputs"]
        ):
            raise FileFormatError(
                f"attribute {MESH_ATTR!r} must be JSON {{'cell_type', 'inputs': [...], "
                "'outputs': [...]}} with at least one output"
            )
        spec.setdefault("cell_type", "triangle")
        return spec
    recipe = meta.get("recipe")
    if recipe in recipe_names():
        rec = get_recipe(recipe)
        if rec.mesh_output_names:
            return {
                "cell_type": rec.mesh_cell_type,
                "inputs": list(rec.mesh_input_names),
                "outputs": list(rec.mesh_output_names),
            }
    return None


def _where(path: Path) -> str:
    return f"data file {str(path)!r}"


def _field(g: h5py.Group, name: str, n: int, path: Path, i: int) -> np.ndarray:
    if name not in g or not isinstance(g[name], h5py.Dataset):
        raise FileFormatError(f"{_where(path)}: /meshes/{i} has no nodal field {name!r}")
    arr = np.asarray(g[name][...], dtype=np.float64)
    if arr.ndim == 2 and arr.shape[0] == n:  # [N, c] (vector fields) -> [c, N]
        return arr.T
    return arr


def read_mesh_samples(
    path: str | Path, indices: Sequence[int] | np.ndarray | None = None
) -> tuple[list[MeshSample], dict[str, Any]]:
    """Read the mesh samples ``indices`` (default all) of a complete data file.

    Returns ``(samples, meta)``: the :class:`MeshSample` list (inputs and outputs as declared
    by :func:`mesh_fields`) and the file's decoded attributes with ``mesh_fields`` added.
    A bad sample (NaN coordinates, no cells, a nodal field of the wrong length) is a
    ``ValueError`` naming the file, the sample and the argument.
    """
    path = Path(path)
    with open_data_file(path) as f:
        meta = check_layout(f, path)
        if meta.get("complete") is not None and not bool(meta["complete"]):
            raise ValueError(
                f"{_where(path)} is not complete (generation unfinished); rerun the generate "
                "command to finish it"
            )
        spec = mesh_fields(meta)
        if spec is None:
            raise ValueError(
                f"data: {_where(path)} holds no per-sample meshes (/meshes/<i> with a "
                f"{MESH_ATTR!r} attribute); mesh operators train on mesh recipes "
                "(elasticity-holes, stokes-pipe, darcy-holes) or files written by "
                "sciml.datasets.write_mesh_dataset"
            )
        n_total = f["inputs"].shape[0]
        idx = np.arange(n_total) if indices is None else np.asarray(indices, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= n_total):
            raise ValueError(f"indices must lie in [0, {n_total}), got {idx.tolist()}")
        samples = []
        for i in idx.tolist():
            key = f"meshes/{i}"
            if key not in f or not isinstance(f[key], h5py.Group):
                raise FileFormatError(f"{_where(path)}: no mesh group /meshes/{i}")
            g = f[key]
            for name in ("points", "cells"):
                if name not in g:
                    raise FileFormatError(f"{_where(path)}: /meshes/{i} has no {name!r} array")
            points, cells = g["points"][...], g["cells"][...]
            n = len(points)
            try:
                inputs = [_field(g, name, n, path, i) for name in spec["inputs"]]
                outputs = [_field(g, name, n, path, i) for name in spec["outputs"]]
                samples.append(
                    MeshSample(
                        points,
                        cells,
                        spec["cell_type"],
                        np.concatenate([np.atleast_2d(a) for a in inputs]) if inputs else None,
                        np.concatenate([np.atleast_2d(a) for a in outputs]),
                    )
                )
            except FileFormatError:
                raise
            except ValueError as exc:
                raise ValueError(f"{_where(path)}, sample {i} (/meshes/{i}): {exc}") from None
    meta[MESH_ATTR] = spec
    return samples, meta


def write_mesh_dataset(
    path: str | Path,
    samples: Sequence[MeshSample],
    *,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    grid: Grid | None = None,
    resolution: int = 32,
    recipe: str = "user-meshes",
    params: dict | None = None,
) -> Path:
    """Write ``samples`` (each with outputs) as a complete sciml mesh data file at ``path``.

    Nodal fields are stored one per channel under ``input_names`` / ``output_names`` (default
    ``input_0, ...`` and ``output_0, ...``); the grid arrays for grid operators are
    :func:`~sciml.datasets.mesh_grid.nodal_to_grid` on ``grid`` (default: the bounding box of
    all samples, ``resolution`` points per axis). Written to a temporary name and renamed, so
    ``path`` never holds a half-written file. Returns ``path``.
    """
    path = Path(path)
    samples = list(samples)
    if not samples:
        raise ValueError("samples: need at least one mesh sample")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"path: folder {path.parent} does not exist")
    first = samples[0]
    for i, s in enumerate(samples):
        if not isinstance(s, MeshSample):
            raise TypeError(f"samples[{i}] must be a MeshSample, got {type(s).__name__}")
        if s.outputs is None:
            raise ValueError(f"samples[{i}] has no outputs (a data set needs them)")
        if (s.in_channels, s.out_channels, s.coord_dim, s.cell_type) != (
            first.in_channels,
            first.out_channels,
            first.coord_dim,
            first.cell_type,
        ):
            raise ValueError(
                f"samples[{i}]: every sample needs the channels, dimension and cell type of "
                "sample 0"
            )
    ins = list(input_names or [f"input_{c}" for c in range(first.in_channels)])
    outs = list(output_names or [f"output_{c}" for c in range(first.out_channels)])
    if len(ins) != first.in_channels or len(outs) != first.out_channels:
        raise ValueError(
            f"input_names/output_names: need {first.in_channels} and {first.out_channels} "
            f"names, got {ins} and {outs}"
        )
    grid = grid if grid is not None else bounding_grid(samples, resolution)
    pairs = [nodal_to_grid(s, grid) for s in samples]
    tmp = path.with_name(f".{path.name}.{time.time_ns()}.tmp")
    try:
        with h5py.File(tmp, "w") as f:
            f["inputs"] = np.stack([x for x, _ in pairs])
            f["outputs"] = np.stack([y for _, y in pairs])
            f["seeds"] = np.arange(len(samples), dtype=np.int64)
            f["done"] = np.ones(len(samples), dtype=bool)
            for i, s in enumerate(samples):
                g = f.create_group(f"meshes/{i}")
                g["points"], g["cells"] = s.points, s.cells
                for name, values in zip(ins, s.inputs):
                    g[name] = values
                for name, values in zip(outs, s.outputs):
                    g[name] = values
            f.attrs.update(
                {
                    "schema": SCHEMA_VERSION,
                    "recipe": recipe,
                    "params": json.dumps(params or {}, sort_keys=True),
                    "n": len(samples),
                    "grid": json.dumps(grid.to_dict()),
                    "input_names": json.dumps(["mask", *ins]),
                    "output_names": json.dumps(outs),
                    "versions": json.dumps(software_versions()),
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "complete": True,
                    MESH_ATTR: mesh_group_fields(first.cell_type, ins, outs),
                }
            )
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
