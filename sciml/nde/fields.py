"""Vector fields (the ``f(t, z)`` of a neural ODE) built from small MLPs."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MLPField"]


class MLPField(nn.Module):
    """``f(t, z) = MLP([z, t])``: ``z: [B, D] -> [B, D]``, time appended as one feature.

    Args:
        dim: state size ``D``; hidden: width; depth: number of hidden layers (>= 1).
        time: feed ``t`` as an extra input. activation: ``nn.Module`` class (default ``nn.Tanh``).
        cubic: apply the vector field to ``z**3`` (the spiral benchmark's feature map).
    """

    def __init__(
        self,
        dim: int,
        hidden: int = 32,
        depth: int = 1,
        *,
        time: bool = True,
        activation: type[nn.Module] = nn.Tanh,
        cubic: bool = False,
    ):
        super().__init__()
        if dim < 1 or hidden < 1 or depth < 1:
            raise ValueError(f"dim, hidden, depth must be >= 1, got {dim}, {hidden}, {depth}")
        self.dim, self.time, self.cubic = dim, time, cubic
        layers: list[nn.Module] = [nn.Linear(dim + int(time), hidden), activation()]
        for _ in range(depth - 1):
            layers += [nn.Linear(hidden, hidden), activation()]
        layers.append(nn.Linear(hidden, dim))
        self.net = nn.Sequential(*layers)

    def forward(self, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        if z.shape[-1] != self.dim:
            raise ValueError(f"z must be [..., {self.dim}], got shape {tuple(z.shape)}")
        h = z**3 if self.cubic else z
        if self.time:
            tt = torch.as_tensor(t, dtype=z.dtype, device=z.device).expand(*z.shape[:-1], 1)
            h = torch.cat([h, tt], dim=-1)
        return self.net(h)
