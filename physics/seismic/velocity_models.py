"""OpenFWI-style subsurface velocity families: flat layers, curved layers, faults.

Velocity maps are ``[B, 1, nz, nx]`` on a 2-D :class:`~sciml.grid.Grid` whose axis 0 is depth
``z`` (pointing down) and axis 1 is the horizontal ``x``; the OpenFWI size is
:func:`openfwi_grid` (70 x 70 points at 10 m). Each sample's random parameters come from its
own ``torch.Generator(seed)``; the maps are then built with tensor ops (no loops over grid
points), so a seed gives the same map in any batch.

Families (after Deng et al., "OpenFWI", NeurIPS 2022 Datasets and Benchmarks):

* :func:`flat_layers` - 2 to 5 horizontal layers (FlatVel);
* :func:`curved_layers` - layer interfaces bent by a common random sinusoid (CurveVel);
* :func:`faulted_layers` - flat or curved layers cut by one dipping fault with a random throw
  (FlatFault / CurveFault).

Velocities are drawn uniformly in ``velocity = (1500, 4500)`` m/s and sorted to increase with
depth when ``increasing=True`` (the "A" variants); ``False`` keeps them unsorted ("B"-like).
Two shape knobs serve the calibration to OpenFWI's published statistics: ``contrast`` (the
fraction of the velocity range one map spans; its window is placed at random) and
``depth_skew`` (interface depths ``top + span * u**depth_skew``: below 1 the layers near the
surface are thicker). :data:`OPENFWI_FAMILIES` holds the calibrated settings of the eight
OpenFWI families (FlatVel-A/B, CurveVel-A/B, FlatFault-A/B, CurveFault-A/B) and
:func:`openfwi_velocity` draws from them by name.

>>> v = flat_layers(openfwi_grid(), [0, 1])
>>> v.shape, bool(v.min() >= 1500 and v.max() <= 4500)
(torch.Size([2, 1, 70, 70]), True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from sciml.grid import Grid
from sciml.physics.fields.random_fields import as_seeds

__all__ = [
    "OPENFWI_FAMILIES",
    "openfwi_grid",
    "openfwi_velocity",
    "flat_layers",
    "curved_layers",
    "faulted_layers",
]


def openfwi_grid(n: int = 70, spacing: float = 10.0) -> Grid:
    """The OpenFWI velocity grid: ``n x n`` points (depth, x) at ``spacing`` metres."""
    extent = (n - 1) * spacing
    return Grid((n, n), bounds=((0.0, extent), (0.0, extent)))


def _check(
    grid: Grid,
    layers: tuple[int, int],
    velocity: tuple[float, float],
    contrast: float = 1.0,
    depth_skew: float = 1.0,
) -> None:
    if not isinstance(grid, Grid) or grid.ndim != 2:
        raise ValueError(f"grid must be a 2-D sciml.grid.Grid (depth, x), got {grid!r}")
    lo, hi = layers
    if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi):
        raise ValueError(f"layers must be (min, max) integers with 1 <= min <= max, got {layers}")
    if not 0 < velocity[0] <= velocity[1]:
        raise ValueError(f"velocity must be (min, max) with 0 < min <= max, got {velocity}")
    if not 0 < contrast <= 1:
        raise ValueError(f"contrast must be in (0, 1], got {contrast!r}")
    if not depth_skew > 0:
        raise ValueError(f"depth_skew must be > 0, got {depth_skew!r}")


def _layer_parameters(seeds, grid, layers, velocity, increasing, contrast=1.0, depth_skew=1.0):
    """Per sample: interface depths ``[B, L-1]`` (+inf padding) and velocities ``[B, L]``.

    The random stream per seed is: layer count, interface depths, velocities, then (only when
    ``contrast < 1``) the position of the sample's velocity window, so the defaults give the
    same maps as before the calibration knobs existed.
    """
    seeds = as_seeds(seeds)
    depth = grid.lengths[0]
    lmax = layers[1]
    interfaces = torch.full((len(seeds), max(lmax - 1, 1)), math.inf, dtype=torch.float64)
    vel = torch.zeros(len(seeds), lmax, dtype=torch.float64)
    gens = []
    for b, s in enumerate(seeds):  # a few scalars per sample
        g = torch.Generator().manual_seed(s)
        n_layers = int(torch.randint(layers[0], layers[1] + 1, (1,), generator=g))
        d = torch.sort(torch.rand(n_layers - 1, generator=g, dtype=torch.float64)).values
        d = 0.1 + 0.85 * d**depth_skew  # interfaces below the top 10 % (sources, receivers)
        interfaces[b, : n_layers - 1] = d * depth
        u = torch.rand(n_layers, generator=g, dtype=torch.float64)
        if contrast < 1:
            u = contrast * u + (1 - contrast) * torch.rand(1, generator=g, dtype=torch.float64)
        v = velocity[0] + (velocity[1] - velocity[0]) * u
        vel[b, :n_layers] = torch.sort(v).values if increasing else v
        gens.append(g)
    return interfaces, vel, gens


def _assemble(z_eff: torch.Tensor, surfaces: torch.Tensor, vel: torch.Tensor) -> torch.Tensor:
    """Layer index = number of interfaces above each point; gather the velocity.

    ``z_eff: [B, nz, nx]``, ``surfaces: [B, L-1, nx]`` (interface depth per column),
    ``vel: [B, L]`` -> ``[B, 1, nz, nx]``.
    """
    idx = (z_eff[:, None] >= surfaces[:, :, None, :]).sum(1)  # [B, nz, nx]
    out = torch.gather(vel, 1, idx.reshape(idx.shape[0], -1)).reshape(idx.shape)
    return out[:, None]


def _finish(v: torch.Tensor, device, dtype) -> torch.Tensor:
    return v.to(device=device, dtype=dtype)


def flat_layers(
    grid: Grid,
    seeds: int | Sequence[int] | torch.Tensor,
    *,
    layers: tuple[int, int] = (2, 5),
    velocity: tuple[float, float] = (1500.0, 4500.0),
    increasing: bool = True,
    contrast: float = 1.0,
    depth_skew: float = 1.0,
    device=None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Horizontally layered velocity maps ``[B, 1, nz, nx]`` (FlatVel-style)."""
    _check(grid, layers, velocity, contrast, depth_skew)
    interfaces, vel, _ = _layer_parameters(
        seeds, grid, layers, velocity, increasing, contrast, depth_skew
    )
    z, x = grid.coords(dtype=torch.float64)
    b = interfaces.shape[0]
    surfaces = interfaces[:, :, None].expand(b, -1, grid.shape[1])
    return _finish(_assemble(z.expand(b, -1, -1), surfaces, vel), device, dtype)


def _curved_surfaces(interfaces, gens, grid, amplitude, wavelength):
    """Interfaces bent by one random sinusoid per sample: ``[B, L-1, nx]``."""
    x = grid.axes(dtype=torch.float64)[1]
    params = []
    for g in gens:
        u = torch.rand(3, generator=g, dtype=torch.float64)
        amp = (amplitude[0] + (amplitude[1] - amplitude[0]) * u[0]) * grid.lengths[0]
        lam = (wavelength[0] + (wavelength[1] - wavelength[0]) * u[1]) * grid.lengths[1]
        params.append((amp, lam, 2 * math.pi * u[2]))
    p = torch.tensor([[float(a), float(w), float(f)] for a, w, f in params], dtype=torch.float64)
    bend = p[:, 0:1] * torch.sin(2 * math.pi * x[None] / p[:, 1:2] + p[:, 2:3])  # [B, nx]
    return interfaces[:, :, None] + bend[:, None, :]


def curved_layers(
    grid: Grid,
    seeds: int | Sequence[int] | torch.Tensor,
    *,
    layers: tuple[int, int] = (2, 5),
    velocity: tuple[float, float] = (1500.0, 4500.0),
    increasing: bool = True,
    contrast: float = 1.0,
    depth_skew: float = 1.0,
    amplitude: tuple[float, float] = (0.03, 0.1),
    wavelength: tuple[float, float] = (0.5, 2.0),
    device=None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Layers whose interfaces follow a random sinusoid (CurveVel-style): ``[B, 1, nz, nx]``.

    ``amplitude`` is a fraction of the depth extent and ``wavelength`` of the horizontal one.
    """
    _check(grid, layers, velocity, contrast, depth_skew)
    interfaces, vel, gens = _layer_parameters(
        seeds, grid, layers, velocity, increasing, contrast, depth_skew
    )
    surfaces = _curved_surfaces(interfaces, gens, grid, amplitude, wavelength)
    z, _ = grid.coords(dtype=torch.float64)
    return _finish(_assemble(z.expand(len(gens), -1, -1), surfaces, vel), device, dtype)


def faulted_layers(
    grid: Grid,
    seeds: int | Sequence[int] | torch.Tensor,
    *,
    layers: tuple[int, int] = (2, 5),
    velocity: tuple[float, float] = (1500.0, 4500.0),
    increasing: bool = True,
    contrast: float = 1.0,
    depth_skew: float = 1.0,
    curved: bool = False,
    amplitude: tuple[float, float] = (0.03, 0.1),
    wavelength: tuple[float, float] = (0.5, 2.0),
    throw: tuple[float, float] = (0.05, 0.2),
    dip: tuple[float, float] = (-50.0, 50.0),
    device=None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Flat (``curved=False``, FlatFault) or curved (CurveFault) layers cut by one fault.

    The fault is a straight line through a random point of the middle third of the surface,
    dipping ``dip`` degrees from vertical; the block on its right side (the hanging wall) is
    shifted down by ``throw`` (a fraction of the depth extent). Returns ``[B, 1, nz, nx]``.
    """
    _check(grid, layers, velocity, contrast, depth_skew)
    interfaces, vel, gens = _layer_parameters(
        seeds, grid, layers, velocity, increasing, contrast, depth_skew
    )
    if curved:
        surfaces = _curved_surfaces(interfaces, gens, grid, amplitude, wavelength)
    else:
        surfaces = interfaces[:, :, None].expand(-1, -1, grid.shape[1])
    fp = torch.stack([torch.rand(3, generator=g, dtype=torch.float64) for g in gens])  # [B, 3]
    x0 = grid.lengths[1] * (1 / 3 + fp[:, 0] / 3)
    angle = torch.deg2rad(dip[0] + (dip[1] - dip[0]) * fp[:, 1])
    shift = grid.lengths[0] * (throw[0] + (throw[1] - throw[0]) * fp[:, 2])
    z, x = grid.coords(dtype=torch.float64)
    side = (x[None] - x0[:, None, None]) - z[None] * torch.tan(angle)[:, None, None] > 0
    z_eff = z[None] - shift[:, None, None] * side  # hanging wall: layers moved down by `shift`
    return _finish(_assemble(z_eff, surfaces, vel), device, dtype)


#: Calibrated settings of the OpenFWI families (Deng et al. 2022), by lower-case name. The
#: velocity generators of OpenFWI were never released; these settings reproduce the published
#: per-family velocity mean and standard deviation (``label_mean``/``label_std`` of the GFI
#: dataset configuration) to within 2 %; ``tests/datasets/test_openfwi_recipes.py`` prints ours
#: beside the published ones. "A": velocity increases with depth; "B": unordered velocities
#: and more layers (harder to invert).
OPENFWI_FAMILIES: dict[str, dict] = {
    "flatvel-a": dict(kind="flat", layers=(2, 5), increasing=True, contrast=0.9, depth_skew=0.52),
    "flatvel-b": dict(kind="flat", layers=(3, 7), increasing=False),
    "curvevel-a": dict(
        kind="curved", layers=(2, 5), increasing=True, contrast=0.9, depth_skew=0.52
    ),
    "curvevel-b": dict(kind="curved", layers=(3, 7), increasing=False, amplitude=(0.05, 0.15)),
    "flatfault-a": dict(
        kind="fault", layers=(2, 5), increasing=True, contrast=0.97, depth_skew=2.0
    ),
    "flatfault-b": dict(kind="fault", layers=(3, 7), increasing=False),
    "curvefault-a": dict(
        kind="curved-fault", layers=(2, 5), increasing=True, contrast=0.97, depth_skew=2.0
    ),
    "curvefault-b": dict(kind="curved-fault", layers=(3, 7), increasing=False),
}


def openfwi_velocity(
    family: str,
    grid: Grid,
    seeds: int | Sequence[int] | torch.Tensor,
    *,
    velocity: tuple[float, float] = (1500.0, 4500.0),
    device=None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Velocity maps ``[B, 1, nz, nx]`` of the OpenFWI ``family`` (a key of
    :data:`OPENFWI_FAMILIES`, e.g. ``"curvevel-b"``), one per seed."""
    if family not in OPENFWI_FAMILIES:
        raise ValueError(f"family must be one of {sorted(OPENFWI_FAMILIES)}, got {family!r}")
    kw = dict(OPENFWI_FAMILIES[family])
    kind = kw.pop("kind")
    kw.update(velocity=velocity, device=device, dtype=dtype)
    if kind == "flat":
        return flat_layers(grid, seeds, **kw)
    if kind == "curved":
        return curved_layers(grid, seeds, **kw)
    return faulted_layers(grid, seeds, curved=kind == "curved-fault", **kw)
