"""Pressure-Poisson test problems for the linear solvers: obstacles, wall setups, density jumps.

A problem is assembled by the PDE engine (:func:`sciml.physics.elliptic.assemble_elliptic`)
on a cell-centred unit box from the random media of :mod:`sciml.physics.fields.obstacles`: solid
obstacles of one family (Neumann faces), a wall setup (default ``"open-top"``: Neumann sides
and bottom, Dirichlet ``p = 0`` on top, a fluid in an open tank) and optionally a density
jump (``a = 1 / rho``). Fluid that cannot reach a Dirichlet side is filled in as solid, so the
matrix is SPD.

Families: the training families (:data:`TRAIN_FAMILIES`) and ``"blobs"``
(:data:`HELD_OUT_FAMILY`), which no learned solver trains on and the benchmark uses.

Right-hand side: "like a velocity divergence", a smooth random field
(:func:`sciml.physics.fields.cosine_fields.low_frequency_fields`) plus a little white noise, times the
cell volume.

>>> p = make_problem(16, ndim=3, family="spheres", seed=0)
>>> p.system.n == int(p.active.sum()), p.b.shape == (p.system.n,)
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sciml.grid import Grid
from sciml.io import check_memory
from sciml.physics.elliptic import EllipticSystem, assemble_elliptic
from sciml.physics.fields.cosine_fields import low_frequency_fields
from sciml.physics.fields.obstacles import (
    OBSTACLE_FAMILIES,
    bubbles_density,
    fill_unanchored,
    random_obstacles,
    two_phase_density,
    wall_setup,
)

__all__ = [
    "PoissonProblem",
    "make_problem",
    "FAMILIES",
    "TRAIN_FAMILIES",
    "HELD_OUT_FAMILY",
    "DENSITY_KINDS",
]

HELD_OUT_FAMILY = "blobs"
TRAIN_FAMILIES = tuple(f for f in OBSTACLE_FAMILIES if f != HELD_OUT_FAMILY)
FAMILIES = OBSTACLE_FAMILIES
DENSITY_KINDS = ("interface", "bubbles")


@dataclass
class PoissonProblem:
    """One assembled pressure-Poisson problem.

    Attributes:
        system: the :class:`~sciml.physics.elliptic.EllipticSystem` (``system.matrix`` is the
            scipy CSR ``[n, n]`` SPD matrix, ``system.matvec`` the matrix-free apply).
        b: right-hand side ``[n]`` float64.
        solid: ``bool [*shape]``; ``active`` = fluid = ``~solid``.
        coefficient: ``a [*shape]`` float64 or None (= 1).
        walls: the wall dict passed to the assembly.
        family, seed: how it was made.
    """

    system: EllipticSystem
    b: torch.Tensor
    solid: torch.Tensor
    coefficient: torch.Tensor | None
    walls: dict[str, str]
    family: str
    seed: int

    @property
    def grid(self) -> Grid:
        return self.system.grid

    @property
    def active(self) -> torch.Tensor:
        return self.system.active

    @property
    def shape(self) -> tuple[int, ...]:
        return self.system.grid.shape


def make_problem(
    n: int | tuple[int, ...],
    *,
    ndim: int = 3,
    family: str = "spheres",
    density_ratio: float | None = None,
    density: str = "interface",
    walls: str | dict[str, str] = "open-top",
    seed: int = 0,
    noise: float = 0.05,
) -> PoissonProblem:
    """A random pressure-Poisson problem on an ``n^ndim`` cell-centred unit box.

    Args:
        n: cells per side (or a shape tuple).
        ndim: 2 or 3 (ignored when ``n`` is a tuple).
        family: obstacle family, one of :data:`FAMILIES`.
        density_ratio: None (constant coefficient) or the heavy/light density ratio (e.g. 1000).
        density: ``"interface"`` (heavy below a wavy interface) or ``"bubbles"``.
        walls: a setup of :data:`sciml.physics.fields.obstacles.WALL_SETUPS` or a side -> kind dict.
        seed: seeds walls, obstacles, density and right-hand side (independent streams, and
            the same continuous geometry at every resolution).
        noise: relative white-noise level of the right-hand side.
    """
    shape = (int(n),) * ndim if np.isscalar(n) else tuple(int(s) for s in n)
    if len(shape) not in (2, 3):
        raise ValueError(f"ndim must be 2 or 3, got {len(shape)}")
    if min(shape) < 4:
        raise ValueError(f"n must be >= 4 per side, got {shape}")
    # assembly and the solvers' vectors: ~400 bytes per cell (CSR float64 + index arrays,
    # the obstacle field, a dozen vectors); refused before any array is made
    check_memory(400 * float(np.prod(shape)), f"n = {shape[0]} ({'x'.join(map(str, shape))} cells)")
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    if density not in DENSITY_KINDS:
        raise ValueError(f"density must be one of {DENSITY_KINDS}, got {density!r}")
    g_walls, g_geo, g_rho, g_rhs = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
    )
    wall_dict = walls if isinstance(walls, dict) else wall_setup(walls, len(shape), g_walls)
    solid = fill_unanchored(random_obstacles(shape, family, g_geo), wall_dict)
    coefficient = None
    if density_ratio is not None:
        if not density_ratio > 0:
            raise ValueError(f"density_ratio must be > 0, got {density_ratio}")
        make_rho = two_phase_density if density == "interface" else bubbles_density
        coefficient = torch.from_numpy(1.0 / make_rho(shape, float(density_ratio), g_rho))
    grid = Grid(shape, centering="cell")
    solid_t = torch.from_numpy(solid)
    system = assemble_elliptic(grid, coefficient=coefficient, solid=solid_t, walls=wall_dict)
    f = low_frequency_fields(shape, 1, rng=g_rhs, k0=4.0, noise=noise)[0]
    b = system.rhs(torch.from_numpy(f))
    return PoissonProblem(system, b, solid_t, coefficient, wall_dict, family, seed)
