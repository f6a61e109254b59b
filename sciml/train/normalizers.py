"""Gaussian (z-score) normalisers that travel with the model.

A normaliser is an ``nn.Module`` whose statistics are buffers, so it is saved in the model's
``state_dict`` and moves with ``.to(device)``. :class:`NormalizedOperator` wraps a model with an
input and an output normaliser; it takes and returns fields in *physical* units, which is what
evaluation, resolution transfer and autoregressive rollout need. Statistics are per channel (a
scalar per channel), so they apply on any grid resolution.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["GaussianNormalizer", "NormalizedOperator"]


class GaussianNormalizer(nn.Module):
    """``encode(x) = (x - mean) / (std + eps)`` with statistics per channel (or one for all).

    Args:
        channels: number of channels ``C`` of the fields it will see.
        per_channel: one mean/std per channel (default) or a single pair shared by all channels
            (use this for autoregressive rollout, where predicted frames become inputs).
        eps: added to the standard deviation.

    Fields are ``[B, C, *S]``.
    """

    def __init__(self, channels: int, per_channel: bool = True, eps: float = 1e-6) -> None:
        super().__init__()
        if int(channels) < 1:
            raise ValueError(f"channels must be >= 1, got {channels}")
        self.channels = int(channels)
        self.per_channel = bool(per_channel)
        self.eps = float(eps)
        n = self.channels if per_channel else 1
        self.register_buffer("mean", torch.zeros(n))
        self.register_buffer("std", torch.ones(n))
        self.register_buffer("fitted", torch.tensor(False))

    def _check(self, x: torch.Tensor, name: str) -> None:
        if not isinstance(x, torch.Tensor) or x.ndim < 3:
            raise ValueError(f"{name} must be a tensor [B, C, *S], got {getattr(x, 'shape', x)}")
        if x.shape[1] != self.channels:
            raise ValueError(f"{name} must have {self.channels} channels, got {x.shape[1]}")

    @torch.no_grad()
    def fit(self, x: torch.Tensor) -> GaussianNormalizer:
        """Set the statistics from ``x: [N, C, *S]`` (float64 accumulation); returns self."""
        self._check(x, "x")
        xd = x.detach().to(torch.float64)
        if self.per_channel:
            dims = [0] + list(range(2, x.ndim))
            mean, std = xd.mean(dim=dims), xd.std(dim=dims, correction=0)
        else:
            mean, std = xd.mean().reshape(1), xd.std(correction=0).reshape(1)
        self.mean.copy_(mean.to(self.mean.dtype))
        self.std.copy_(std.to(self.std.dtype))
        self.fitted.fill_(True)
        return self

    def _view(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return t.to(x.dtype).reshape(1, -1, *([1] * (x.ndim - 2)))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Physical ``x: [B, C, *S]`` -> normalised ``[B, C, *S]``."""
        self._check(x, "x")
        return (x - self._view(self.mean, x)) / (self._view(self.std, x) + self.eps)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Normalised ``z: [B, C, *S]`` -> physical ``[B, C, *S]``."""
        self._check(z, "z")
        return z * (self._view(self.std, z) + self.eps) + self._view(self.mean, z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, per_channel={self.per_channel}"


class NormalizedOperator(nn.Module):
    """``y = y_norm.decode(model(x_norm.encode(x)))``: a model that speaks physical units.

    Args:
        model: maps ``[B, C_in, *S] -> [B, C_out, *S]`` in normalised units.
        x_norm, y_norm: :class:`GaussianNormalizer` for inputs and outputs (``None``: identity).
    """

    def __init__(
        self,
        model: nn.Module,
        x_norm: GaussianNormalizer | None = None,
        y_norm: GaussianNormalizer | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.x_norm = x_norm
        self.y_norm = y_norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x: [B, C_in, *S]`` (physical) -> ``[B, C_out, *S]`` (physical)."""
        z = self.x_norm.encode(x) if self.x_norm is not None else x
        out = self.model(z)
        return self.y_norm.decode(out) if self.y_norm is not None else out
