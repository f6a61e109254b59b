"""Invertible building blocks on ``[B, C, H, W]`` fields (the Invertible X-Net's parts).

Each layer has ``forward(x)`` and an exact ``inverse(y)``, and declares how its Jacobian
determinant behaves as the class attribute ``volume_preserving`` (``|det J| = 1``, i.e.
``log_det == 0``); ``tests/operators/test_invertible.py`` checks each against autograd.

* :class:`AdditiveCoupling` (Dinh et al., NICE 2015): ``y1 = x1``, ``y2 = x2 + F(x1)``; the
  Jacobian is unit lower-triangular.
* :class:`OrthogonalMixing` -- a learnable orthogonal 1x1 convolution ``W = expm(A - A^T)``
  (channel mixing before each split; Kingma & Dhariwal's invertible 1x1 convolution with an
  orthogonal parameterisation).
* :class:`InvertibleDownsampling` -- stride-2 "space to depth" with a learnable orthogonal 4x4
  mixing of each channel's 2x2 block, initialised to the 2-D Haar transform (Etmann et al.,
  iUNets 2020, learnable invertible up/down-sampling). ``[B, C, H, W] -> [B, 4C, H/2, W/2]``;
  its inverse is the matching invertible upsampling.

The orthogonal products are evaluated in float64 (then cast back), so a float32 network's
inverse undoes its forward to ~1e-7 relative error, not the ~1e-5 that float32 products of
hundreds of channels leave.

>>> import torch
>>> layer = AdditiveCoupling(6)
>>> _ = torch.nn.init.normal_(layer.net[-1].weight)  # leave the identity start
>>> x = torch.randn(2, 6, 8, 8, dtype=torch.float64)
>>> layer = layer.double()
>>> float((layer.inverse(layer(x)) - x).abs().max()) < 1e-12
True
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "AdditiveCoupling",
    "OrthogonalMixing",
    "InvertibleDownsampling",
    "orthogonal",
    "log_abs_det_jacobian",
]


def orthogonal(param: torch.Tensor) -> torch.Tensor:
    """``expm(A - A^T)`` for ``param = A: [..., n, n]``: an orthogonal matrix (special
    orthogonal, det +1), differentiable; ``A = 0`` gives the identity."""
    return torch.linalg.matrix_exp(param - param.transpose(-1, -2))


def _haar() -> torch.Tensor:
    """The orthonormal 2-D Haar transform of a 2x2 block (rows: LL, LH, HL, HH)."""
    h = torch.tensor(
        [
            [1.0, 1.0, 1.0, 1.0],
            [1.0, -1.0, 1.0, -1.0],
            [1.0, 1.0, -1.0, -1.0],
            [1.0, -1.0, -1.0, 1.0],
        ]
    )
    return h / 2


class AdditiveCoupling(nn.Module):
    """``y = [x1, x2 + F(x1)]`` with ``x1`` the first ``channels // 2`` channels.

    ``F`` = 3x3 convolution (no bias) -> LeakyReLU -> 3x3 convolution, the last zero-initialised so
    the layer starts as the identity. ``F`` uses no batch statistics, so the inverse is exact
    for any batch and in train or eval mode. Volume-preserving.

    Args:
        channels: ``C`` of ``[B, C, H, W]`` (at least 2).
        hidden: channels inside ``F`` (default ``channels``).
    """

    volume_preserving = True

    def __init__(self, channels: int, hidden: int | None = None) -> None:
        super().__init__()
        if not isinstance(channels, int) or channels < 2:
            raise ValueError(f"channels must be an int >= 2, got {channels!r}")
        self.c1 = channels // 2
        c2 = channels - self.c1
        hidden = hidden or channels
        self.net = nn.Sequential(
            nn.Conv2d(self.c1, hidden, 3, padding=1, bias=False),
            nn.LeakyReLU(0.2),
            nn.Conv2d(hidden, c2, 3, padding=1, bias=False),
        )
        nn.init.zeros_(self.net[-1].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x: [B, C, H, W] -> [B, C, H, W]``."""
        x1, x2 = x[:, : self.c1], x[:, self.c1 :]
        return torch.cat([x1, x2 + self.net(x1)], dim=1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """``y: [B, C, H, W] -> x`` with ``forward(x) == y``."""
        y1, y2 = y[:, : self.c1], y[:, self.c1 :]
        return torch.cat([y1, y2 - self.net(y1)], dim=1)


class OrthogonalMixing(nn.Module):
    """Learnable orthogonal 1x1 convolution ``y = W x`` over channels, ``W = expm(A - A^T)``.

    Initialised to a fixed random rotation (seeded by ``seed``) so consecutive couplings see
    different channel splits. Volume-preserving (``det W = 1``).
    """

    volume_preserving = True

    def __init__(self, channels: int, *, seed: int = 0) -> None:
        super().__init__()
        if not isinstance(channels, int) or channels < 1:
            raise ValueError(f"channels must be a positive int, got {channels!r}")
        g = torch.Generator().manual_seed(seed)
        self.param = nn.Parameter(torch.randn(channels, channels, generator=g) * 0.5)

    def weight(self) -> torch.Tensor:
        """``W: [C, C]`` in float64."""
        return orthogonal(self.param.double())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x: [B, C, H, W] -> [B, C, H, W]`` (computed in float64: a float32 product of
        width ``C`` would leave ``~sqrt(C)`` ulps that the inverse cannot undo)."""
        return torch.einsum("oc,bchw->bohw", self.weight(), x.double()).to(x.dtype)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """``y: [B, C, H, W] -> x`` (``W^T y``)."""
        return torch.einsum("co,bchw->bohw", self.weight(), y.double()).to(y.dtype)


class InvertibleDownsampling(nn.Module):
    """``[B, C, H, W] -> [B, 4C, H/2, W/2]``: each channel's 2x2 blocks mixed by a learnable
    orthogonal 4x4 matrix (one per channel), initialised to the Haar transform; ``inverse`` is
    the matching upsampling. ``H`` and ``W`` must be even. Volume-preserving."""

    volume_preserving = True

    def __init__(self, channels: int) -> None:
        super().__init__()
        if not isinstance(channels, int) or channels < 1:
            raise ValueError(f"channels must be a positive int, got {channels!r}")
        self.channels = channels
        self.param = nn.Parameter(torch.zeros(channels, 4, 4))
        self.register_buffer("haar", _haar())

    def weight(self) -> torch.Tensor:
        """Per-channel orthogonal matrices ``[C, 4, 4]`` (float64)."""
        return orthogonal(self.param.double()) @ self.haar.double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x: [B, C, H, W] -> [B, 4C, H/2, W/2]``."""
        b, c, h, w = x.shape
        if c != self.channels or h % 2 or w % 2:
            raise ValueError(
                f"x must be [B, {self.channels}, H, W] with even H, W, got {list(x.shape)}"
            )
        blocks = F.pixel_unshuffle(x, 2).reshape(b, c, 4, h // 2, w // 2)
        out = torch.einsum("cij,bcjhw->bcihw", self.weight(), blocks.double())
        return out.reshape(b, 4 * c, h // 2, w // 2).to(x.dtype)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """``y: [B, 4C, H/2, W/2] -> [B, C, H, W]``."""
        b, c4, h, w = y.shape
        c = c4 // 4
        blocks = y.reshape(b, c, 4, h, w)
        out = torch.einsum("cji,bcjhw->bcihw", self.weight(), blocks.double())
        return F.pixel_shuffle(out.reshape(b, 4 * c, h, w).to(y.dtype), 2)


def log_abs_det_jacobian(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``log |det d layer(x) / dx|`` of one sample ``x: [C, H, W]`` by autograd (small x only:
    builds the dense Jacobian). For tests of the ``volume_preserving`` contract."""
    n = x.numel()
    jac = torch.autograd.functional.jacobian(lambda z: layer(z[None])[0].reshape(-1), x)
    return torch.linalg.slogdet(jac.reshape(n, n)).logabsdet
