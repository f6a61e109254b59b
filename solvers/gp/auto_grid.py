"""Automatic collocation grid: enough points per shortest wavelength of the data.

The forcing (the residual at ``u = 0``) and the boundary / initial data are sampled along
lines parallel to each axis; the spectral peak finder that initialises the mixture frequencies
(:func:`~sciml.solvers.gp.spectrum.spectral_peaks`) gives the highest frequency carrying at
least ``threshold`` of the strongest peak's power, ``f_d`` (cycles per unit length), and the
axis gets

    n_d = ceil(points_per_wavelength * f_d * L_d) + 1     (clipped to [min_points, max_points])

points over its length ``L_d``. The probe lines are refined until the highest frequency found
is the same at two resolutions and well below their Nyquist frequency, so a tone above the
first probe's Nyquist frequency is not mistaken for its alias.

The default of 4 points per wavelength is measured (``benchmarks/gp_highfreq.py``): for 2-D
Poisson ``sin(100x) sin(100y)`` the error of one Gauss-Newton solve is flat at 2-4e-5 from 2.5
to 8 points per wavelength, and the multi-frequency ``sin(6x)cos(20x) + ...`` needs 4 (1e-5)
where 16 points give 3e-4.

>>> import math, torch
>>> from sciml.physics import Poisson
>>> from sciml.solvers.gp.problems import manufactured_forcing
>>> def u(p):
...     return torch.sin(100 * p[:, 0]) * torch.sin(30 * p[:, 1])
>>> pde = Poisson(dim=2, exact=u)
>>> pde.forcing = manufactured_forcing(pde, u)
>>> choice = choose_grid(pde, ((0.0, 1.0), (0.0, 1.0)), boundary=u)
>>> choice.grid.shape, [round(f, 2) for f in choice.frequencies.values()]
((65, 21), [15.92, 4.77])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from sciml.grid import Grid
from sciml.solvers.gp.collocation import axis_letters, default_faces
from sciml.solvers.gp.spectrum import spectral_peaks

__all__ = ["GridChoice", "choose_grid"]


@dataclass
class GridChoice:
    """What :func:`choose_grid` decided: the ``grid``, the highest significant frequency per
    axis letter (cycles per unit; 0 where none was found) and the probe resolution used."""

    grid: Grid
    frequencies: dict[str, float] = field(default_factory=dict)
    probe_points: dict[str, int] = field(default_factory=dict)


def _highest(values: torch.Tensor, spacing: float, threshold: float) -> float:
    """Highest peak frequency of ``values: [L, M]`` along the last axis (0 if none)."""
    peaks = spectral_peaks(values, spacing, axis=-1, k=16, threshold=threshold)
    return float(peaks.max()) if len(peaks) else 0.0


def choose_grid(
    pde: Any,
    bounds: Sequence[Sequence[float]] | None = None,
    *,
    boundary: Callable[[torch.Tensor], torch.Tensor] | None = None,
    faces: Sequence[str] | None = None,
    points_per_wavelength: float = 4.0,
    min_points: int = 16,
    max_points: int = 4096,
    lines: int = 8,
    threshold: float = 1e-3,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
) -> GridChoice:
    """Choose the collocation grid of ``pde`` from the spectra of its forcing and data.

    Args:
        pde: a ``sciml.physics`` PDE (its residual at ``u = 0`` is the forcing).
        bounds: ``((lo, hi), ...)`` per grid axis (space, then time last); default the PDE's
            ``domain`` (unit box) and ``(0, 1)`` for time.
        boundary: boundary / initial data ``g(points: [M, ndim]) -> [M]``; its spectrum along
            the faces in ``faces`` counts too (a homogeneous PDE driven by its data, e.g.
            advection, has no forcing).
        faces: faces carrying data (default: every spatial face and the initial time).
        points_per_wavelength: points per period of the highest frequency found.
        min_points, max_points: per axis.
        lines: probe lines per axis and source.
        threshold: a peak counts if its power is at least this fraction of the strongest.
        seed: of the probe lines' positions.

    Returns:
        :class:`GridChoice` with a vertex-centred :class:`~sciml.grid.Grid`.
    """
    letters = axis_letters(pde)
    nd = len(letters)
    if bounds is None:
        space = getattr(pde, "domain", None) or ((0.0, 1.0),) * int(pde.dim)
        bounds = tuple(space) + (((0.0, 1.0),) if "t" in letters else ())
    bounds = tuple((float(lo), float(hi)) for lo, hi in bounds)
    if len(bounds) != nd:
        raise ValueError(f"bounds needs {nd} (lo, hi) pairs for axes {letters!r}, got {bounds}")
    if any(hi <= lo for lo, hi in bounds):
        raise ValueError(f"bounds must have lo < hi on every axis, got {bounds}")
    if not points_per_wavelength >= 2:
        raise ValueError(f"points_per_wavelength must be >= 2, got {points_per_wavelength}")
    if not 2 <= min_points <= max_points:
        raise ValueError(f"need 2 <= min_points <= max_points, got {min_points}, {max_points}")
    faces = default_faces(letters) if faces is None else tuple(faces)
    keys = tuple(pde.required_derivatives)
    gen = torch.Generator().manual_seed(seed)
    lo = torch.tensor([b[0] for b in bounds], dtype=dtype)
    hi = torch.tensor([b[1] for b in bounds], dtype=dtype)

    def forcing(pts: torch.Tensor) -> torch.Tensor:
        zero = torch.zeros(pts.shape[0], dtype=dtype)
        return -pde.residual_from(zero, {k: zero for k in keys}, pts).reshape(-1).detach()

    shape, freqs, probes = [], {}, {}
    for d, letter in enumerate(letters):
        # probe lines along axis d: interior lines for the forcing, face lines for the data
        base = lo + (hi - lo) * torch.rand(lines, nd, generator=gen, dtype=dtype)
        sources = [(forcing, base)]
        if boundary is not None:
            for face in faces:
                ax = letters.index(face[0])
                if ax == d:
                    continue
                on_face = base.clone()
                on_face[:, ax] = lo[ax] if face[1] == "-" else hi[ax]
                sources.append((boundary, on_face))
        length = bounds[d][1] - bounds[d][0]
        m, found = 256, None
        while True:
            t = torch.linspace(bounds[d][0], bounds[d][1], m, dtype=dtype)
            h = length / (m - 1)
            best = 0.0
            for fn, starts in sources:
                pts = starts[:, None, :].repeat(1, m, 1)
                pts[:, :, d] = t
                vals = fn(pts.reshape(-1, nd)).reshape(lines, m)
                best = max(best, _highest(vals, h, threshold))
            nyquist = 0.5 / h
            agree = found is not None and abs(best - found) <= 2.0 / length
            if (agree and best < 0.4 * nyquist) or m >= 32768:
                break
            found, m = best, 2 * m
        freqs[letter], probes[letter] = best, m
        n = math.ceil(points_per_wavelength * best * length) + 1
        shape.append(min(max(n, min_points), max_points))
    return GridChoice(Grid(tuple(shape), bounds=bounds), freqs, probes)
