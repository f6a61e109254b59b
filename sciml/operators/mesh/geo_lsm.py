"""LSM on irregular geometry through a learned geometry map (the LSM paper's point-cloud
variant, after Geo-FNO; re-implemented from the papers' descriptions).

The Latent Spectral Model (:class:`~sciml.operators.grid.lsm.LSM`) works on a uniform grid.
To use it on a mesh or point cloud, :class:`GeoLSM`

1. **deforms** the (box-normalised) coordinates into a latent unit square/cube,
   ``z_i = m + (1 - 2m) (x_i + delta tanh(g([x_i, c])))``, with ``g`` an MLP and ``c`` a
   geometry code, the mean of a point-wise MLP of the coordinates weighted by the nodes'
   quadrature weights (so the map differs per sample and does not depend on how many points
   describe the geometry);
2. lifts the point features ``f_i`` (coordinates and nodal inputs) to the latent grid by a
   **non-uniform Fourier transform**: the Fourier coefficients
   ``hat f_k = sum_i v_i f_i exp(-2 pi i k . z_i) / sum_i v_i`` (a quadrature mean over the
   nodes, weights ``v_i``; ``|k_j| < modes``)
   are mixed across channels by learned complex weights per mode and summed back into a
   band-limited field on the ``latent^d`` grid (one inverse FFT);
3. runs the grid **LSM** there;
4. comes back to the points by multilinear **interpolation** of the latent output at
   ``z_i`` plus the inverse non-uniform transform of its lowest modes (learned weights), plus
   a point-wise skip of ``f_i``, and a point-wise MLP head.

Point-count independence: steps 1-2 are means over points and 4 is point-wise, so a refined
mesh of the same geometry gives nearly the same output at shared nodes.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from sciml.operators.grid.lsm import LSM
from sciml.operators.mesh.mesh_operator import MeshOperator, masked_mean

__all__ = ["GeoLSM", "fourier_modes"]


def fourier_modes(modes: int, ndim: int, device=None) -> list[torch.Tensor]:
    """Integer wave numbers per axis: ``-(modes-1)..modes-1`` on all axes but the last,
    ``0..modes-1`` on the last (the half space of a real field)."""
    full = torch.cat([torch.arange(modes), torch.arange(-modes + 1, 0)]).to(device)
    return [full] * (ndim - 1) + [torch.arange(modes, device=device)]


def _phases(z: torch.Tensor, ks: list[torch.Tensor]) -> list[torch.Tensor]:
    """``exp(2 pi i k z)`` per axis: ``[B, N, K_axis]`` complex (float32 or float64 based)."""
    return [torch.exp(2j * math.pi * z[..., ax, None] * k.to(z.dtype)) for ax, k in enumerate(ks)]


class GeoLSM(MeshOperator):
    """Geometry-mapped LSM on point sets, ``(points, x, mask) -> [B, C_out, N]``.

    Args:
        in_channels: nodal input fields (0: the geometry alone).
        out_channels: nodal output fields.
        coord_dim: 2 or 3.
        width: point-feature and latent channels.
        latent: latent grid points per axis (published Elasticity-P: 96).
        modes: Fourier modes per axis of the non-uniform transforms (published: 12).
        code: size of the geometry code of the deformation.
        deform_width: hidden size of the deformation and geometry-code MLPs.
        deform_scale: the largest displacement ``delta`` of the deformation (unit box).
        margin: the latent box is ``[margin, 1 - margin]^d`` inside the periodic unit cell.
        lsm_width, levels, heads, tokens, basis, patches, norm: the grid
            :class:`~sciml.operators.grid.lsm.LSM` (``lsm_width`` defaults to ``width``).

    >>> m = GeoLSM(0, 1, width=8, latent=16, modes=4, levels=2, heads=2, patches=2)
    >>> m(torch.rand(2, 40, 2)).shape
    torch.Size([2, 1, 40])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        coord_dim: int = 2,
        width: int = 32,
        latent: int = 32,
        modes: int = 12,
        code: int = 16,
        deform_width: int = 64,
        deform_scale: float = 0.1,
        margin: float = 0.1,
        lsm_width: int | None = None,
        levels: int = 3,
        heads: int = 4,
        tokens: int = 4,
        basis: int = 12,
        patches: int = 4,
        norm: str = "batch",
    ) -> None:
        super().__init__(in_channels, out_channels, coord_dim)
        for name, v in (("width", width), ("latent", latent), ("modes", modes), ("code", code),
                        ("deform_width", deform_width)):  # fmt: skip
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if 2 * modes - 1 > latent:
            raise ValueError(f"modes must satisfy 2 * modes - 1 <= latent={latent}, got {modes}")
        if not 0 <= margin < 0.5 or margin < 1.0 / latent:
            raise ValueError(f"margin must be in [1/latent, 0.5), got {margin}")
        if not 0 <= deform_scale < 0.5:
            raise ValueError(f"deform_scale must be in [0, 0.5), got {deform_scale}")
        d = coord_dim
        self.width, self.latent, self.modes = width, latent, modes
        self.margin, self.deform_scale = float(margin), float(deform_scale)
        self.geometry = nn.Sequential(
            nn.Linear(d, deform_width), nn.GELU(), nn.Linear(deform_width, code)
        )
        self.deform = nn.Sequential(
            nn.Linear(d + code, deform_width), nn.Tanh(),
            nn.Linear(deform_width, deform_width), nn.Tanh(), nn.Linear(deform_width, d),
        )  # fmt: skip
        self.lift = nn.Sequential(
            nn.Linear(d + in_channels, width), nn.GELU(), nn.Linear(width, width)
        )
        shape = (2 * modes - 1,) * (d - 1) + (modes,)
        scale = 1.0 / width
        self.w_in = nn.Parameter(scale * torch.randn(*shape, width, width, dtype=torch.cfloat))
        self.w_out = nn.Parameter(scale * torch.randn(*shape, width, width, dtype=torch.cfloat))
        self.lsm = LSM(
            width, width, width=lsm_width or width, ndim=d, levels=levels, heads=heads,
            tokens=tokens, basis=basis, patches=patches, norm=norm,
        )  # fmt: skip
        self.skip = nn.Linear(width, width)
        self.head = nn.Sequential(
            nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, out_channels)
        )

    # --------------------------------------------------------------------- parts
    def latent_coordinates(self, pos: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """The learned map: normalised ``pos [B, N, d]`` (quadrature ``weights [B, N]``) ->
        latent ``z [B, N, d]``."""
        w = weights.unsqueeze(-1).to(pos.dtype)
        code = masked_mean(self.geometry(pos), w, dim=1)  # [B, code]
        inp = torch.cat([pos, code[:, None].expand(-1, pos.shape[1], -1)], dim=-1)
        moved = pos + self.deform_scale * torch.tanh(self.deform(inp))
        return self.margin + (1 - 2 * self.margin) * moved.clamp(0.0, 1.0)

    def _complex(self, weight: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        return weight.to(torch.cdouble if dtype == torch.float64 else torch.cfloat)

    def to_latent(self, f: torch.Tensor, z: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Point features ``f [B, N, C]`` at ``z`` (quadrature ``weights [B, N]``) -> latent
        field ``[B, C, *latent^d]``."""
        d = z.shape[-1]
        ks = fourier_modes(self.modes, d, z.device)
        conj = [e.conj() for e in _phases(z, ks)]
        w = weights.to(f.dtype) / weights.sum(1, keepdim=True).to(f.dtype)  # quadrature mean
        coef = (f * w.unsqueeze(-1)).to(conj[0].dtype)  # [B, N, C]
        letters = "xyz"[:d]
        spec = ",".join(f"bn{c}" for c in letters)
        coef = torch.einsum(f"bnc,{spec}->bc{letters}", coef, *conj)  # [B, C, *K]
        coef = torch.einsum(
            f"bc{letters},{letters}co->bo{letters}", coef, self._complex(self.w_in, f.dtype)
        )
        full = torch.zeros(
            *coef.shape[:2], *(self.latent,) * (d - 1), self.latent // 2 + 1,
            dtype=coef.dtype, device=coef.device,
        )  # fmt: skip
        index = [k % self.latent for k in ks[:-1]] + [ks[-1]]
        full[(slice(None), slice(None), *torch.meshgrid(*index, indexing="ij"))] = coef
        return torch.fft.irfftn(
            full, s=(self.latent,) * d, dim=tuple(range(2, 2 + d)), norm="forward"
        )

    def to_points(self, g: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Latent field ``g [B, C, *latent^d]`` at ``z [B, N, d]`` -> ``[B, N, C]``: multilinear
        interpolation plus the inverse non-uniform transform of its lowest modes."""
        d = z.shape[-1]
        s = self.latent
        # latent grid point j sits at z = j / s; grid_sample's align_corners=True puts index j
        # at -1 + 2 j / (s - 1)
        u = 2 * z * s / (s - 1) - 1
        grid = u.flip(-1).reshape(z.shape[0], *([1] * (d - 1)), z.shape[1], d)
        sampled = F.grid_sample(g, grid, mode="bilinear", align_corners=True, padding_mode="border")
        sampled = sampled.reshape(*g.shape[:2], -1).transpose(1, 2)  # [B, N, C]
        ks = fourier_modes(self.modes, d, z.device)
        full = torch.fft.rfftn(g, dim=tuple(range(2, 2 + d)), norm="forward")
        index = [k % s for k in ks[:-1]] + [ks[-1]]
        coef = full[(slice(None), slice(None), *torch.meshgrid(*index, indexing="ij"))]
        coef = torch.einsum("bc" + "xyz"[:d] + ",xyz"[: d + 1] + "co->bo" + "xyz"[:d], coef,
                            self._complex(self.w_out, g.dtype))  # fmt: skip
        # real field from the half spectrum: k_last > 0 terms count twice
        double = torch.ones(self.modes, dtype=g.dtype, device=g.device)
        double[1:] = 2.0
        coef = coef * double.to(coef.dtype)
        letters = "xyz"[:d]
        phases = _phases(z, ks)
        spec = ",".join(f"bn{c}" for c in letters)
        series = torch.einsum(f"bo{letters},{spec}->bno", coef, *phases).real
        return sampled + series.to(g.dtype)

    def network(
        self, pos: torch.Tensor, x: torch.Tensor, mask: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        """Normalised ``pos [B, N, d]``, ``x [B, C_in, N]`` -> ``[B, C_out, N]``."""
        # the spectral steps run in float32/64 even under bf16 autocast (FFTs need it)
        with torch.autocast(pos.device.type, enabled=False):
            dtype = torch.promote_types(pos.dtype, torch.float32)
            pos, x = pos.to(dtype), x.to(dtype)
            weights = weights.to(dtype)
            z = self.latent_coordinates(pos, weights)
            f = self.lift(torch.cat([pos, x.transpose(1, 2)], dim=-1))  # [B, N, C]
            g = self.to_latent(f, z, weights)
            g = self.lsm(g)
            h = F.gelu(self.to_points(g, z) + self.skip(f))
            return self.head(h).transpose(1, 2)
