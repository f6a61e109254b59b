"""Physics attention on point sets (Transolver; Wu, Luo, Wang, Wang, Long, ICML 2024).

Re-implemented from the paper's description. Attention among ``N`` mesh points costs
``O(N^2)``; *physics attention* attends among ``M << N`` learned **slices** instead:

1. every point ``i`` gets soft slice weights ``w_i = softmax(W x_i / T) in R^M`` (``T`` a
   learned temperature per head): points in similar physical states share slices;
2. each slice's **token** is the weighted mean of the point features,
   ``z_j = sum_i v_i w_ij f_i / sum_i v_i w_ij`` with ``v_i`` the nodes' quadrature weights
   (lumped cell volumes; equal for a bare point cloud; zero on padding), so a token is a
   mean over the domain rather than over however many nodes happen to describe it;
3. ordinary multi-head attention runs among the ``M`` tokens;
4. tokens are scattered back (**desliced**) with the same weights, ``f'_i = sum_j w_ij z'_j``.

The cost is ``O(N M + M^2)``, linear in the number of points; nothing depends on a grid,
so any point count, 2-D or 3-D coordinates, and a mesh refined by any factor work (slice
tokens are means, so a refined mesh of the same geometry gives nearly the same tokens).
A Transolver is a lift (MLP of coordinates and inputs), ``layers`` pre-norm blocks
(physics attention + MLP, residual) and a linear head.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from sciml.operators.mesh.mesh_operator import MeshOperator

__all__ = ["PhysicsAttention", "Transolver"]


class PhysicsAttention(nn.Module):
    """Physics attention over point features ``[B, N, C]`` (see the module docstring).

    Args:
        width: feature size ``C`` (divisible by ``heads``).
        heads: attention heads (each with ``C / heads`` features and its own slices).
        slices: number of slices ``M``.
    """

    def __init__(
        self, width: int, heads: int = 8, slices: int = 32, temperature: float = 0.5
    ) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"width ({width}) must be divisible by heads ({heads})")
        if slices < 1:
            raise ValueError(f"slices must be >= 1, got {slices}")
        self.heads, self.dim = heads, width // heads
        d = self.dim
        self.to_fx = nn.Linear(width, width)
        self.to_x = nn.Linear(width, width)
        self.to_slice = nn.Linear(d, slices)
        nn.init.orthogonal_(self.to_slice.weight)  # slices start distinct
        self.temperature = nn.Parameter(torch.full((1, heads, 1, 1), float(temperature)))
        self.q = nn.Linear(d, d, bias=False)
        self.k = nn.Linear(d, d, bias=False)
        self.v = nn.Linear(d, d, bias=False)
        self.out = nn.Linear(width, width)

    def _split(self, t: torch.Tensor) -> torch.Tensor:  # [B, N, C] -> [B, h, N, d]
        return t.reshape(t.shape[0], t.shape[1], self.heads, self.dim).transpose(1, 2)

    def slice_weights(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Slice weights ``[B, heads, N, M]`` of the points (zero on padding)."""
        logits = self.to_slice(self._split(self.to_x(h)))
        w = torch.softmax(logits / self.temperature.clamp(0.05, 5.0).to(logits.dtype), dim=-1)
        return w * mask[:, None, :, None].to(w.dtype)

    def forward(self, h: torch.Tensor, mask: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """``h: [B, N, C]``, ``mask: [B, N]``, quadrature ``weights: [B, N]`` -> ``[B, N, C]``."""
        w = self.slice_weights(h, mask)
        wv = w * weights[:, None, :, None].to(w.dtype)  # slice weight x quadrature weight
        fx = self._split(self.to_fx(h))  # [B, h, N, d]
        norm = wv.sum(2).unsqueeze(-1)  # [B, h, M, 1]
        eps = 1e-6 * weights.sum(1).to(w.dtype)[:, None, None, None]  # relative to the total
        tokens = torch.einsum("bhnm,bhnd->bhmd", wv, fx) / (norm + eps)
        tokens = F.scaled_dot_product_attention(self.q(tokens), self.k(tokens), self.v(tokens))
        out = torch.einsum("bhmd,bhnm->bhnd", tokens, w)  # deslice
        return self.out(out.transpose(1, 2).reshape(h.shape))


class _Block(nn.Module):
    def __init__(
        self, width: int, heads: int, slices: int, mlp_ratio: int, temperature: float
    ) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attention = PhysicsAttention(width, heads, slices, temperature)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            nn.Linear(width, width * mlp_ratio), nn.GELU(), nn.Linear(width * mlp_ratio, width)
        )

    def forward(self, h: torch.Tensor, mask: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        h = h + self.attention(self.norm1(h), mask, weights)
        return h + self.mlp(self.norm2(h))


class Transolver(MeshOperator):
    """Transolver: physics-attention blocks on point sets,
    ``(points [B, N, d], x [B, C_in, N], mask [B, N]) -> [B, C_out, N]``.

    Args:
        in_channels: nodal input fields (0: the geometry alone).
        out_channels: nodal output fields.
        coord_dim: 2 or 3.
        width: feature size of the points and tokens (published: 128 on Elasticity/Pipe).
        layers: physics-attention blocks (published: 8).
        heads: attention heads (published: 8).
        slices: slices per head ``M`` (published: 64 on Elasticity/Pipe).
        mlp_ratio: hidden size of each block's MLP over ``width``.
        temperature: initial softmax temperature of the slice weights (learned per head;
            the paper's 0.5; lower starts with sharper slices, which leaves the first
            plateau of training sooner, where every token is nearly the global mean).
        fourier: frequencies ``pi k`` (``k = 1..fourier``) of a sine/cosine embedding of the
            coordinates before the lift (0: the raw coordinates, as published).

    >>> m = Transolver(0, 1, width=16, layers=2, heads=2, slices=4)
    >>> m(torch.rand(2, 50, 2), mask=torch.arange(50) < torch.tensor([[50], [30]])).shape
    torch.Size([2, 1, 50])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        coord_dim: int = 2,
        width: int = 128,
        layers: int = 8,
        heads: int = 8,
        slices: int = 64,
        mlp_ratio: int = 1,
        temperature: float = 0.5,
        fourier: int = 0,
    ) -> None:
        super().__init__(in_channels, out_channels, coord_dim)
        if not isinstance(fourier, int) or isinstance(fourier, bool) or fourier < 0:
            raise ValueError(f"fourier must be an int >= 0, got {fourier!r}")
        if not 0.05 <= temperature <= 5.0:
            raise ValueError(f"temperature must be in [0.05, 5], got {temperature}")
        self.fourier = fourier
        for name, v in (("width", width), ("layers", layers), ("heads", heads), ("slices", slices),
                        ("mlp_ratio", mlp_ratio)):  # fmt: skip
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if width % heads:
            raise ValueError(f"heads must divide width={width}, got {heads}")
        embedded = coord_dim * (1 + 2 * fourier)
        self.lift = nn.Sequential(
            nn.Linear(embedded + in_channels, 2 * width), nn.GELU(), nn.Linear(2 * width, width)
        )
        self.placeholder = nn.Parameter(torch.randn(width) / math.sqrt(width))
        self.blocks = nn.ModuleList(
            _Block(width, heads, slices, mlp_ratio, temperature) for _ in range(layers)
        )
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, out_channels)

    def embed(self, pos: torch.Tensor) -> torch.Tensor:
        """``pos [B, N, d]`` with its sine/cosine features (``fourier`` frequencies)."""
        if not self.fourier:
            return pos
        k = math.pi * torch.arange(1, self.fourier + 1, dtype=pos.dtype, device=pos.device)
        arg = (pos.unsqueeze(-1) * k).flatten(-2)
        return torch.cat([pos, torch.sin(arg), torch.cos(arg)], dim=-1)

    def network(
        self, pos: torch.Tensor, x: torch.Tensor, mask: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        """Normalised ``pos [B, N, d]``, ``x [B, C_in, N]`` -> ``[B, C_out, N]``."""
        h = self.lift(torch.cat([self.embed(pos), x.transpose(1, 2)], dim=-1)) + self.placeholder
        for block in self.blocks:
            h = block(h, mask, weights)
        return self.head(self.norm(h)).transpose(1, 2)
