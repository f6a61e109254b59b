"""Finite differences on a :class:`~sciml.grid.Grid`, batched, differentiable, any device.

Fields are ``[B, C, *grid.shape]``. Central stencils of the requested ``accuracy`` (2 or 4;
any even order works) in the interior; on non-periodic axes the rows near each end use
one-sided stencils of the same order (``derivative_order + accuracy`` points), so the whole
operator keeps its design order up to the boundary. Periodic axes wrap with ``torch.roll``.
Stencil weights come from solving the Taylor (Vandermonde) conditions, so every derivative
order is available.

>>> import torch
>>> from sciml.grid import Grid
>>> g = Grid((33,), bounds=((0.0, 1.0),))
>>> x = g.coords(dtype=torch.float64)[None]          # [1, 1, 33]
>>> err = derivative(x**3, g, 0, accuracy=4) - 3 * x**2
>>> bool(err.abs().max() < 1e-12)                      # exact for cubics at 4th order
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import torch

from sciml.grid import Grid
from sciml.physics.derivative_keys import canonical_key
from sciml.physics.spectral import spectral_derivative

__all__ = [
    "stencil_weights",
    "derivative",
    "gradient",
    "divergence",
    "laplacian",
    "div_a_grad",
    "grid_derivatives",
]


@lru_cache(maxsize=256)
def stencil_weights(order: int, offsets: tuple[int, ...], at: float = 0.0) -> tuple[float, ...]:
    """Weights ``w`` with ``sum_j w_j f(x + o_j h) ~ h^order f^(order)(x + at h)``.

    Solves the Taylor conditions ``sum_j w_j (o_j - at)^k / k! = [k == order]``.
    """
    if order >= len(offsets):
        raise ValueError(f"a derivative of order {order} needs more than {len(offsets)} points")
    o = np.asarray(offsets, dtype=np.float64) - at
    k = np.arange(len(offsets))
    vander = o[None, :] ** k[:, None] / np.array([math.factorial(int(i)) for i in k])[:, None]
    rhs = (k == order).astype(np.float64)
    return tuple(np.linalg.solve(vander, rhs).tolist())


def _check(u: torch.Tensor, grid: Grid, name: str = "u") -> None:
    if not isinstance(grid, Grid):
        raise TypeError(f"grid must be a sciml.grid.Grid, got {type(grid)}")
    grid.check_field(u, name)


def _check_accuracy(accuracy: int) -> None:
    if not isinstance(accuracy, int) or accuracy < 2 or accuracy % 2:
        raise ValueError(f"accuracy must be an even integer >= 2 (2 or 4), got {accuracy!r}")


def derivative(
    u: torch.Tensor, grid: Grid, axis: int, order: int = 1, accuracy: int = 2
) -> torch.Tensor:
    """``d^order u / dx_axis^order`` of ``u: [B, C, *shape]`` -> ``[B, C, *shape]``.

    Order of accuracy ``accuracy`` everywhere, including one-sided rows at non-periodic ends.
    """
    _check(u, grid)
    _check_accuracy(accuracy)
    if not 0 <= axis < grid.ndim:
        raise ValueError(f"axis must be in [0, {grid.ndim}), got {axis}")
    if order < 1:
        raise ValueError(f"order must be >= 1, got {order}")
    dim = axis + 2
    n = grid.shape[axis]
    scale = 1.0 / grid.spacing[axis] ** order
    r = (order + accuracy - 1) // 2
    central = stencil_weights(order, tuple(range(-r, r + 1)))
    if grid.periodic[axis]:
        if n < 2 * r + 1:
            raise ValueError(f"axis {axis} has {n} points; this stencil needs {2 * r + 1}")
        return scale * sum(
            w * torch.roll(u, -o, dims=dim) for o, w in zip(range(-r, r + 1), central)
        )
    nb = order + accuracy
    if n < max(nb, 2 * r + 1):
        raise ValueError(
            f"axis {axis} has {n} points; order-{order} derivatives at accuracy {accuracy} "
            f"need at least {max(nb, 2 * r + 1)}"
        )
    inner = sum(w * u.narrow(dim, r + o, n - 2 * r) for o, w in zip(range(-r, r + 1), central))
    pts = tuple(range(nb))
    left_w = torch.tensor(
        [stencil_weights(order, pts, float(i)) for i in range(r)], dtype=u.dtype, device=u.device
    )  # [r, nb]
    right_w = torch.tensor(
        [stencil_weights(order, pts, float(nb - r + j)) for j in range(r)],
        dtype=u.dtype,
        device=u.device,
    )
    head = torch.movedim(u.narrow(dim, 0, nb), dim, -1) @ left_w.T  # [..., r]
    tail = torch.movedim(u.narrow(dim, n - nb, nb), dim, -1) @ right_w.T
    out = torch.cat([torch.movedim(head, -1, dim), inner, torch.movedim(tail, -1, dim)], dim=dim)
    return scale * out


def gradient(u: torch.Tensor, grid: Grid, accuracy: int = 2) -> torch.Tensor:
    """Gradient of ``u: [B, C, *shape]`` -> ``[B, C * ndim, *shape]`` (channel ``c`` gives
    components ``c * ndim + axis``)."""
    _check(u, grid)
    parts = [derivative(u, grid, ax, 1, accuracy) for ax in range(grid.ndim)]
    g = torch.stack(parts, dim=2)  # [B, C, ndim, *S]
    return g.reshape(u.shape[0], -1, *grid.shape)


def divergence(v: torch.Tensor, grid: Grid, accuracy: int = 2) -> torch.Tensor:
    """Divergence of ``v: [B, k * ndim, *shape]`` (``k`` vector fields) -> ``[B, k, *shape]``."""
    _check(v, grid, "v")
    if v.shape[1] % grid.ndim:
        raise ValueError(
            f"v must have a multiple of ndim={grid.ndim} channels (vector components), "
            f"got {v.shape[1]}"
        )
    k = v.shape[1] // grid.ndim
    vs = v.reshape(v.shape[0], k, grid.ndim, *grid.shape)
    out = 0
    for ax in range(grid.ndim):
        out = out + derivative(vs[:, :, ax], grid, ax, 1, accuracy)
    return out


def laplacian(u: torch.Tensor, grid: Grid, accuracy: int = 2) -> torch.Tensor:
    """Laplacian of ``u: [B, C, *shape]`` -> ``[B, C, *shape]``."""
    _check(u, grid)
    return sum(derivative(u, grid, ax, 2, accuracy) for ax in range(grid.ndim))


def div_a_grad(u: torch.Tensor, a: torch.Tensor, grid: Grid, accuracy: int = 2) -> torch.Tensor:
    """``div(a grad u)`` for ``u: [B, C, *shape]`` and coefficient ``a`` broadcastable to it
    (``[B, 1, *shape]``, ``[1, 1, *shape]`` or ``[*shape]``) -> ``[B, C, *shape]``.

    ``accuracy=2``: the compact conservative stencil
    ``(a_{i+1/2}(u_{i+1} - u_i) - a_{i-1/2}(u_i - u_{i-1})) / h^2`` with arithmetic face means
    in the interior (and across periodic wraps; conservative, fine for piecewise-constant ``a``),
    the product rule ``a u'' + a' u'`` with one-sided stencils in the two end rows.
    ``accuracy=4``: the product rule ``a Laplacian(u) + grad a . grad u`` with fourth-order
    stencils (needs a smooth ``a``).
    """
    _check(u, grid)
    _check_accuracy(accuracy)
    a = torch.as_tensor(a, dtype=u.dtype, device=u.device)
    if a.shape == grid.shape:
        a = a[None, None]
    try:
        a = a.expand_as(u)
    except RuntimeError:
        raise ValueError(
            f"a must broadcast to u's shape {list(u.shape)} ([B, 1, *shape] or [*shape]), "
            f"got {list(a.shape)}"
        ) from None
    out = 0
    for ax in range(grid.ndim):
        # product rule a u'' + a' u' (order `accuracy` up to the ends, also with one-sided rows)
        product = a * derivative(u, grid, ax, 2, accuracy) + derivative(
            a, grid, ax, 1, accuracy
        ) * derivative(u, grid, ax, 1, accuracy)
        if accuracy != 2:
            out = out + product
            continue
        dim, h, n = ax + 2, grid.spacing[ax], grid.shape[ax]
        if grid.periodic[ax]:
            a_face = 0.5 * (a + torch.roll(a, -1, dims=dim))
            flux = a_face * (torch.roll(u, -1, dims=dim) - u) / h  # face i+1/2
            out = out + (flux - torch.roll(flux, 1, dims=dim)) / h
            continue
        a_face = 0.5 * (a.narrow(dim, 0, n - 1) + a.narrow(dim, 1, n - 1))
        flux = a_face * (u.narrow(dim, 1, n - 1) - u.narrow(dim, 0, n - 1)) / h  # [.., n-1]
        inner = (flux.narrow(dim, 1, n - 2) - flux.narrow(dim, 0, n - 2)) / h
        out = out + torch.cat(
            [product.narrow(dim, 0, 1), inner, product.narrow(dim, n - 1, 1)], dim=dim
        )
    return out


def grid_derivatives(
    u: torch.Tensor,
    grid: Grid,
    keys: Iterable[str],
    *,
    letters: str | None = None,
    accuracy: int = 2,
    spectral: bool = False,
) -> dict[str, torch.Tensor]:
    """Derivatives of ``u: [B, C, *shape]`` keyed like :func:`sciml.physics.pdes.pde.PDE.residual_from`.

    Args:
        keys: e.g. ``("x", "xx", "yy", "t")`` (letters in any order; results use canonical keys).
        letters: the letter of each grid axis; default ``"xyz"[:ndim]``. A space-time grid for
            a 1-D time-dependent PDE uses ``"xt"``.
        accuracy: finite-difference order (2 or 4).
        spectral: FFT derivatives on periodic axes (:mod:`sciml.physics.spectral`).

    Returns:
        dict canonical key -> ``[B, C, *shape]``.
    """
    _check(u, grid)
    letters = letters or "xyz"[: grid.ndim]
    if len(letters) != grid.ndim or len(set(letters)) != grid.ndim:
        raise ValueError(
            f"letters must name each of the {grid.ndim} grid axes once, got {letters!r}"
        )
    out = {}
    for key in keys:
        key = canonical_key(key)
        if set(key) - set(letters):
            raise ValueError(f"derivative key {key!r} uses axes not on this grid ({letters!r})")
        v = u
        for letter in dict.fromkeys(key):
            ax, m = letters.index(letter), key.count(letter)
            if spectral and grid.periodic[ax]:
                v = spectral_derivative(v, grid, ax, m)
            else:
                v = derivative(v, grid, ax, m, accuracy)
        out[key] = v
    return out
