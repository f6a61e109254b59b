"""Pressure-Poisson test problems: random solid obstacles, an open top, density jumps.

Every problem is assembled by the PDE engine
(:func:`sciml.physics.elliptic.assemble_elliptic`) on a cell-centred unit box: Neumann (no
flux) on the box sides, the bottom and the faces of solid obstacles, Dirichlet ``p = 0`` on the
top (the last axis' ``+`` side: ``"z+"`` in 3-D, ``"y+"`` in 2-D), the situation of a fluid
in an open tank. Fluid pockets sealed off from the top are filled in as solid, so the matrix
is SPD.

Obstacle families (:data:`FAMILIES`): ``"spheres"``, ``"boxes"``, ``"cylinders"`` (used in
training, :data:`TRAIN_FAMILIES`), ``"none"`` (a plain box) and ``"blobs"`` (level sets of a
smooth random field: organic shapes, the **held-out** family, never seen in training,
:data:`HELD_OUT_FAMILY`). ``density_ratio=1000`` adds a two-phase coefficient
``a = 1 / rho``: a heavy fluid (``rho = ratio``) below a wavy interface and a light one
(``rho = 1``) above it.

Right-hand sides: :func:`low_frequency_fields` synthesises fields weighted toward the
Laplacian's low-frequency cosine modes with a fast inverse DCT (the paper's Rayleigh-Ritz
vectors, for box domains); a problem's ``b`` is "like a velocity divergence": a smooth field
plus a little white noise, times the cell volume, zero mean-free adjustments not needed since
the top is Dirichlet.

>>> p = make_problem(16, ndim=3, family="spheres", seed=0)
>>> p.system.n == int(p.active.sum()), p.b.shape == (p.system.n,)
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.ndimage
import torch

from sciml.grid import Grid
from sciml.physics.elliptic import EllipticSystem, assemble_elliptic

__all__ = [
    "PoissonProblem",
    "make_problem",
    "make_solid",
    "low_frequency_fields",
    "open_top_walls",
    "FAMILIES",
    "TRAIN_FAMILIES",
    "HELD_OUT_FAMILY",
]

TRAIN_FAMILIES = ("spheres", "boxes", "cylinders")
HELD_OUT_FAMILY = "blobs"
FAMILIES = ("none", *TRAIN_FAMILIES, HELD_OUT_FAMILY)


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


def open_top_walls(ndim: int) -> dict[str, str]:
    """Neumann everywhere except a Dirichlet top (the last axis' ``+`` side)."""
    sides = ("x-", "x+", "y-", "y+", "z-", "z+")[: 2 * ndim]
    walls = {k: "neumann" for k in sides}
    walls[sides[-1]] = "dirichlet"
    return walls


def low_frequency_fields(
    shape: tuple[int, ...],
    batch: int,
    *,
    rng: np.random.Generator,
    k0: float | tuple[float, float] = (1.0, 6.0),
    power: float = 2.0,
    noise: float | tuple[float, float] = (0.0, 0.1),
) -> np.ndarray:
    """Random fields ``[batch, *shape]`` weighted toward low-frequency cosine modes.

    Mode ``k`` (``k_d = 0 .. n_d - 1`` per axis, the DCT-II / Neumann-Laplacian eigenvectors)
    gets a Gaussian amplitude times ``(1 + |k|^2 / k0^2)^(-power / 2)``; the field is the
    orthonormal inverse DCT (``scipy.fft.idctn``, O(N log N)), normalised to unit RMS, plus
    white noise of relative size ``noise``. ``k0`` and ``noise`` may be ``(lo, hi)`` ranges,
    drawn per sample (``k0`` log-uniformly).
    """
    axes = tuple(range(1, len(shape) + 1))
    kk = np.meshgrid(*[np.arange(n, dtype=np.float64) for n in shape], indexing="ij")
    k2 = sum(k**2 for k in kk)
    lo, hi = (k0, k0) if np.isscalar(k0) else k0
    k0s = np.exp(rng.uniform(np.log(lo), np.log(hi), size=batch))
    weights = (1.0 + k2[None] / k0s.reshape(-1, *[1] * len(shape)) ** 2) ** (-power / 2)
    coeff = rng.standard_normal((batch, *shape)) * weights
    f = scipy.fft.idctn(coeff, type=2, axes=axes, norm="ortho")
    f /= np.sqrt((f**2).mean(axis=axes, keepdims=True)) + 1e-300
    nlo, nhi = (noise, noise) if np.isscalar(noise) else noise
    eps = rng.uniform(nlo, nhi, size=batch).reshape(-1, *[1] * len(shape))
    return f + eps * rng.standard_normal(f.shape)


def _coords(shape: tuple[int, ...]) -> list[np.ndarray]:
    g = Grid(shape, centering="cell")
    return [a.numpy() for a in torch.meshgrid(*g.axes(dtype=torch.float64), indexing="ij")]


def make_solid(
    shape: tuple[int, ...], family: str, rng: np.random.Generator, *, count: int | None = None
) -> np.ndarray:
    """A random obstacle mask ``bool [*shape]`` of the given family (unit box, top kept free)."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    ndim = len(shape)
    X = _coords(shape)
    solid = np.zeros(shape, dtype=bool)
    if family == "none":
        return solid
    if family == HELD_OUT_FAMILY:
        # smooth random field, thresholded at its 82nd percentile below the top layer
        f = low_frequency_fields(shape, 1, rng=rng, k0=3.0, power=4.0, noise=0.0)[0]
        solid = f > np.quantile(f, 0.82)
    else:
        count = count if count is not None else int(rng.integers(3, 9))
        for _ in range(count):
            c = rng.uniform(0.1, 0.9, size=ndim)
            if family == "spheres":
                r = rng.uniform(0.06, 0.2)
                solid |= sum((x - ci) ** 2 for x, ci in zip(X, c)) < r**2
            elif family == "boxes":
                half = rng.uniform(0.04, 0.2, size=ndim)
                solid |= np.all([np.abs(x - ci) < hi for x, ci, hi in zip(X, c, half)], axis=0)
            else:  # cylinders along a random axis
                axis = int(rng.integers(ndim))
                r = rng.uniform(0.04, 0.14)
                half = rng.uniform(0.2, 0.45)
                other = [d for d in range(ndim) if d != axis]
                inside = sum((X[d] - c[d]) ** 2 for d in other) < r**2
                solid |= inside & (np.abs(X[axis] - c[axis]) < half)
    # keep the top layer fluid, drop fluid pockets that do not reach it
    top = [slice(None)] * ndim
    top[-1] = slice(shape[-1] - 1, None)
    solid[tuple(top)] = False
    labels, _ = scipy.ndimage.label(~solid)
    reach = np.unique(labels[tuple(top)])
    reach = reach[reach > 0]
    return ~np.isin(labels, reach)


def _two_phase(shape: tuple[int, ...], ratio: float, rng: np.random.Generator) -> np.ndarray:
    """``a = 1 / rho``: heavy (``rho = ratio``) below a wavy interface, light above."""
    X = _coords(shape)
    height = rng.uniform(0.35, 0.65)
    wave = sum(
        rng.uniform(0.02, 0.08) * np.sin(2 * np.pi * rng.integers(1, 4) * X[d] + rng.uniform(0, 6))
        for d in range(len(shape) - 1)
    )
    heavy = X[-1] < height + wave
    return np.where(heavy, 1.0 / ratio, 1.0)


def make_problem(
    n: int | tuple[int, ...],
    *,
    ndim: int = 3,
    family: str = "spheres",
    density_ratio: float | None = None,
    seed: int = 0,
    noise: float = 0.05,
) -> PoissonProblem:
    """A random pressure-Poisson problem on an ``n^ndim`` cell-centred unit box.

    Args:
        n: cells per side (or a shape tuple).
        ndim: 2 or 3.
        family: obstacle family, one of :data:`FAMILIES`.
        density_ratio: None (constant coefficient) or the heavy/light density ratio (e.g. 1000).
        seed: seeds obstacles, interface and right-hand side.
        noise: relative white-noise level of the right-hand side.
    """
    shape = (int(n),) * ndim if np.isscalar(n) else tuple(int(s) for s in n)
    if len(shape) not in (2, 3):
        raise ValueError(f"ndim must be 2 or 3, got {len(shape)}")
    if min(shape) < 4:
        raise ValueError(f"n must be >= 4 per side, got {shape}")
    rng = np.random.default_rng(seed)
    solid = make_solid(shape, family, rng)
    coefficient = None
    if density_ratio is not None:
        if not density_ratio > 0:
            raise ValueError(f"density_ratio must be > 0, got {density_ratio}")
        coefficient = torch.from_numpy(_two_phase(shape, float(density_ratio), rng))
    grid = Grid(shape, centering="cell")
    walls = open_top_walls(len(shape))
    solid_t = torch.from_numpy(solid)
    system = assemble_elliptic(grid, coefficient=coefficient, solid=solid_t, walls=walls)
    f = low_frequency_fields(shape, 1, rng=rng, k0=4.0, noise=noise)[0]
    b = system.rhs(torch.from_numpy(f))
    return PoissonProblem(system, b, solid_t, coefficient, walls, family, seed)
