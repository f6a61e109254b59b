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
           complete (bool); mesh recipes also mesh_fields (JSON: which nodal fields of
           /meshes/<i> are inputs and outputs, see sciml.datasets.mesh_files)

A file being generated is written as ``<out>.partial`` and renamed to ``<out>`` only when
every sample is done, so a file at ``<out>`` always reads as complete.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np
import torch

import sciml
from sciml.grid import Grid
from sciml.io import FileFormatError

if TYPE_CHECKING:
    from sciml.datasets.recipe import Recipe, SampleBatch

__all__ = [
    "SCHEMA_VERSION",
    "partial_path",
    "create",
    "check_matches",
    "write_batch",
    "ensure_space",
    "finalize",
    "read_meta",
    "check_layout",
    "decode_attrs",
    "open_data_file",
    "software_versions",
]

SCHEMA_VERSION = 1


def partial_path(out: Path) -> Path:
    """The path ``<out>.partial`` a file is generated under until every sample is done."""
    return out.with_name(out.name + ".partial")


def software_versions() -> dict[str, str]:
    """Versions of sciml, Python and the numeric libraries, stored in every data file."""

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
    recipe: Recipe,
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
    if recipe.mesh_output_names:  # a mesh recipe: which nodal fields are inputs and outputs
        f.attrs["mesh_fields"] = json.dumps(
            {
                "cell_type": recipe.mesh_cell_type,
                "inputs": list(recipe.mesh_input_names),
                "outputs": list(recipe.mesh_output_names),
            }
        )
    f.flush()
    return f


def check_matches(
    f: h5py.File, path: Path, *, recipe: Recipe, params: dict, n: int, base_seed: int
) -> None:
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


#: free space kept in reserve for HDF5 metadata when checking a write (bytes)
SPACE_MARGIN = 1 << 20


def ensure_space(path: Path, nbytes: int) -> None:
    """Raise ``OSError(ENOSPC)`` naming ``path`` unless its disk has room for ``nbytes`` more.

    HDF5 cannot recover from a write that fails for lack of space (the library crashes when
    the file is flushed or closed afterwards), so sciml checks before every write instead:
    the uncompressed size plus 10 % and :data:`SPACE_MARGIN`, an upper bound of what lzf
    chunks and metadata take.
    """
    path = Path(path)
    free = shutil.disk_usage(path.parent if not path.is_dir() else path).free
    need = int(nbytes * 1.1) + SPACE_MARGIN
    if free < need:
        raise OSError(
            errno.ENOSPC,
            f"no space left on the disk of {str(path)!r} (the next write needs about "
            f"{need / 1e6:.2f} MB, {free / 1e6:.2f} MB are free); free some space and run the "
            "same command again: the finished samples are kept",
        )


def write_batch(f: h5py.File, indices: np.ndarray, batch: SampleBatch) -> None:
    """Store one batch (a contiguous index range) and mark it done, then flush: a kill loses
    at most this batch. Checks the free space first (:func:`ensure_space`)."""
    lo, hi = int(indices[0]), int(indices[-1]) + 1
    nbytes = batch.inputs.nbytes + batch.outputs.nbytes
    nbytes += sum(a.nbytes for a in batch.extras.values())
    nbytes += sum(a.nbytes for m in (batch.meshes or []) for a in m.values())
    if batch.shared_mesh is not None and "mesh" not in f:
        nbytes += sum(a.nbytes for a in batch.shared_mesh.values())
    ensure_space(Path(f.filename), nbytes)
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
    """Mark ``f`` complete, close it and atomically rename ``partial`` to ``out``."""
    f.attrs["complete"] = True
    f.attrs["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    f.flush()
    f.close()
    os.replace(partial, out)


#: attributes stored as JSON text
JSON_ATTRS = ("params", "grid", "versions", "input_names", "output_names")


def _where(path: Path) -> str:
    return f"data file {str(path)!r}"


def decode_attrs(f: h5py.File, path: Path) -> dict[str, Any]:
    """The file's attributes with the JSON ones decoded; a bad attribute is named."""
    meta: dict[str, Any] = {}
    for key, value in f.attrs.items():
        value = value.item() if isinstance(value, np.generic) else value
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        if key in JSON_ATTRS:
            if not isinstance(value, str):
                raise FileFormatError(
                    f"{_where(path)}: attribute {key!r} must be JSON text, got "
                    f"{type(value).__name__}"
                )
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise FileFormatError(
                    f"{_where(path)}: attribute {key!r} is not valid JSON ({exc.msg})"
                ) from None
            except RecursionError:
                raise FileFormatError(
                    f"{_where(path)}: attribute {key!r} is nested too deeply"
                ) from None
        meta[key] = value
    return meta


def check_layout(f: h5py.File, path: Path) -> dict[str, Any]:
    """Validate the schema of an open data-set file; return its decoded attributes.

    Checks (each failure is a :class:`~sciml.io.FileFormatError` naming the file and the array
    or attribute): ``/inputs`` and ``/outputs`` are numeric arrays ``[N, C, *S]`` with 1-3
    spatial axes and the same ``N >= 1``; ``/seeds`` and ``/done`` (when present) have ``N``
    entries; the ``grid`` attribute is a valid :class:`~sciml.grid.Grid` whose shape is the
    inputs' ``S``; the JSON attributes decode; ``n`` (when present) equals ``N``.
    """
    arrays = {}
    for name in ("inputs", "outputs"):
        if name not in f:
            raise FileFormatError(f"{_where(path)} is not a sciml data set (no /{name} array)")
        ds = f[name]
        if not isinstance(ds, h5py.Dataset):
            raise FileFormatError(f"{_where(path)}: /{name} is a group, expected an array")
        if ds.dtype.kind not in "fiub":
            raise FileFormatError(
                f"{_where(path)}: /{name} has dtype {ds.dtype}, expected numbers (float32)"
            )
        if not 3 <= ds.ndim <= 5:
            raise FileFormatError(
                f"{_where(path)}: /{name} has shape {list(ds.shape)}, expected [N, C, *S] with "
                "1-3 spatial axes (3 to 5 dimensions)"
            )
        arrays[name] = ds
    n = arrays["inputs"].shape[0]
    if arrays["outputs"].shape[0] != n:
        raise FileFormatError(
            f"{_where(path)}: /inputs holds {n} samples but /outputs holds "
            f"{arrays['outputs'].shape[0]}"
        )
    if n == 0:
        raise FileFormatError(f"{_where(path)}: /inputs and /outputs hold no samples")
    for name in ("seeds", "done"):
        if name in f and (not isinstance(f[name], h5py.Dataset) or f[name].shape != (n,)):
            shape = list(getattr(f[name], "shape", ["group"]))
            raise FileFormatError(
                f"{_where(path)}: /{name} has shape {shape}, expected [{n}] (one per sample)"
            )
    meta = decode_attrs(f, path)
    if "grid" not in meta:
        raise FileFormatError(
            f"{_where(path)} is not a sciml data set (no 'grid' attribute; write it with "
            "sciml data generate or sciml data import)"
        )
    try:
        if not isinstance(meta["grid"], dict):
            raise ValueError(f"expected a dict, got {type(meta['grid']).__name__}")
        grid = Grid.from_dict(meta["grid"])
    except (TypeError, ValueError, KeyError) as exc:
        raise FileFormatError(
            f"{_where(path)}: attribute 'grid' is not a valid grid ({exc})"
        ) from None
    spatial = tuple(arrays["inputs"].shape[2:])
    if grid.shape != spatial:
        raise FileFormatError(
            f"{_where(path)}: attribute 'grid' has shape {list(grid.shape)} but /inputs has "
            f"shape {list(arrays['inputs'].shape)} ([N, C, *S]: S = {list(spatial)})"
        )
    for key in ("input_names", "output_names"):
        names = meta.get(key)
        if names is not None and not (
            isinstance(names, list) and all(isinstance(v, str) for v in names)
        ):
            raise FileFormatError(f"{_where(path)}: attribute {key!r} must be a list of names")
    for key in ("params", "versions"):
        if key in meta and not isinstance(meta[key], dict):
            raise FileFormatError(f"{_where(path)}: attribute {key!r} must be a JSON object")
    if "n" in meta and meta["n"] != n:
        raise FileFormatError(
            f"{_where(path)}: attribute 'n' is {meta['n']!r} but /inputs holds {n} samples"
        )
    return meta


def check_self_contained(f: h5py.File, where: str) -> None:
    """Refuse an HDF5 file that reaches outside itself: external or soft links, datasets with
    external storage (raw bytes of another file) or virtual datasets (views of other files).
    A data set sciml reads holds its own arrays; anything else could read another file's bytes
    in as data. :class:`~sciml.io.FileFormatError` names the object."""
    bad: list[str] = []

    def link(name: str, obj: h5py.HLObject) -> None:
        if isinstance(obj, (h5py.ExternalLink, h5py.SoftLink)):
            bad.append(f"{'external' if isinstance(obj, h5py.ExternalLink) else 'soft'} "
                       f"link {name!r}")  # fmt: skip

    f.visititems_links(link)
    if bad:
        raise FileFormatError(f"{where}: {bad[0]} (data files must hold their own arrays)")

    def dataset(name: str, obj: h5py.HLObject) -> None:
        if isinstance(obj, h5py.Dataset):
            if obj.is_virtual:
                bad.append(f"virtual dataset {name!r} (a view of other files)")
            elif obj.external:
                bad.append(f"dataset {name!r} with external storage ({obj.external[0][0]!r})")

    f.visititems(dataset)
    if bad:
        raise FileFormatError(f"{where}: {bad[0]}; data files must hold their own arrays")


def open_data_file(path: str | Path) -> h5py.File:
    """Open an existing data-set file for reading (clear errors for a missing or non-HDF5 file,
    or one that reaches outside itself: :func:`check_self_contained`)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{_where(path)} does not exist")
    if not path.is_file():
        raise FileFormatError(f"{_where(path)} is not a file")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        reason = str(exc).split("(")[0].strip() or type(exc).__name__
        raise FileFormatError(f"{_where(path)} is not a readable HDF5 file ({reason})") from None
    try:
        check_self_contained(f, _where(path))
    except FileFormatError:
        f.close()
        raise
    return f


def read_meta(path: str | Path) -> dict:
    """Attributes and array shapes of a data-set file (JSON fields decoded), schema-checked.

    Raises ``FileNotFoundError`` for a missing file and :class:`~sciml.io.FileFormatError`
    naming the file and the array/attribute for anything that is not a sciml data set.
    """
    path = Path(path)
    with open_data_file(path) as f:
        meta = check_layout(f, path)
        meta["arrays"] = {
            name: {"shape": list(f[name].shape), "dtype": str(f[name].dtype)}
            for name in ("inputs", "outputs", "seeds", "done")
            if name in f
        }
        if "extras" in f and isinstance(f["extras"], h5py.Group):
            for name, ds in f["extras"].items():
                if isinstance(ds, h5py.Dataset):
                    meta["arrays"][f"extras/{name}"] = {
                        "shape": list(ds.shape),
                        "dtype": str(ds.dtype),
                    }
        if "done" in f:
            meta["samples_done"] = int(np.count_nonzero(f["done"][...]))
    return meta
