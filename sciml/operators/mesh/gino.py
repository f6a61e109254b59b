"""GINO from ``neuraloperator`` (the library's model, not a rewrite) on sciml point sets.

The Geometry-Informed Neural Operator (Li et al., NeurIPS 2023): a graph neural operator
integrates the point features onto a latent uniform grid (kernel integral over the points
within ``radius`` of each grid point, a mean), an FNO runs on the grid, and a second graph
operator integrates the latent field back to the query points. :class:`GINO` wraps
:class:`neuralop.models.GINO` in the mesh-operator calling convention
(:class:`~sciml.operators.mesh.mesh_operator.MeshOperator`: normalisers, checks, padding
masks). neuraloperator's GINO batches only samples that share one geometry, so samples of
different meshes run one after another; the input features are the (normalised)
coordinates and the nodal inputs. Neighbour search uses neuraloperator's pure-torch
fallback (no open3d); the neighbourhood reductions use ``torch-scatter`` when it is installed
and otherwise neuraloperator's Python loop over query points, which makes GINO by far the
slowest of the mesh operators (about 0.2 s per sample of ~600 nodes on a 24^2 latent grid on
one CPU core; install ``torch-scatter`` for real runs). Its input graph operator averages the nodes within
``radius`` of each latent point with equal weights (neuraloperator's), so the quadrature
``weights`` of the calling convention are not used.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import torch

from sciml.operators.mesh.mesh_operator import MeshOperator

__all__ = ["GINO"]


class GINO(MeshOperator):
    """neuraloperator's GINO, ``(points [B, N, d], x [B, C_in, N], mask) -> [B, C_out, N]``.

    Args:
        in_channels: nodal input fields (0: the geometry alone).
        out_channels: nodal output fields.
        coord_dim: 2 or 3.
        latent: latent grid points per axis (on the unit box of the normalised coordinates).
        width: FNO hidden channels.
        modes: FNO modes per axis (``< latent / 2``).
        layers: FNO layers.
        radius: graph-operator radius in normalised coordinates (default ``2 / latent``:
            about two latent cells, so every latent point has mesh nodes within reach).
        gno_width: hidden size of the two graph operators' kernel MLPs.
        **kwargs: passed on to :class:`neuralop.models.GINO`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        coord_dim: int = 2,
        latent: int = 32,
        width: int = 32,
        modes: int = 12,
        layers: int = 4,
        radius: float | None = None,
        gno_width: int = 64,
        **kwargs: Any,
    ) -> None:
        super().__init__(in_channels, out_channels, coord_dim)
        # heavy optional dependency (neuraloperator): loaded when first used
        from neuralop.models import GINO as _GINO

        if not isinstance(latent, int) or latent < 4:
            raise ValueError(f"latent must be an int >= 4, got {latent!r}")
        if not isinstance(modes, int) or not 1 <= modes <= latent // 2:
            raise ValueError(
                f"modes must be an int in [1, latent // 2 = {latent // 2}], got {modes!r}"
            )
        radius = 2.0 / latent if radius is None else float(radius)
        if not radius > 0:
            raise ValueError(f"radius must be > 0, got {radius}")
        self.latent = latent
        features = coord_dim + in_channels
        self.net = _GINO(
            in_channels=features,
            out_channels=out_channels,
            gno_coord_dim=coord_dim,
            fno_in_channels=features,
            fno_n_modes=(modes,) * coord_dim,
            fno_hidden_channels=width,
            fno_n_layers=layers,
            in_gno_radius=radius,
            out_gno_radius=radius,
            in_gno_channel_mlp_hidden_layers=[gno_width, gno_width],
            out_gno_channel_mlp_hidden_layers=[gno_width, gno_width],
            gno_use_open3d=False,
            gno_use_torch_scatter=importlib.util.find_spec("torch_scatter") is not None,
            **kwargs,
        )
        axes = [torch.linspace(0.0, 1.0, latent)] * coord_dim
        queries = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1)
        self.register_buffer("queries", queries, persistent=False)

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The state dict without neuraloperator's ``_metadata`` entry (not a tensor)."""
        sd = super().state_dict(*args, **kwargs)
        if isinstance(sd, dict):
            for key in [k for k in sd if k.endswith("_metadata")]:
                sd.pop(key)
        return sd

    def network(
        self, pos: torch.Tensor, x: torch.Tensor, mask: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        """Normalised ``pos [B, N, d]``, ``x [B, C_in, N]`` -> ``[B, C_out, N]``."""
        # spectral layers have no bf16 kernels: the whole model runs in float32/64
        with torch.autocast(pos.device.type, enabled=False):
            dtype = torch.promote_types(pos.dtype, torch.float32)
            out = pos.new_zeros(pos.shape[0], self.out_channels, pos.shape[1], dtype=dtype)
            queries = self.queries.to(dtype)[None]
            for b in range(pos.shape[0]):  # GINO batches only samples of one geometry
                keep = mask[b]
                p = pos[b][keep].to(dtype)[None]  # [1, n, d]
                f = torch.cat([p[0], x[b][:, keep].T.to(dtype)], dim=-1)[None]
                y = self.net(input_geom=p, latent_queries=queries, output_queries=p, x=f)
                out[b][:, keep] = y[0].T
            return out
