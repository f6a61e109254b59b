"""Random media for pressure-Poisson problems: solid obstacles, wall setups, two-phase density.

Everything is drawn in unit-box coordinates from a ``numpy.random.Generator`` and then
evaluated at the cell centres, so a seed gives the same continuous geometry at every
resolution (a model trained at 32^3 can be tested on the same scene at 128^3).

Obstacle families (:data:`OBSTACLE_FAMILIES`):

=============  =====================================================================
``none``       an empty tank
``spheres``    3-8 balls
``boxes``      3-8 axis-aligned boxes
``cylinders``  3-8 finite cylinders along random axes
``baffles``    1-3 thin plates across the tank, each with one or two openings
``terrain``    a smooth random floor (height field)
``blobs``      level sets of a smooth random field (organic shapes)
=============  =====================================================================

Wall setups (:func:`wall_setup`): ``"open-top"`` (Dirichlet ``p = 0`` on the last axis' ``+``
side, the free surface of a tank; Neumann elsewhere), ``"dirichlet"`` (all sides) and
``"random"`` (each side Dirichlet with probability 1/3, at least one). Fluid that cannot reach
a Dirichlet side is filled in as solid (:func:`fill_unanchored`), so the assembled matrix is
SPD.

Density (:func:`two_phase_density`, :func:`bubbles_density`): ``rho`` per cell for a heavy
fluid below a wavy interface, or bubbles of one phase in the other; the Poisson coefficient is
``a = 1 / rho``.

>>> rng = np.random.default_rng(0)
>>> solid = random_obstacles((16, 16, 16), "spheres", rng)
>>> solid.dtype, solid.shape, bool(0.0 < solid.mean() < 0.5)
(dtype('bool'), (16, 16, 16), True)
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage

from sciml.physics.fields.cosine_fields import cell_centres, smooth_random_field

__all__ = [
    "OBSTACLE_FAMILIES",
    "WALL_SETUPS",
    "random_obstacles",
    "fill_unanchored",
    "wall_setup",
    "two_phase_density",
    "bubbles_density",
]

OBSTACLE_FAMILIES = ("none", "spheres", "boxes", "cylinders", "baffles", "terrain", "blobs")
WALL_SETUPS = ("open-top", "dirichlet", "random")
_SIDES = ("x-", "x+", "y-", "y+", "z-", "z+")


def _mesh(shape: tuple[int, ...]) -> list[np.ndarray]:
    return np.meshgrid(*cell_centres(shape), indexing="ij")


def random_obstacles(
    shape: tuple[int, ...], family: str, rng: np.random.Generator, *, count: int | None = None
) -> np.ndarray:
    """A random solid mask ``bool [*shape]`` of ``family`` (see :data:`OBSTACLE_FAMILIES`).

    The last axis is "up". ``count`` overrides the number of objects (spheres, boxes,
    cylinders, baffles). Pockets are not filled here (see :func:`fill_unanchored`).
    """
    if family not in OBSTACLE_FAMILIES:
        raise ValueError(f"family must be one of {OBSTACLE_FAMILIES}, got {family!r}")
    shape = tuple(int(s) for s in shape)
    nd = len(shape)
    if nd not in (2, 3):
        raise ValueError(f"shape must be 2-D or 3-D, got {shape}")
    X = _mesh(shape)
    solid = np.zeros(shape, dtype=bool)
    if family == "none":
        return solid
    if family == "blobs":
        # smooth random field above its 82nd percentile
        f = smooth_random_field(shape, rng, modes=6, power=4.0, k0=3.0)
        return f > np.quantile(f, 0.82)
    if family == "terrain":
        base = rng.uniform(0.1, 0.35)
        amp = rng.uniform(0.08, 0.25)
        h = smooth_random_field(shape[:-1], rng, modes=5, power=3.0, k0=2.0)
        h = base + amp * h / (np.abs(h).max() + 1e-12)
        return X[-1] < h[..., None]
    if family == "baffles":
        count = count if count is not None else int(rng.integers(1, 4))
        for _ in range(count):
            axis = int(rng.integers(nd))
            pos = rng.uniform(0.2, 0.8)
            half = rng.uniform(0.03, 0.06)
            plate = np.abs(X[axis] - pos) < half
            for _ in range(int(rng.integers(1, 3))):  # openings through the plate
                hole = np.ones(shape, dtype=bool)
                for d in range(nd):
                    if d != axis:
                        c, w = rng.uniform(0.15, 0.85), rng.uniform(0.08, 0.2)
                        hole &= np.abs(X[d] - c) < w
                plate &= ~hole
            solid |= plate
        return solid
    count = count if count is not None else int(rng.integers(3, 9))
    for _ in range(count):
        c = rng.uniform(0.1, 0.9, size=nd)
        if family == "spheres":
            r = rng.uniform(0.06, 0.2)
            solid |= sum((x - ci) ** 2 for x, ci in zip(X, c)) < r**2
        elif family == "boxes":
            half = rng.uniform(0.04, 0.2, size=nd)
            solid |= np.all([np.abs(x - ci) < hi for x, ci, hi in zip(X, c, half)], axis=0)
        else:  # cylinders along a random axis
            axis = int(rng.integers(nd))
            r = rng.uniform(0.04, 0.14)
            half = rng.uniform(0.2, 0.45)
            other = [d for d in range(nd) if d != axis]
            inside = sum((X[d] - c[d]) ** 2 for d in other) < r**2
            solid |= inside & (np.abs(X[axis] - c[axis]) < half)
    return solid


def wall_setup(name: str, ndim: int, rng: np.random.Generator | None = None) -> dict[str, str]:
    """Side -> ``"dirichlet"`` / ``"neumann"`` for a named setup (see :data:`WALL_SETUPS`)."""
    if ndim not in (2, 3):
        raise ValueError(f"ndim must be 2 or 3, got {ndim}")
    sides = _SIDES[: 2 * ndim]
    if name == "open-top":
        return {s: ("dirichlet" if s == sides[-1] else "neumann") for s in sides}
    if name == "dirichlet":
        return {s: "dirichlet" for s in sides}
    if name == "random":
        if rng is None:
            raise ValueError("wall_setup('random') needs rng")
        kinds = rng.uniform(size=len(sides)) < 1.0 / 3.0
        if not kinds.any():
            kinds[int(rng.integers(len(sides)))] = True
        return {s: ("dirichlet" if k else "neumann") for s, k in zip(sides, kinds)}
    raise ValueError(f"walls must be one of {WALL_SETUPS} or a dict, got {name!r}")


def fill_unanchored(solid: np.ndarray, walls: dict[str, str]) -> np.ndarray:
    """``solid`` with every fluid region that touches no Dirichlet side filled in.

    Such a region has only Neumann boundaries, so its block of the Poisson matrix is singular.
    Raises ``ValueError`` when no fluid is left.
    """
    solid = np.asarray(solid, dtype=bool)
    nd = solid.ndim
    labels, _ = scipy.ndimage.label(~solid)
    keep = []
    for axis in range(nd):
        for side, pos in (("-", 0), ("+", solid.shape[axis] - 1)):
            if walls.get("xyz"[axis] + side, "dirichlet") == "dirichlet":
                keep.append(np.take(labels, pos, axis=axis).ravel())
    reach = np.unique(np.concatenate(keep)) if keep else np.zeros(0, dtype=int)
    reach = reach[reach > 0]
    out = ~np.isin(labels, reach)
    if out.all():
        raise ValueError("no fluid cell reaches a Dirichlet wall")
    return out


def two_phase_density(shape: tuple[int, ...], ratio: float, rng: np.random.Generator) -> np.ndarray:
    """``rho [*shape]``: ``ratio`` below a wavy interface (last axis up), 1 above it."""
    if not ratio > 0:
        raise ValueError(f"ratio must be > 0, got {ratio}")
    X = _mesh(shape)
    height = rng.uniform(0.35, 0.65)
    wave = sum(
        rng.uniform(0.02, 0.08) * np.sin(2 * np.pi * rng.integers(1, 4) * X[d] + rng.uniform(0, 6))
        for d in range(len(shape) - 1)
    )
    return np.where(X[-1] < height + wave, float(ratio), 1.0)


def bubbles_density(
    shape: tuple[int, ...], ratio: float, rng: np.random.Generator, *, count: int | None = None
) -> np.ndarray:
    """``rho [*shape]``: 2-12 balls of one phase in the other (heavy drops or light bubbles)."""
    if not ratio > 0:
        raise ValueError(f"ratio must be > 0, got {ratio}")
    X = _mesh(shape)
    inside = np.zeros(shape, dtype=bool)
    for _ in range(count if count is not None else int(rng.integers(2, 13))):
        c = rng.uniform(0.1, 0.9, size=len(shape))
        r = rng.uniform(0.05, 0.18)
        inside |= sum((x - ci) ** 2 for x, ci in zip(X, c)) < r**2
    heavy_inside = bool(rng.uniform() < 0.5)
    return np.where(inside == heavy_inside, float(ratio), 1.0)
