"""Random fields built from the cosine modes of a box (the Neumann Laplacian's eigenvectors).

Two kinds, both seeded by a ``numpy.random.Generator``:

* :func:`low_frequency_fields` -- a batch of fields on a cell-centred grid, every discrete
  cosine mode present, amplitudes rolling off as ``(1 + |k|^2 / k0^2)^(-power / 2)``; built by
  the orthonormal inverse DCT (``scipy.fft.idctn``, O(N log N)). This is the "Rayleigh-Ritz
  vector" distribution of the deep conjugate direction method (low modes first) for box
  domains, used for right-hand sides and training residuals. The draw depends on the grid
  shape (one amplitude per discrete mode).
* :func:`smooth_random_field` -- one smooth field with a *fixed* number of modes per axis,
  evaluated at the cell centres of any grid: **resolution consistent** (the same seed gives
  the same continuous field at 24^3 and at 128^3), for random media such as the level-set
  obstacles of :mod:`sciml.physics.fields.obstacles`.

>>> rng = np.random.default_rng(0)
>>> f = low_frequency_fields((8, 8), 2, rng=rng)
>>> f.shape, bool(abs(np.sqrt((f**2).mean(axis=(1, 2))) - 1).max() < 0.2)
((2, 8, 8), True)
>>> a = smooth_random_field((16, 16), np.random.default_rng(3))
>>> b = smooth_random_field((32, 32), np.random.default_rng(3))
>>> bool(abs(a - b.reshape(16, 2, 16, 2).mean(axis=(1, 3))).max() < 0.05)  # same field
True
"""

from __future__ import annotations

import numpy as np
import scipy.fft

__all__ = ["low_frequency_fields", "smooth_random_field", "cell_centres"]


def cell_centres(shape: tuple[int, ...]) -> list[np.ndarray]:
    """1-D cell-centre coordinates of the unit box, one ``[n_d]`` array per axis."""
    return [(np.arange(n, dtype=np.float64) + 0.5) / n for n in shape]


def _range(value: float | tuple[float, float], name: str) -> tuple[float, float]:
    lo, hi = (value, value) if np.isscalar(value) else value
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 <= lo <= hi):
        raise ValueError(f"{name} must be >= 0 or a range (lo, hi) with lo <= hi, got {value!r}")
    return float(lo), float(hi)


def low_frequency_fields(
    shape: tuple[int, ...],
    batch: int,
    *,
    rng: np.random.Generator,
    k0: float | tuple[float, float] = (1.0, 6.0),
    power: float | tuple[float, float] = 2.0,
    noise: float | tuple[float, float] = (0.0, 0.1),
) -> np.ndarray:
    """Random fields ``[batch, *shape]`` weighted toward low-frequency cosine modes.

    Mode ``k`` (``k_d = 0 .. n_d - 1`` per axis, the DCT-II / Neumann-Laplacian eigenvectors)
    gets a Gaussian amplitude times ``(1 + |k|^2 / k0^2)^(-power / 2)``; the field is the
    orthonormal inverse DCT, normalised to unit RMS, plus white noise of relative size
    ``noise``. ``k0``, ``power`` and ``noise`` may be ``(lo, hi)`` ranges, drawn per sample
    (``k0`` log-uniformly, the others uniformly).
    """
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    nd = len(shape)
    axes = tuple(range(1, nd + 1))
    kk = np.meshgrid(*[np.arange(n, dtype=np.float64) for n in shape], indexing="ij")
    k2 = sum(k**2 for k in kk)
    lo, hi = _range(k0, "k0")
    if lo <= 0:
        raise ValueError(f"k0 must be > 0, got {k0!r}")
    k0s = np.exp(rng.uniform(np.log(lo), np.log(hi), size=batch)).reshape(-1, *[1] * nd)
    plo, phi = _range(power, "power")
    pw = rng.uniform(plo, phi, size=batch).reshape(-1, *[1] * nd)
    weights = (1.0 + k2[None] / k0s**2) ** (-pw / 2)
    coeff = rng.standard_normal((batch, *shape)) * weights
    f = scipy.fft.idctn(coeff, type=2, axes=axes, norm="ortho")
    f /= np.sqrt((f**2).mean(axis=axes, keepdims=True)) + 1e-300
    nlo, nhi = _range(noise, "noise")
    eps = rng.uniform(nlo, nhi, size=batch).reshape(-1, *[1] * nd)
    return f + eps * rng.standard_normal(f.shape)


def smooth_random_field(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    *,
    modes: int = 6,
    power: float = 4.0,
    k0: float = 3.0,
) -> np.ndarray:
    """One smooth random field ``[*shape]`` on the cell centres of the unit box.

    ``sum_k c_k prod_d cos(pi k_d x_d)`` over ``k_d < modes`` with ``c_k`` Gaussian times
    ``(1 + |k|^2 / k0^2)^(-power / 2)``, normalised to unit RMS over the modes. The draw does
    not depend on ``shape``, so a seed is the same continuous field at every resolution.
    """
    if modes < 1:
        raise ValueError(f"modes must be >= 1, got {modes}")
    nd = len(shape)
    k = np.arange(modes, dtype=np.float64)
    k2 = sum(g**2 for g in np.meshgrid(*[k] * nd, indexing="ij"))
    c = rng.standard_normal((modes,) * nd) * (1.0 + k2 / k0**2) ** (-power / 2)
    c /= np.sqrt((c**2).sum()) + 1e-300
    f = c
    for x in cell_centres(shape):
        basis = np.cos(np.pi * np.outer(k, x))  # [modes, n_d]
        # contract the leading mode axis; the new grid axis goes to the end
        f = np.tensordot(f, basis, axes=([0], [0]))
    return f * np.sqrt(2.0**nd)
