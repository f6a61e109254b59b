"""Measured fast training settings per model on CUDA, and the switch that applies them.

:class:`~sciml.train.trainer.TrainConfig`'s own defaults are the same on every device (bf16
autocast on CUDA through ``amp="auto"``, no ``channels_last``, no ``torch.compile``). A setting
becomes a default on CUDA only after the throughput sweep
(``benchmarks/operators_darcy_ns.py --mode throughput`` on a GPU) has shown it: the sweep
prints a ``suggested`` table, rows that beat the default by at least :data:`PROOF_MARGIN` in
the same run, and those rows are copied into :data:`CUDA_TRAIN_SETTINGS` with the run they
come from. Until then the table is empty and nothing changes.

:func:`tuned_train_options` fills the table's values into a dict of training options, only for
keys the user did not set, only on CUDA, only while the switch is on: the environment variable
``SCIML_TUNED_DEFAULTS=0`` turns it off for a process, :func:`tuned_defaults` for a block.
``sciml train`` (:mod:`sciml.commands.train`) applies it.

>>> tuned_train_options({"epochs": 3}, "lsm", "cpu")
{'epochs': 3}
>>> with tuned_defaults(False):
...     tuned_train_options({}, "lsm", "cuda")
{}
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import torch

__all__ = [
    "CUDA_TRAIN_SETTINGS",
    "PROOF_MARGIN",
    "TUNABLE",
    "suggest_settings",
    "tuned_defaults",
    "tuned_train_options",
]

#: registry model name -> TrainConfig options measured fastest on CUDA, with the evidence.
#: Empty: no GPU sweep has run since the sweep was written (see BENCHMARKS.md). An entry looks
#: like ``"lsm": {"channels_last": True, "compile": True, "_evidence": "H200 sweep <date>,
#: 1.31x bf16 default"}`` (keys starting with ``_`` are documentation, never applied).
CUDA_TRAIN_SETTINGS: dict[str, dict[str, Any]] = {}

#: the TrainConfig options the sweep varies (the only ones the table may set)
TUNABLE = ("amp", "channels_last", "compile")

#: a setting must be at least this much faster than the default, in the same run, to be proposed
PROOF_MARGIN = 1.10

_ENABLED: list[bool] = []


def _enabled() -> bool:
    if _ENABLED:
        return _ENABLED[-1]
    return os.environ.get("SCIML_TUNED_DEFAULTS", "1") not in ("0", "false", "no", "off")


@contextlib.contextmanager
def tuned_defaults(enabled: bool = True) -> Iterator[None]:
    """Switch the measured CUDA settings on or off inside the block."""
    _ENABLED.append(bool(enabled))
    try:
        yield
    finally:
        _ENABLED.pop()


def tuned_train_options(
    options: dict[str, Any],
    model: str,
    device: torch.device | str | None,
    *,
    table: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``options`` plus the measured CUDA settings of ``model`` for keys it does not set.

    Args:
        options: TrainConfig keyword options the user chose (left as they are).
        model: registry name (``"lsm"``, ``"fno"``, ``"unet"``).
        device: where training runs (``None``: CUDA when available); only CUDA is tuned.
        table: the settings table (default :data:`CUDA_TRAIN_SETTINGS`).
    """
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if torch.device(device).type != "cuda" or not _enabled():
        return dict(options)
    entry = (CUDA_TRAIN_SETTINGS if table is None else table).get(model, {})
    out = dict(options)
    for key, value in entry.items():
        if key.startswith("_"):
            continue
        if key not in TUNABLE:
            raise ValueError(
                f"CUDA_TRAIN_SETTINGS[{model!r}] sets {key!r}; only {TUNABLE} may be tuned"
            )
        out.setdefault(key, value)
    return out


def suggest_settings(rows: list[dict[str, Any]], *, baseline: str = "bf16") -> dict[str, dict]:
    """From throughput-sweep rows, the settings that beat ``baseline`` by :data:`PROOF_MARGIN`.

    ``rows``: dicts with ``model``, ``variant``, ``options`` (TrainConfig options of the
    variant), ``samples_per_s`` (absent when the variant failed). Returns
    ``{model: {**options, "_evidence": "..."}}`` for models whose fastest variant is at least
    ``PROOF_MARGIN`` times the baseline's rate, else nothing for that model.
    """
    out: dict[str, dict] = {}
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model and r.get("samples_per_s")]
        base = [r for r in mine if r["variant"] == baseline]
        if not base:
            continue
        best = max(mine, key=lambda r: r["samples_per_s"])
        ratio = best["samples_per_s"] / base[0]["samples_per_s"]
        opts = {k: v for k, v in best.get("options", {}).items() if k in TUNABLE}
        if ratio >= PROOF_MARGIN and opts:
            out[model] = {**opts, "_evidence": f"{best['variant']}: {ratio:.2f}x {baseline}"}
    return out
