"""Offline data for the regularization experiments (all synthetic or bundled with scikit-learn).

* :func:`spiral_ode_data` - the cubic spiral ``y' = (y^3) A`` of torchdiffeq's demo; its speed
  ``|f|`` varies ~60x along the trajectory (fast start, slow tail), a mildly stiff target.
* :func:`spiral_sde_data` - the spiral SDE of Pal et al. 2021 (DiffEqFlux recipe): the same drift,
  multiplicative diffusion ``0.1 y``, mean and variance over many paths at 30 times on [0, 1];
  :func:`sde_moments` computes such moments for any diagonal-noise SDE.
* :func:`digits_data` - scikit-learn's bundled 8x8 digits (1797 images, no download).
* :func:`irregular_series_data` - damped sinusoids observed at random irregular times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torchsde
from torchdiffeq import odeint

__all__ = [
    "SPIRAL_A",
    "spiral_ode_data",
    "spiral_sde_data",
    "digits_data",
    "irregular_series_data",
    "SpiralSDEData",
    "sde_moments",
    "spiral_sde",
]

SPIRAL_A = ((-0.1, 2.0), (-2.0, -0.1))


def _spiral_field(dtype: torch.dtype):
    a = torch.tensor(SPIRAL_A, dtype=dtype)
    return lambda t, y: (y**3) @ a


def spiral_ode_data(
    n_times: int = 200, t_end: float = 10.0, dtype: torch.dtype = torch.float32
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(t [T], y [T, 2])``: the true spiral from ``y0 = (2, 0)`` (dopri5, rtol 1e-9).
    (Doubling ``n_times - 1`` keeps the old times at the even indices, adding midpoints.)"""
    if n_times < 2 or t_end <= 0:
        raise ValueError(f"need n_times >= 2 and t_end > 0, got {n_times}, {t_end}")
    t = torch.linspace(0.0, t_end, n_times, dtype=torch.float64)
    y0 = torch.tensor([2.0, 0.0], dtype=torch.float64)
    y = odeint(_spiral_field(torch.float64), y0, t, rtol=1e-9, atol=1e-10)
    return t.to(dtype), y.to(dtype)


def spiral_sde(dtype: torch.dtype = torch.float32) -> torch.nn.Module:
    """The true spiral SDE (drift ``(y^3) A``, diffusion ``0.1 y``) in torchsde's interface."""
    return _SpiralSDE(dtype)


class _SpiralSDE(torch.nn.Module):
    noise_type, sde_type = "diagonal", "ito"

    def __init__(self, dtype: torch.dtype):
        super().__init__()
        self.field = _spiral_field(dtype)

    def f(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.field(t, y)

    def g(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return 0.1 * y


@dataclass
class SpiralSDEData:
    """``t: [T]``, ``mean, var: [T, D]`` over paths, ``y0: [D]`` (any SDE; the name is historical)."""

    t: torch.Tensor
    mean: torch.Tensor
    var: torch.Tensor
    y0: torch.Tensor


def sde_moments(
    sde: torch.nn.Module,
    y0: torch.Tensor,
    t: torch.Tensor,
    *,
    n_paths: int = 2000,
    seed: int = 0,
    dt: float = 1e-3,
    dtype: torch.dtype = torch.float32,
) -> SpiralSDEData:
    """Per-time mean and variance over ``n_paths`` paths of a torchsde-style diagonal-noise
    ``sde`` (float64 derivative-free Milstein at fixed ``dt``) from ``y0: [D]`` at ``t: [T]``."""
    if n_paths < 2 or dt <= 0:
        raise ValueError(f"need n_paths >= 2 and dt > 0, got {n_paths}, {dt}")
    t = torch.as_tensor(t, dtype=torch.float64)
    y0 = torch.as_tensor(y0, dtype=torch.float64)
    bm = torchsde.BrownianInterval(
        t0=float(t[0]),
        t1=float(t[-1]),
        size=(n_paths, y0.numel()),
        dtype=torch.float64,
        entropy=seed,
        levy_area_approximation="none",
    )
    ys = torchsde.sdeint(
        sde,
        y0.expand(n_paths, y0.numel()),
        t,
        bm=bm,
        method="milstein",
        dt=dt,
        options={"grad_free": True},
    )
    return SpiralSDEData(t.to(dtype), ys.mean(1).to(dtype), ys.var(1).to(dtype), y0.to(dtype))


def spiral_sde_data(
    n_paths: int = 2000, n_times: int = 30, seed: int = 0, dtype: torch.dtype = torch.float32
) -> SpiralSDEData:
    """Moments of the true spiral SDE on ``[0, 1]`` (Milstein, fixed ``dt = 1e-3``)."""
    t = torch.linspace(0.0, 1.0, n_times, dtype=torch.float64)
    y0 = torch.tensor([2.0, 0.0], dtype=torch.float64)
    return sde_moments(
        _SpiralSDE(torch.float64), y0, t, n_paths=n_paths, seed=seed, dt=1e-3, dtype=dtype
    )


def digits_data(
    seed: int = 0, test_fraction: float = 0.2, dtype: torch.dtype = torch.float32
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x_train [N, 64], y_train [N], x_test, y_test)`` from ``sklearn.datasets.load_digits``,
    pixels scaled to [0, 1], stratified split."""
    # heavy optional dependency (scikit-learn): loaded when first used
    from sklearn.datasets import load_digits

    # heavy optional dependency (scikit-learn): loaded when first used
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = d.data.astype(np.float64) / 16.0
    xtr, xte, ytr, yte = train_test_split(
        x, d.target, test_size=test_fraction, random_state=seed, stratify=d.target
    )
    return (
        torch.tensor(xtr, dtype=dtype),
        torch.tensor(ytr, dtype=torch.long),
        torch.tensor(xte, dtype=dtype),
        torch.tensor(yte, dtype=torch.long),
    )


def irregular_series_data(
    n_series: int = 512,
    n_times: int = 50,
    t_end: float = 5.0,
    observed: float = 0.4,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Damped sinusoids ``a exp(-g t) sin(w t + p)`` on a ``[T]`` grid, each observed at a random
    ``observed`` fraction of the times (at least 3).

    Returns ``(t [T], x [N, T, 1], mask [N, T, 1], x_full [N, T, 1])``; ``x`` is zero where
    ``mask == 0``; ``x_full`` holds every value (for interpolation error)."""
    if not 0 < observed <= 1:
        raise ValueError(f"observed must be in (0, 1], got {observed}")
    g = np.random.default_rng(seed)
    t = np.linspace(0.0, t_end, n_times)
    a = g.uniform(0.5, 1.5, (n_series, 1))
    gam = g.uniform(0.05, 0.3, (n_series, 1))
    w = g.uniform(1.0, 2.5, (n_series, 1))
    p = g.uniform(0, 2 * np.pi, (n_series, 1))
    full = a * np.exp(-gam * t) * np.sin(w * t + p)
    mask = (g.random((n_series, n_times)) < observed).astype(np.float64)
    mask[np.arange(n_series), g.integers(0, n_times, n_series)] = 1.0
    mask[:, 0] = 1.0
    x = full * mask
    to = lambda v: torch.tensor(v, dtype=dtype).unsqueeze(-1)  # noqa: E731
    return torch.tensor(t, dtype=dtype), to(x), to(mask), to(full)
