"""Structured tensor-product grids on boxes.

A :class:`Grid` is the single source of coordinate bookkeeping in sciml: models,
solvers, datasets and the PDE engine all ask it for coordinates, spacing and
resampling rather than computing them on their own.

Conventions
-----------
* Fields on a grid are batched tensors ``[B, C, *shape]`` (``shape`` = ``grid.shape``).
* ``centering="vertex"``: on a non-periodic axis the points include both ends,
  ``x_i = lo + i h`` with ``h = (hi - lo) / (n - 1)``; on a periodic axis the right end is
  the image of the left one and is not stored, ``h = (hi - lo) / n``.
* ``centering="cell"``: ``x_i = lo + (i + 1/2) h`` with ``h = (hi - lo) / n``.

>>> g = Grid((5,), bounds=((0.0, 1.0),))
>>> g.axes()[0].tolist()
[0.0, 0.25, 0.5, 0.75, 1.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

__all__ = ["Grid"]

_CENTERINGS = ("vertex", "cell")


def _as_tuple(value: Any, ndim: int, name: str) -> tuple:
    if isinstance(value, (bool, int, float)) or value is None:
        return (value,) * ndim
    value = tuple(value)
    if len(value) != ndim:
        raise ValueError(f"{name} must have one entry per axis ({ndim}), got {len(value)}")
    return value


def _as_int(n: Any) -> int:
    """A grid size: an int (or an integral float); anything else is an error, never truncated."""
    if isinstance(n, (bool, np.bool_)):
        raise TypeError(f"grid sizes must be ints, got {n!r}")
    if isinstance(n, (int, np.integer)):
        return int(n)
    if isinstance(n, (float, np.floating)):
        if not (math.isfinite(n) and float(n).is_integer()):
            raise ValueError(f"grid sizes must be whole numbers, got {n!r}")
        return int(n)
    raise TypeError(f"grid sizes must be ints, got {type(n).__name__} {n!r}")


@dataclass(frozen=True)
class Grid:
    """A 1-, 2- or 3-D tensor-product grid on the box ``bounds``.

    Args:
        shape: number of points per axis, e.g. ``(64, 64)``.
        bounds: ``((lo, hi), ...)`` per axis; default the unit box.
        centering: ``"vertex"`` or ``"cell"``.
        periodic: one flag for all axes or one per axis.
    """

    shape: tuple[int, ...]
    bounds: tuple[tuple[float, float], ...] | None = None
    centering: str = "vertex"
    periodic: tuple[bool, ...] | bool = False
    _spacing: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            shape = tuple(_as_int(n) for n in self.shape)
        except TypeError:
            raise TypeError(f"shape must be a sequence of ints, got {self.shape!r}") from None
        if not 1 <= len(shape) <= 3:
            raise ValueError(f"shape must have 1, 2 or 3 axes, got {len(shape)}: {shape}")
        ndim = len(shape)
        bounds = self.bounds if self.bounds is not None else ((0.0, 1.0),) * ndim
        bounds = _as_tuple(bounds, ndim, "bounds")
        try:
            bounds = tuple((float(lo), float(hi)) for lo, hi in bounds)
        except (TypeError, ValueError):
            raise ValueError(
                f"bounds must be ((lo, hi), ...) per axis, got {self.bounds!r}"
            ) from None
        for ax, (lo, hi) in enumerate(bounds):
            if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
                raise ValueError(f"bounds[{ax}] must be finite with lo < hi, got {(lo, hi)}")
        if self.centering not in _CENTERINGS:
            raise ValueError(f"centering must be one of {_CENTERINGS}, got {self.centering!r}")
        periodic = tuple(bool(p) for p in _as_tuple(self.periodic, ndim, "periodic"))
        minimum = 1 if self.centering == "cell" else 2
        for ax, n in enumerate(shape):
            if n < 1 or (n < minimum and not periodic[ax]):
                raise ValueError(f"shape[{ax}] must be >= {minimum}, got {n}")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "bounds", bounds)
        object.__setattr__(self, "periodic", periodic)
        spacing = tuple(
            (hi - lo) / (n if (self.centering == "cell" or p) else n - 1)
            for (lo, hi), n, p in zip(bounds, shape, periodic)
        )
        object.__setattr__(self, "_spacing", spacing)

    # ------------------------------------------------------------------ basics
    @classmethod
    def unit(cls, n: int | Sequence[int], ndim: int | None = None, **kwargs) -> Grid:
        """Grid on the unit box: ``Grid.unit(64, ndim=2)`` or ``Grid.unit((64, 32))``."""
        shape = (int(n),) * (ndim or 1) if isinstance(n, int) else tuple(n)
        return cls(shape, **kwargs)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        """Total number of points."""
        return int(np.prod(self.shape))

    @property
    def spacing(self) -> tuple[float, ...]:
        """Spacing ``h`` per axis."""
        return self._spacing

    @property
    def lengths(self) -> tuple[float, ...]:
        return tuple(hi - lo for lo, hi in self.bounds)

    @property
    def cell_volume(self) -> float:
        return float(np.prod(self.spacing))

    def with_shape(self, shape: Sequence[int]) -> Grid:
        """The same box, centering and periodicity with another number of points."""
        return Grid(tuple(shape), self.bounds, self.centering, self.periodic)

    def refine(self, factor: int = 2) -> Grid:
        """A grid whose spacing is ``1/factor`` of this one (nested for vertex grids)."""
        shape = []
        for n, p in zip(self.shape, self.periodic):
            shape.append(n * factor if (self.centering == "cell" or p) else (n - 1) * factor + 1)
        return self.with_shape(shape)

    # ------------------------------------------------------------- coordinates
    def offset(self, axis: int) -> float:
        """Coordinate of the first point along ``axis``."""
        lo = self.bounds[axis][0]
        return lo + 0.5 * self.spacing[axis] if self.centering == "cell" else lo

    def axes(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> list[torch.Tensor]:
        """1-D coordinate tensors, one per axis."""
        dtype = dtype or torch.get_default_dtype()
        return [
            self.offset(ax) + self.spacing[ax] * torch.arange(n, device=device, dtype=dtype)
            for ax, n in enumerate(self.shape)
        ]

    def coords(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> torch.Tensor:
        """Coordinates as one tensor ``[ndim, *shape]`` (``coords[0]`` is x)."""
        return torch.stack(torch.meshgrid(*self.axes(device, dtype), indexing="ij"))

    def points(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> torch.Tensor:
        """All grid points as ``[N, ndim]`` in C order (last axis fastest)."""
        return self.coords(device, dtype).reshape(self.ndim, -1).T.contiguous()

    # ---------------------------------------------------------------- checking
    def check_field(self, u: torch.Tensor, name: str = "u", channels: int | None = None) -> None:
        """Raise a clear error unless ``u`` is ``[B, C, *self.shape]``."""
        if not isinstance(u, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor [B, C, *{self.shape}], got {type(u)}")
        if u.ndim != self.ndim + 2 or tuple(u.shape[2:]) != self.shape:
            raise ValueError(
                f"{name} must have shape [B, C, *{list(self.shape)}] for this grid, "
                f"got {list(u.shape)}"
            )
        if channels is not None and u.shape[1] != channels:
            raise ValueError(f"{name} must have {channels} channel(s), got {u.shape[1]}")

    def _check_points(self, points: torch.Tensor, name: str) -> None:
        if points.ndim != 2 or points.shape[1] != self.ndim:
            raise ValueError(f"{name} must have shape [N, {self.ndim}], got {list(points.shape)}")
        if not torch.isfinite(points).all():
            raise ValueError(f"{name} contains NaN or infinite coordinates")

    # ----------------------------------------------------- interpolation core
    def _linear_index(self, x: torch.Tensor, axis: int, name: str, tol: float = 1e-9):
        """Left neighbour index and weight for coordinates ``x`` along ``axis``."""
        n, h = self.shape[axis], self.spacing[axis]
        s = (x - self.offset(axis)) / h
        if self.periodic[axis]:
            s = torch.remainder(s, n)
            i0 = torch.floor(s).long().clamp(0, n - 1)
            w = s - i0.to(s.dtype)
            return i0, (i0 + 1) % n, w
        lo_s, hi_s = 0.0, float(n - 1)
        if self.centering == "cell":
            # the box extends half a cell beyond the first/last centre: hold values constant
            lo_s, hi_s = -0.5, n - 0.5
        bad = (s < lo_s - tol) | (s > hi_s + tol)
        if bad.any():
            worst = x[bad].flatten()[0].item()
            raise ValueError(
                f"{name}: coordinate {worst:.6g} on axis {axis} is outside the grid bounds "
                f"{self.bounds[axis]}"
            )
        s = s.clamp(0.0, float(n - 1))
        i0 = torch.floor(s).long().clamp(0, max(n - 2, 0))
        w = s - i0.to(s.dtype)
        return i0, (i0 + 1).clamp(max=n - 1), w

    def interpolate(self, u: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        """Multilinear interpolation of ``u: [B, C, *shape]`` at ``points: [N, ndim]``.

        Returns ``[B, C, N]``. Exact for fields linear in each coordinate. Points outside
        the box raise ``ValueError`` (periodic axes wrap).
        """
        self.check_field(u, "u")
        points = torch.as_tensor(points, dtype=u.dtype, device=u.device)
        self._check_points(points, "points")
        flat = u.reshape(*u.shape[:2], -1)
        strides = [int(np.prod(self.shape[ax + 1 :])) for ax in range(self.ndim)]
        out = torch.zeros(*u.shape[:2], points.shape[0], dtype=u.dtype, device=u.device)
        parts = [self._linear_index(points[:, ax], ax, "points") for ax in range(self.ndim)]
        for corner in range(2**self.ndim):
            idx = torch.zeros(points.shape[0], dtype=torch.long, device=u.device)
            weight = torch.ones(points.shape[0], dtype=u.dtype, device=u.device)
            for ax, (i0, i1, w) in enumerate(parts):
                upper = (corner >> ax) & 1
                idx = idx + (i1 if upper else i0) * strides[ax]
                weight = weight * (w if upper else 1 - w)
            out = out + flat[..., idx] * weight
        return out

    # ---------------------------------------------------------------- resample
    def resample(self, u: torch.Tensor, target: Grid, method: str = "linear") -> torch.Tensor:
        """Resample ``u: [B, C, *self.shape]`` onto ``target`` (same box).

        ``method="linear"``: separable (multi)linear interpolation, second-order accurate.
        ``method="spectral"``: Fourier interpolation along periodic axes (exact for
        band-limited fields; modes above the coarser grid's Nyquist are dropped when
        coarsening), linear along the others.
        """
        self.check_field(u, "u")
        if not isinstance(target, Grid):
            raise TypeError(f"target must be a Grid, got {type(target)}")
        if target.ndim != self.ndim:
            raise ValueError(f"target must have {self.ndim} axes, got {target.ndim}")
        if method not in ("linear", "spectral"):
            raise ValueError(f"method must be 'linear' or 'spectral', got {method!r}")
        for ax in range(self.ndim):
            if not np.allclose(self.bounds[ax], target.bounds[ax]):
                raise ValueError(
                    f"target.bounds[{ax}]={target.bounds[ax]} differs from this grid's "
                    f"{self.bounds[ax]}; resampling needs the same box"
                )
        if method == "spectral" and not any(self.periodic):
            raise ValueError("method='spectral' needs at least one periodic axis")
        out = u
        for ax in range(self.ndim):
            x_t = target.axes(u.device, u.dtype)[ax]
            dim = ax + 2
            if method == "spectral" and self.periodic[ax]:
                mat = self._fourier_matrix(ax, x_t)
                out = torch.movedim(torch.tensordot(out, mat, dims=([dim], [1])), -1, dim)
            else:
                i0, i1, w = self._linear_index(x_t, ax, "target")
                shape = [1] * out.ndim
                shape[dim] = -1
                w = w.reshape(shape)
                out = out.index_select(dim, i0) * (1 - w) + out.index_select(dim, i1) * w
        return out

    def _fourier_matrix(self, axis: int, x_t: torch.Tensor) -> torch.Tensor:
        """Real matrix ``[m, n]`` evaluating the trigonometric interpolant at ``x_t``."""
        n, length = self.shape[axis], self.lengths[axis]
        m = x_t.shape[0]
        nmax = min(n, m)
        k = torch.arange(-(nmax // 2), nmax // 2 + 1, device=x_t.device, dtype=x_t.dtype)
        wk = torch.ones_like(k)
        if nmax % 2 == 0:  # split the Nyquist mode symmetrically
            wk[0] = wk[-1] = 0.5
        x_s = self.axes(x_t.device, x_t.dtype)[axis]
        phase_t = 2 * math.pi * torch.outer(x_t, k) / length  # [m, K]
        phase_s = 2 * math.pi * torch.outer(x_s, k) / length  # [n, K]
        # M_ij = 1/n sum_k w_k cos(phase_t[i, k] - phase_s[j, k])
        mat = (torch.cos(phase_t) * wk) @ torch.cos(phase_s).T
        mat = mat + (torch.sin(phase_t) * wk) @ torch.sin(phase_s).T
        return mat / n

    # ---------------------------------------------------------------- metadata
    def to_dict(self) -> dict:
        """Plain-Python form for file metadata (JSON/HDF5 attributes)."""
        return {
            "shape": list(self.shape),
            "bounds": [list(b) for b in self.bounds],
            "centering": self.centering,
            "periodic": list(self.periodic),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Grid:
        missing = {"shape", "bounds"} - set(d)
        if missing:
            raise ValueError(f"grid dict is missing keys {sorted(missing)}")
        periodic = d.get("periodic", False)
        return cls(
            tuple(d["shape"]),
            tuple(tuple(b) for b in d["bounds"]),
            d.get("centering", "vertex"),
            tuple(periodic) if isinstance(periodic, (list, tuple)) else bool(periodic),
        )
