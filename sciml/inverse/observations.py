"""Sparse, noisy observations of a field: the data of an inverse problem, and their file.

An observation file is something a person writes by hand or exports from a measurement:

JSON (``.json``)::

    {
      "points": [[0.25, 0.50], [0.75, 0.50], ...],   # [N, d] coordinates in the domain
      "values": [0.061, 0.058, ...],                 # [N] measured u
      "noise_std": 0.003,                            # one number, or one per point
      "comment": "optional free text"
    }

or instead of ``noise_std`` a signal-to-noise ratio ``"snr_db": 25`` (then
``sigma^2 = mean(values^2) / 10^(snr_db / 10)``).

NumPy (``.npz``): arrays ``points [N, d]``, ``values [N]`` and ``noise_std`` (scalar or
``[N]``) or ``snr_db`` (scalar). It is read with ``allow_pickle=False``: no file runs code.

Every problem is reported as one line naming the file and the field
(:class:`~sciml.io.FileFormatError`, a ``ValueError``; ``FileNotFoundError`` for a missing
file).

>>> import torch
>>> obs = Observations.from_snr(torch.rand(10, 2), torch.ones(10), snr_db=20.0)
>>> round(float(obs.noise_std[0]), 4)
0.1
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciml.grid import Grid
from sciml.io import FileFormatError, check_out_path, read_json

__all__ = [
    "Observations",
    "load_observations",
    "noise_std_for_snr",
    "observations_from_dataset",
    "save_observations",
]

_SUFFIXES = (".json", ".npz")


def noise_std_for_snr(values: torch.Tensor | np.ndarray, snr_db: float) -> float:
    """``sqrt(mean(values^2) / 10^(snr_db / 10))``: the Gaussian noise of that SNR."""
    v = np.asarray(values, dtype=np.float64)
    return float(np.sqrt(np.mean(v**2) / 10.0 ** (float(snr_db) / 10.0)))


@dataclass(frozen=True)
class Observations:
    """Point observations ``values[k] = u(points[k]) + noise_std[k] * eps_k``.

    Attributes:
        points: ``[N, d]`` float64 coordinates.
        values: ``[N]`` float64 measured values.
        noise_std: ``[N]`` float64 standard deviations (> 0).
        snr_db: the SNR the noise was given as (``None`` when given as a std).
    """

    points: torch.Tensor
    values: torch.Tensor
    noise_std: torch.Tensor
    snr_db: float | None = None

    def __post_init__(self) -> None:
        p, v, s = self.points, self.values, self.noise_std
        if p.ndim != 2 or not 1 <= p.shape[1] <= 3:
            raise ValueError(f"points must have shape [N, d] with d in 1..3, got {list(p.shape)}")
        if v.shape != (p.shape[0],) or s.shape != (p.shape[0],):
            raise ValueError(
                f"values and noise_std must have shape [{p.shape[0]}] (one per point), got "
                f"{list(v.shape)} and {list(s.shape)}"
            )
        if p.shape[0] == 0:
            raise ValueError("observations must hold at least one point")
        for t, name in ((p, "points"), (v, "values"), (s, "noise_std")):
            if not torch.isfinite(t).all():
                raise ValueError(f"{name} contains NaN or infinite entries")
        if not (s > 0).all():
            raise ValueError("noise_std must be positive")

    @property
    def count(self) -> int:
        return self.points.shape[0]

    @property
    def dim(self) -> int:
        return self.points.shape[1]

    @classmethod
    def from_snr(cls, points: torch.Tensor, values: torch.Tensor, *, snr_db: float) -> Observations:
        """Observations whose noise is given by an SNR (``sigma`` from the values)."""
        values = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
        std = noise_std_for_snr(values.numpy(), snr_db)
        return cls(
            torch.as_tensor(points, dtype=torch.float64),
            values,
            torch.full_like(values, std),
            float(snr_db),
        )

    @classmethod
    def synthetic(
        cls,
        u: torch.Tensor,
        grid: Grid,
        count: int,
        *,
        snr_db: float,
        seed: int = 0,
        interior: bool = True,
    ) -> tuple[Observations, torch.Tensor]:
        """Noisy observations of a field ``u: [*grid.shape]`` at ``count`` distinct grid points.

        Returns ``(observations, flat grid indices [count])``; noise by ``snr_db`` from the
        observed true values; ``interior`` skips the boundary points.
        """
        if tuple(u.shape) != grid.shape:
            raise ValueError(f"u must have shape {list(grid.shape)}, got {list(u.shape)}")
        idx = torch.arange(grid.size).reshape(grid.shape)
        if interior:
            idx = idx[(slice(1, -1),) * grid.ndim]
        idx = idx.reshape(-1)
        if not 1 <= count <= idx.numel():
            raise ValueError(f"count must be in [1, {idx.numel()}], got {count}")
        g = torch.Generator().manual_seed(seed)
        chosen = idx[torch.randperm(idx.numel(), generator=g)[:count]].sort().values
        truth = u.reshape(-1)[chosen].to(torch.float64)
        std = noise_std_for_snr(truth.numpy(), snr_db)
        noisy = truth + std * torch.randn(count, generator=g, dtype=torch.float64)
        pts = grid.points(dtype=torch.float64)[chosen]
        return cls(pts, noisy, torch.full_like(noisy, std), float(snr_db)), chosen

    def check_inside(self, bounds: Sequence[tuple[float, float]], *, name: str = "points") -> None:
        """Raise ``ValueError`` unless every point lies in the box ``bounds``."""
        for ax, (lo, hi) in enumerate(bounds):
            col = self.points[:, ax]
            bad = (col < lo - 1e-12) | (col > hi + 1e-12)
            if bad.any():
                k = int(bad.nonzero()[0])
                raise ValueError(
                    f"{name}[{k}] = {self.points[k].tolist()} lies outside the domain "
                    f"{[list(b) for b in bounds]}"
                )


# ------------------------------------------------------------------------------ files
def _field(path: Path, raw: Any, name: str, *, ndim: tuple[int, ...]) -> np.ndarray:
    try:
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise FileFormatError(
            f"observation file {str(path)!r}: field {name!r} must be numbers"
        ) from None
    if arr.ndim not in ndim:
        want = " or ".join(
            {0: "a number", 1: "a list [N]", 2: "a list of points [N, d]"}[d] for d in ndim
        )
        raise FileFormatError(
            f"observation file {str(path)!r}: field {name!r} must be {want}, got shape "
            f"{list(arr.shape)}"
        )
    if not np.isfinite(arr).all():
        raise FileFormatError(
            f"observation file {str(path)!r}: field {name!r} contains NaN or infinite values"
        )
    return arr


def load_observations(path: str | Path) -> Observations:
    """Read an observation file (``.json`` or ``.npz``, see the module docstring)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"observation file {str(path)!r} does not exist")
    if path.suffix not in _SUFFIXES:
        raise FileFormatError(
            f"observation file {str(path)!r}: expected a .json or .npz file, got "
            f"{path.suffix or 'no suffix'!r}"
        )
    if path.suffix == ".json":
        raw = read_json(path, what="observation file")  # depth-limited, one-line errors
        if not isinstance(raw, dict):
            raise FileFormatError(
                f"observation file {str(path)!r}: expected a JSON object with 'points', "
                f"'values' and 'noise_std' or 'snr_db'"
            )
    else:
        try:
            with np.load(path, allow_pickle=False) as z:
                raw = {k: z[k] for k in z.files}
        except (ValueError, OSError) as exc:
            raise FileFormatError(
                f"observation file {str(path)!r} is not a readable .npz ({str(exc)[:120]})"
            ) from None
    for key in ("points", "values"):
        if key not in raw:
            raise FileFormatError(f"observation file {str(path)!r}: missing field {key!r}")
    known = {"points", "values", "noise_std", "snr_db", "comment"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise FileFormatError(
            f"observation file {str(path)!r}: unknown field {unknown[0]!r} (known: {sorted(known)})"
        )
    points = _field(path, raw["points"], "points", ndim=(2,))
    values = _field(path, raw["values"], "values", ndim=(1,))
    if points.shape[1] not in (1, 2, 3):
        raise FileFormatError(
            f"observation file {str(path)!r}: field 'points' must be [N, d] with d in 1..3, "
            f"got {list(points.shape)}"
        )
    if len(values) != len(points):
        raise FileFormatError(
            f"observation file {str(path)!r}: field 'values' has {len(values)} entries but "
            f"'points' has {len(points)}"
        )
    if len(points) == 0:
        raise FileFormatError(f"observation file {str(path)!r}: field 'points' is empty")
    has_std, has_snr = "noise_std" in raw, "snr_db" in raw
    if has_std == has_snr:
        raise FileFormatError(
            f"observation file {str(path)!r}: give exactly one of the fields 'noise_std' and "
            "'snr_db'"
        )
    snr = None
    if has_snr:
        snr = float(_field(path, raw["snr_db"], "snr_db", ndim=(0,)))
        std = np.full(len(values), noise_std_for_snr(values, snr))
        if not std[0] > 0:
            raise FileFormatError(
                f"observation file {str(path)!r}: field 'snr_db' gives zero noise (all values 0)"
            )
    else:
        std = _field(path, raw["noise_std"], "noise_std", ndim=(0, 1))
        std = np.broadcast_to(std, values.shape).copy() if std.ndim == 0 else std
        if std.shape != values.shape:
            raise FileFormatError(
                f"observation file {str(path)!r}: field 'noise_std' must be a number or one "
                f"per point ({len(values)}), got {len(std)}"
            )
        if not (std > 0).all():
            raise FileFormatError(
                f"observation file {str(path)!r}: field 'noise_std' must be positive"
            )
    return Observations(torch.as_tensor(points), torch.as_tensor(values), torch.as_tensor(std), snr)


def save_observations(obs: Observations, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``obs`` as ``.json`` or ``.npz`` (by the suffix of ``path``)."""
    path = check_out_path(path, overwrite=overwrite, what="observation file")
    if path.suffix not in _SUFFIXES:
        raise ValueError(f"path must end in .json or .npz, got {str(path)!r}")
    std = obs.noise_std.numpy()
    same = bool(np.all(std == std[0]))
    if path.suffix == ".json":
        record: dict[str, Any] = {
            "points": obs.points.tolist(),
            "values": obs.values.tolist(),
        }
        if obs.snr_db is not None and same:
            record["snr_db"] = obs.snr_db
        else:
            record["noise_std"] = float(std[0]) if same else std.tolist()
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(record, indent=1))
        tmp.replace(path)
        return path
    arrays = {"points": obs.points.numpy(), "values": obs.values.numpy()}
    if obs.snr_db is not None and same:
        arrays["snr_db"] = np.float64(obs.snr_db)
    else:
        arrays["noise_std"] = std
    tmp = path.with_name(f".{path.stem}.tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)
    return path


def observations_from_dataset(
    path: str | Path, index: int, count: int | None = None
) -> tuple[Observations, np.ndarray, list[int]]:
    """The observations stored with sample ``index`` of a data set made by an ``-inverse``
    recipe (``darcy-two-phase-inverse``, ``darcy-lognormal-inverse``): ``(observations,
    the true coefficient [*grid.shape], the observation counts the file holds)``.

    ``count``: which of the stored sets (e.g. 100 or 25 points; default the largest). The
    points are the grid points the recipe observed, the noise its ``obs_sigma_<count>``.
    """
    from sciml.datasets.storage import check_layout, open_data_file

    path = Path(path)
    with open_data_file(path) as f:
        meta = check_layout(f, path)
        extras = f["extras"] if "extras" in f else {}
        counts = sorted(
            (int(k.rsplit("_", 1)[1]) for k in extras if k.startswith("obs_index_")), reverse=True
        )
        if not counts:
            raise FileFormatError(
                f"data file {str(path)!r} holds no observations (made by recipe "
                f"{meta.get('recipe')!r}; the -inverse recipes store them, e.g. "
                "darcy-two-phase-inverse)"
            )
        if count is None:
            count = counts[0]
        if count not in counts:
            raise ValueError(
                f"count: {str(path)!r} holds observation sets of {counts}, not {count}"
            )
        n = int(f["inputs"].shape[0])
        if (
            isinstance(index, bool)
            or not isinstance(index, (int, np.integer))
            or not 0 <= index < n
        ):
            raise ValueError(f"index must lie in [0, {n}), got {index!r}")
        idx = np.asarray(extras[f"obs_index_{count}"][index], dtype=np.int64)
        values = np.asarray(extras[f"obs_value_{count}"][index], dtype=np.float64)
        sigma = float(extras[f"obs_sigma_{count}"][index])
        truth = np.asarray(f["inputs"][index, 0], dtype=np.float64)
    grid = Grid.from_dict(meta["grid"])
    pts = grid.points(dtype=torch.float64)[torch.as_tensor(idx)]
    snr = (meta.get("params") or {}).get("snr_db")
    obs = Observations(
        pts,
        torch.as_tensor(values),
        torch.full((count,), sigma, dtype=torch.float64),
        float(snr) if isinstance(snr, (int, float)) else None,
    )
    return obs, truth, counts
