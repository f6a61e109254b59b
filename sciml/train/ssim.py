"""Structural similarity (SSIM; Wang, Bovik, Sheikh and Simoncelli, IEEE TIP 2004), in torch.

``ssim(x, y)`` compares images ``[B, C, H, W]`` channel by channel through local means,
variances and covariance under an 11 x 11 Gaussian window (sigma 1.5),

    SSIM = (2 mu_x mu_y + C1) (2 s_xy + C2) / ((mu_x^2 + mu_y^2 + C1) (s_x^2 + s_y^2 + C2)),

``C1 = (0.01 L)^2``, ``C2 = (0.03 L)^2`` with ``L`` the data range. The window runs over the
zero-padded image ("same" size), as the pytorch-ssim package the GFI and OpenFWI papers
report with; the map's mean is the score. Differentiable (``1 - ssim`` is a training loss)
and needs no downloaded weights.

>>> import torch
>>> x = torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(0))
>>> round(float(ssim(x, x)), 6), bool(ssim(x, 1 - x) < 0)
(1.0, True)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["ssim", "gaussian_window"]


def gaussian_window(
    size: int = 11,
    sigma: float = 1.5,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Normalised 1-D Gaussian ``[size]``."""
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return (g / g.sum()).to(dtype=dtype, device=device)


def ssim(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    data_range: float = 1.0,
    window: int = 11,
    sigma: float = 1.5,
    reduction: str = "mean",
) -> torch.Tensor:
    """SSIM of ``x, y: [B, C, H, W]``; ``reduction="mean"`` (a scalar) or ``"none"`` (``[B]``,
    the mean over each sample's channels and pixels)."""
    if x.shape != y.shape or x.ndim != 4:
        raise ValueError(f"x and y must be [B, C, H, W] of one shape, got {list(x.shape)}, "
                         f"{list(y.shape)}")  # fmt: skip
    if reduction not in ("mean", "none"):
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    if not (isinstance(window, int) and window % 2 == 1 and window >= 1):
        raise ValueError(f"window must be an odd positive int, got {window!r}")
    c = x.shape[1]
    g = gaussian_window(window, sigma, dtype=x.dtype, device=x.device)
    kh = g.reshape(1, 1, window, 1).expand(c, 1, window, 1)
    kw = g.reshape(1, 1, 1, window).expand(c, 1, 1, window)
    pad = window // 2

    def blur(t: torch.Tensor) -> torch.Tensor:  # separable Gaussian, zero padding
        t = F.conv2d(t, kh, padding=(pad, 0), groups=c)
        return F.conv2d(t, kw, padding=(0, pad), groups=c)

    mu_x, mu_y = blur(x), blur(y)
    sxx = blur(x * x) - mu_x**2
    syy = blur(y * y) - mu_y**2
    sxy = blur(x * y) - mu_x * mu_y
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2))
    per_sample = s.flatten(1).mean(1)
    return per_sample.mean() if reduction == "mean" else per_sample
