"""Small deterministic training problems shared by the tests in tests/train/ (and the DDP worker)."""

from __future__ import annotations

import torch

from sciml.grid import Grid


def smooth_inputs(n: int, size: int = 16, seed: int = 0) -> torch.Tensor:
    """``[n, 1, size, size]`` smooth periodic random fields (Fourier modes |k| <= 3), float32."""
    g = torch.Generator().manual_seed(seed)
    x, y = Grid((size, size), periodic=True).coords(dtype=torch.float64)
    out = torch.zeros(n, 1, size, size, dtype=torch.float64)
    for kx in range(-3, 4):
        for ky in range(0, 4):
            c = torch.randn(n, 2, generator=g, dtype=torch.float64) / (1 + kx * kx + ky * ky)
            phase = 2 * torch.pi * (kx * x + ky * y)
            out[:, 0] += c[:, :1, None] * torch.cos(phase) + c[:, 1:, None] * torch.sin(phase)
    return out.float()


def smoothing_operator(u: torch.Tensor, alpha: float = 0.1) -> torch.Tensor:
    """A nonlinear operator to learn: ``(1 - alpha Lap)^-1 u + 0.3 u^2`` on the periodic box."""
    s = u.shape[-1]
    k = torch.fft.fftfreq(s, d=1.0 / s)
    kr = torch.fft.rfftfreq(s, d=1.0 / s)
    kk = k[:, None] ** 2 + kr[None, :] ** 2
    smooth = torch.fft.irfft2(torch.fft.rfft2(u) / (1 + alpha * kk), s=u.shape[-2:])
    return smooth + 0.3 * u**2


def heat_trajectories(n: int, frames: int, size: int = 16, seed: int = 0):
    """Periodic heat-equation frames: ``(initial [n, 1, s, s], later frames [n, frames, s, s])``."""
    u = smooth_inputs(n, size, seed)
    s = u.shape[-1]
    k = torch.fft.fftfreq(s, d=1.0 / s)
    kr = torch.fft.rfftfreq(s, d=1.0 / s)
    decay = torch.exp(-0.02 * (k[:, None] ** 2 + kr[None, :] ** 2))
    out, cur = [], u
    for _ in range(frames):
        cur = torch.fft.irfft2(torch.fft.rfft2(cur) * decay, s=u.shape[-2:])
        out.append(cur)
    return u, torch.cat(out, dim=1)
