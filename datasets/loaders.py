"""torch Datasets over sciml HDF5 files, and deterministic splits."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset

from sciml.datasets.recipe import sample_seeds
from sciml.datasets.storage import check_layout, open_data_file
from sciml.grid import Grid
from sciml.io import FileFormatError

__all__ = ["GridDataset", "split_indices"]


class GridDataset(Dataset):
    """Samples ``(x, y)`` of a complete data-set file, read lazily.

    ``x: [C_in, *S]`` and ``y: [C_out, *S]`` float32 tensors. The HDF5 file is opened on
    first access in each process, so the dataset works with DataLoader worker processes.

    Args:
        path: a file written by ``sciml data generate`` (or ``sciml data import``).
        indices: the subset of sample indices to expose (default: all).
    """

    def __init__(self, path: str | Path, indices: Sequence[int] | np.ndarray | None = None):
        self.path = Path(path)
        with open_data_file(self.path) as f:
            self.meta = check_layout(f, self.path)
            complete = self.meta.get("complete")
            if complete is None:
                raise FileFormatError(
                    f"data file {str(self.path)!r} has no 'complete' attribute: it was not "
                    "written by sciml data generate or sciml data import"
                )
            if not bool(complete):
                done = int(np.count_nonzero(f["done"][...])) if "done" in f else 0
                raise ValueError(
                    f"data file {str(self.path)!r} is not complete (generation unfinished: "
                    f"{done} of {f['inputs'].shape[0]} samples done); rerun the generate "
                    "command to finish it"
                )
            self.n_total = f["inputs"].shape[0]
            self.input_shape = tuple(f["inputs"].shape[1:])
            self.output_shape = tuple(f["outputs"].shape[1:])
            self.seeds = f["seeds"][...] if "seeds" in f else np.arange(self.n_total)
        self.grid = Grid.from_dict(self.meta["grid"])
        if indices is None:
            self.indices = np.arange(self.n_total)
        else:
            self.indices = np.asarray(indices, dtype=np.int64)
            if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= self.n_total):
                raise ValueError(f"indices must lie in [0, {self.n_total}), got {self.indices}")
        self._file: h5py.File | None = None

    def __len__(self) -> int:
        return len(self.indices)

    def _h5(self) -> h5py.File:
        if self._file is None:
            self._file = h5py.File(self.path, "r")
        return self._file

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        j = int(self.indices[i])
        f = self._h5()
        return torch.from_numpy(f["inputs"][j]), torch.from_numpy(f["outputs"][j])

    def _read(self, name: str) -> torch.Tensor:
        f = self._h5()
        idx = np.sort(self.indices)
        data = f[name][idx] if len(idx) else np.empty((0, *f[name].shape[1:]), np.float32)
        order = np.argsort(np.argsort(self.indices))
        return torch.from_numpy(data[order])

    def inputs_array(self) -> torch.Tensor:
        """All inputs ``[n, C_in, *S]`` (for small sets)."""
        return self._read("inputs")

    def outputs_array(self) -> torch.Tensor:
        """All outputs ``[n, C_out, *S]`` (for small sets)."""
        return self._read("outputs")

    def subset(self, indices: Sequence[int]) -> GridDataset:
        """A dataset over ``self.indices[indices]``."""
        return GridDataset(self.path, self.indices[np.asarray(indices, dtype=np.int64)])

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_file"] = None  # h5py handles do not cross process boundaries
        return state


def split_indices(
    n_or_seeds: int | np.ndarray, sizes: Sequence[float | int], *, seed: int = 0
) -> list[np.ndarray]:
    """Deterministic disjoint splits of ``range(n)``.

    ``sizes`` are counts (ints) or fractions (floats summing to <= 1). The permutation is the
    order of the splitmix64 hashes of ``(seed, i)`` (:func:`~sciml.datasets.recipe.sample_seeds`),
    so a split depends only on ``seed`` and ``n``: the same on every machine and with every
    numpy version (numpy's generators do not promise stable streams across versions).

    >>> [s.tolist() for s in split_indices(6, [3, 2], seed=0)]
    [[2, 0, 4], [3, 5]]
    """
    n = int(n_or_seeds) if np.isscalar(n_or_seeds) else len(n_or_seeds)
    if all(isinstance(s, (int, np.integer)) for s in sizes):
        counts = [int(s) for s in sizes]
    else:
        if sum(sizes) > 1 + 1e-9 or min(sizes) < 0:
            raise ValueError(f"sizes as fractions must be >= 0 and sum to <= 1, got {sizes}")
        counts = [int(round(s * n)) for s in sizes]
    if min(counts) < 0 or sum(counts) > n:
        raise ValueError(f"sizes {list(sizes)} ask for {sum(counts)} samples, only {n} exist")
    perm = np.argsort(sample_seeds(seed, n), kind="stable")
    out, start = [], 0
    for c in counts:
        out.append(perm[start : start + c])
        start += c
    return out
