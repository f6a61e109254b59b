"""Gaussian random fields on a :class:`~sciml.grid.Grid` by FFT, seeded per sample.

A field is white noise filtered in Fourier space by the square root of a spectral density:

* ``(-Laplacian + tau^2)^(-alpha)`` (the FNO / LSM recipe: ``tau=3, alpha=2`` for Darcy,
  ``tau=7, alpha=2.5`` for Navier-Stokes initial vorticity), scaled by ``sigma``
  (default ``tau^(alpha - d/2)``, which keeps the field's size similar across ``tau``);
* Matern with smoothness ``nu``, length scale ``l`` and marginal variance ``variance``:
  the same form with ``tau^2 = 2 nu / l^2`` and ``alpha = nu + d/2``, normalised so that the
  discrete field has exactly the requested pointwise variance.

Wavenumbers come from the grid (``2 pi fftfreq(n, h)``); the field is periodic with period
``n h`` along every axis (on a periodic grid that is the box). The covariance is exactly the
circulant one of the spectrum: ``E|u_hat_k|^2 = N sigma^2 lambda_k / V``.

Seeding: each sample is drawn from its own ``torch.Generator(seed)`` on the CPU, so a seed
gives the same sample whatever the batch it sits in and whatever the device.

>>> from sciml.grid import Grid
>>> g = Grid((32, 32), periodic=True)
>>> u = gaussian_random_field(g, [3, 4], alpha=2.0, tau=3.0)
>>> u.shape, bool(torch.equal(u[1], gaussian_random_field(g, [4])[0]))
(torch.Size([2, 1, 32, 32]), True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from sciml.grid import Grid

__all__ = [
    "white_noise",
    "grf_spectrum",
    "gaussian_random_field",
    "matern_field",
    "threshold_field",
    "darcy_coefficient",
    "as_seeds",
]


def as_seeds(seeds: int | Sequence[int] | torch.Tensor) -> list[int]:
    """Normalise ``seeds`` (an int, a sequence of ints or a 1-D integer tensor) to a list."""
    if isinstance(seeds, torch.Tensor):
        if seeds.dtype.is_floating_point or seeds.ndim > 1:
            raise ValueError(
                f"seeds must be a 1-D integer tensor, got {seeds.dtype} {list(seeds.shape)}"
            )
        seeds = seeds.reshape(-1).tolist()
    if isinstance(seeds, int):
        return [seeds]
    try:
        out = [int(s) for s in seeds]
    except (TypeError, ValueError):
        raise TypeError(f"seeds must be an int or a sequence of ints, got {seeds!r}") from None
    if not out:
        raise ValueError("seeds must not be empty")
    if any(s < 0 for s in out):
        raise ValueError(f"seeds must be non-negative, got {out}")
    return out


def white_noise(
    shape: Sequence[int], seeds, *, device=None, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Standard normal noise ``[B, *shape]``, sample ``b`` from ``torch.Generator(seeds[b])``.

    Drawn in float64 on the CPU (one generator per sample; this loop runs over samples, not
    grid points), then cast and moved, so results do not depend on device or batch.
    """
    seeds = as_seeds(seeds)
    noise = torch.stack(
        [
            torch.randn(
                tuple(shape), generator=torch.Generator().manual_seed(s), dtype=torch.float64
            )
            for s in seeds
        ]
    )
    return noise.to(device=device, dtype=dtype)


def _k2(grid: Grid, dtype=torch.float64) -> torch.Tensor:
    ks = []
    for ax, (n, h) in enumerate(zip(grid.shape, grid.spacing)):
        f = (
            torch.fft.rfftfreq(n, d=h, dtype=dtype)
            if ax == grid.ndim - 1
            else torch.fft.fftfreq(n, d=h, dtype=dtype)
        )
        ks.append(2 * math.pi * f)
    return sum(k**2 for k in torch.meshgrid(*ks, indexing="ij"))


def grf_spectrum(grid: Grid, *, alpha: float, tau: float) -> torch.Tensor:
    """``(|k|^2 + tau^2)^(-alpha)`` on the ``rfftn`` layout of ``grid`` (float64)."""
    return (_k2(grid) + tau**2) ** (-alpha)


def _filter(noise: torch.Tensor, grid: Grid, amplitude: torch.Tensor) -> torch.Tensor:
    dims = tuple(range(1, noise.ndim))
    amp = amplitude.to(device=noise.device, dtype=noise.dtype)
    return torch.fft.irfftn(torch.fft.rfftn(noise, dim=dims) * amp, s=grid.shape, dim=dims)


def _check(grid: Grid, alpha: float, tau: float) -> None:
    if not isinstance(grid, Grid):
        raise TypeError(f"grid must be a sciml.grid.Grid, got {type(grid)}")
    if not alpha > grid.ndim / 4:
        raise ValueError(
            f"alpha must be > d/4 = {grid.ndim / 4} for a finite variance, got {alpha}"
        )
    if not tau >= 0:
        raise ValueError(f"tau must be >= 0, got {tau}")


def gaussian_random_field(
    grid: Grid,
    seeds: int | Sequence[int] | torch.Tensor,
    *,
    alpha: float = 2.0,
    tau: float = 3.0,
    sigma: float | None = None,
    zero_mean: bool = True,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Samples of the GRF ``N(0, sigma^2 (-Laplacian + tau^2)^(-alpha))``: ``[B, 1, *grid.shape]``.

    Args:
        grid: the grid (1-3-D); the field is periodic with period ``n h`` per axis.
        seeds: one seed per sample (an int gives one sample).
        alpha, tau: spectral decay and inverse length scale.
        sigma: amplitude; default ``tau^(alpha - d/2)`` (the FNO scaling).
        zero_mean: drop the ``k = 0`` mode (the FNO recipes do).
    """
    _check(grid, alpha, tau)
    if tau == 0 and not zero_mean:
        raise ValueError("tau = 0 needs zero_mean=True (the k = 0 mode has infinite variance)")
    sigma = tau ** (alpha - grid.ndim / 2) if sigma is None else float(sigma)
    lam = (
        grf_spectrum(grid, alpha=alpha, tau=tau)
        if tau > 0
        else _k2(grid).clamp_min(1e-300) ** -alpha
    )
    volume = math.prod(n * h for n, h in zip(grid.shape, grid.spacing))
    # Var u(x) = sum_k |amp_k|^2 / N must equal the continuum sigma^2 sum_k lambda_k / V
    amplitude = sigma * lam.sqrt() * math.sqrt(grid.size / volume)
    if zero_mean:
        amplitude.reshape(-1)[0] = 0.0
    noise = white_noise(grid.shape, seeds, dtype=torch.float64)
    u = _filter(noise, grid, amplitude)[:, None]
    return u.to(device=device, dtype=dtype)


def matern_field(
    grid: Grid,
    seeds: int | Sequence[int] | torch.Tensor,
    *,
    nu: float = 1.5,
    length_scale: float = 0.1,
    variance: float = 1.0,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Samples of a (periodised) Matern field with pointwise variance ``variance``:
    ``[B, 1, *grid.shape]``. Spectrum ``(2 nu / l^2 + |k|^2)^(-(nu + d/2))``."""
    if not (nu > 0 and length_scale > 0 and variance > 0):
        raise ValueError(
            f"nu, length_scale and variance must be > 0, got {nu}, {length_scale}, {variance}"
        )
    alpha, tau = nu + grid.ndim / 2, math.sqrt(2 * nu) / length_scale
    _check(grid, alpha, tau)
    lam = grf_spectrum(grid, alpha=alpha, tau=tau)
    # discrete pointwise variance of the filtered noise is sum_k |amp_k|^2 / N (full spectrum)
    full = _full_spectrum_sum(lam, grid)
    amplitude = lam.sqrt() * math.sqrt(variance * grid.size / full)
    u = _filter(white_noise(grid.shape, seeds, dtype=torch.float64), grid, amplitude)[:, None]
    return u.to(device=device, dtype=dtype)


def _full_spectrum_sum(lam_r: torch.Tensor, grid: Grid) -> float:
    """Sum of a real-symmetric spectrum over all modes, given its ``rfftn`` half."""
    n = grid.shape[-1]
    weight = torch.full((lam_r.shape[-1],), 2.0, dtype=lam_r.dtype)
    weight[0] = 1.0
    if n % 2 == 0:
        weight[-1] = 1.0
    return float((lam_r * weight).sum())


def threshold_field(
    field: torch.Tensor, *, high: float = 12.0, low: float = 3.0, threshold: float = 0.0
) -> torch.Tensor:
    """Piecewise-constant ``high`` where ``field >= threshold``, else ``low`` (same shape)."""
    return torch.where(
        field >= threshold,
        torch.as_tensor(high, dtype=field.dtype),
        torch.as_tensor(low, dtype=field.dtype),
    )


def darcy_coefficient(
    grid: Grid,
    seeds: int | Sequence[int] | torch.Tensor,
    *,
    alpha: float = 2.0,
    tau: float = 3.0,
    high: float = 12.0,
    low: float = 3.0,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """The FNO Darcy coefficient: ``12`` where a ``(tau=3, alpha=2)`` GRF is ``>= 0``, else ``3``.

    Returns ``[B, 1, *grid.shape]``.
    """
    u = gaussian_random_field(grid, seeds, alpha=alpha, tau=tau, dtype=torch.float64)
    return threshold_field(u, high=high, low=low).to(device=device, dtype=dtype)
