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

>>> v = flat_layers(openfwi_grid(), [0, 1])
>>> v.shape, bool(v.min() >= 1500 and v.max() <= 4500)
(torch.Size([2, 1, 70, 70]), True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from sciml.grid import Grid
from sciml.physics.random_fields import as_seeds

__all__ = ["openfwi_grid", "flat_layers", "curved_layers", "faulted_layers"]


def openfwi_grid(n: int = 70, spacing: float = 10.0) -> Grid:
    """The OpenFWI velocity grid: ``n x n`` points (depth, x) at ``spacing`` metres."""
    extent = (n - 1) * spacing
    return Grid((n, n), bounds=((0.0, extent), (0.0, extent)))


def _check(grid: Grid, layers: tuple[int, int], velocity: tuple[float, float]) -> None:
    if not isinstance(grid, Grid) or grid.ndim != 2:
        raise ValueError(f"grid must be a 2-D sciml.grid.Grid (depth, x), got {grid!r}")
    lo, hi = layers
    if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi):
        raise ValueError(f"layers must be (min, max) integers with 1 <= min <= max, got {layers}")
    if not 0 < velocity[0] <= velocity[1]:
        raise ValueError(f"velocity must be (min, max) with 0 < min <= max, got {velocity}")


def _layer_parameters(seeds, grid, layers, velocity, increasing):
    """Per sample: interface depths ``[B, L-1]`` (+inf padding) and velocities ``[B, L]``."""
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
        d = 0.1 + 0.85 * d  # interfaces below the top 10 % (sources and receivers sit there)
        interfaces[b, : n_layers - 1] = d * depth
        v = velocity[0] + (velocity[1] - velocity[0]) * torch.rand(
            n_layers, generator=g, dtype=torch.float64
        )
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
    device=None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Horizontally layered velocity maps ``[B, 1, nz, nx]`` (FlatVel-style)."""
    _check(grid, layers, velocity)
    interfaces, vel, _ = _layer_parameters(seeds, grid, layers, velocity, increasing)
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
    amplitude: tuple[float, float] = (0.03, 0.1),
    wavelength: tuple[float, float] = (0.5, 2.0),
    device=None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Layers whose interfaces follow a random sinusoid (CurveVel-style): ``[B, 1, nz, nx]``.

    ``amplitude`` is a fraction of the depth extent and ``wavelength`` of the horizontal one.
    """
    _check(grid, layers, velocity)
    interfaces, vel, gens = _layer_parameters(seeds, grid, layers, velocity, increasing)
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
    curved: bool = False,
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
    _check(grid, layers, velocity)
    interfaces, vel, gens = _layer_parameters(seeds, grid, layers, velocity, increasing)
    if curved:
        surfaces = _curved_surfaces(interfaces, gens, grid, (0.03, 0.1), (0.5, 2.0))
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
