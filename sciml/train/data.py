"""Turn datasets into in-memory tensors, and read sciml HDF5 dataset files.

The Trainer keeps the training set as tensors on the training device (operator-learning sets
are small: 1000 Darcy samples at 85x85 are 58 MB) and indexes batches directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset

from sciml.datasets import GridDataset

__all__ = ["as_tensors", "load_dataset_file"]


def as_tensors(data: Any, name: str = "data") -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, y)`` float32 tensors ``[N, C_in, *S], [N, C_out, *S]`` from ``data``.

    ``data`` may be a pair of tensors, a ``TensorDataset``, a ``Subset`` of one, an object with
    ``inputs_array()``/``outputs_array()`` (``sciml.datasets.GridDataset``), or any Dataset
    whose items are ``(x, y)`` pairs.
    """
    if (
        isinstance(data, (tuple, list))
        and len(data) == 2
        and all(isinstance(t, torch.Tensor) for t in data)
    ):
        x, y = data
    elif isinstance(data, TensorDataset):
        x, y = data.tensors[:2]
    elif isinstance(data, Subset):
        x, y = as_tensors(data.dataset, name)
        idx = torch.as_tensor(list(data.indices), dtype=torch.long)
        x, y = x[idx], y[idx]
    elif hasattr(data, "inputs_array") and hasattr(data, "outputs_array"):
        x, y = torch.as_tensor(data.inputs_array()), torch.as_tensor(data.outputs_array())
    elif isinstance(data, Dataset):
        xs, ys = [], []
        for xb, yb in DataLoader(data, batch_size=256, shuffle=False):
            xs.append(xb)
            ys.append(yb)
        if not xs:
            raise ValueError(f"{name} is empty")
        x, y = torch.cat(xs), torch.cat(ys)
    else:
        raise TypeError(
            f"{name} must be (x, y) tensors, a TensorDataset or a Dataset of (x, y) pairs, "
            f"got {type(data).__name__}"
        )
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{name}: x has {x.shape[0]} samples but y has {y.shape[0]}")
    if x.ndim < 3 or y.ndim < 3:
        raise ValueError(
            f"{name}: x and y must be [N, C, *S], got {list(x.shape)} and {list(y.shape)}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    return x.float(), y.float()


def load_dataset_file(path: str | Path) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Read a complete sciml data-set file into memory: ``(inputs, outputs, meta)``.

    ``meta`` holds the file's attributes (``recipe``, ``params``, ``grid`` as a dict, ...).
    Errors for a missing, unreadable or unfinished file come from
    :class:`sciml.datasets.GridDataset`.
    """

    ds = GridDataset(path)
    meta = dict(ds.meta)
    meta["grid"] = ds.grid.to_dict()
    return ds.inputs_array().float(), ds.outputs_array().float(), meta
