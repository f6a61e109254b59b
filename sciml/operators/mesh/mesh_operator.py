"""The base of operators on meshes and point clouds: calling convention, checks, normalisers.

Every mesh operator maps nodal fields on a point set to nodal fields on the same points::

    model(points: [B, N, d], x: [B, C_in, N] | None = None, mask: [B, N] | None = None,
          weights: [B, N] | None = None) -> [B, C_out, N]

``N`` is the largest node count of the batch; ``mask`` (bool, True on real nodes) marks the
padding of the smaller samples (:func:`sciml.datasets.point_batch.pad_point_sets`), which
never influences the real nodes and comes out as zero. ``C_in`` may be 0: the geometry
alone is the input (Elasticity, Pipe). Values are channels-first, like the grid operators'
``[B, C, *S]``. ``weights`` are the nodes' quadrature weights (lumped cell volumes, as
:func:`~sciml.datasets.point_batch.pad_point_sets` gives them; default equal): every mean
over the nodes inside a model is weighted by them, so it approximates a mean over the domain
and a refined mesh of the same geometry gives nearly the same result.

The normalisers are buffers of the model, so a saved model carries them: coordinates are
mapped per axis from the training bounding box to ``[0, 1]``, inputs and outputs are
z-scored per channel (:meth:`MeshOperator.fit_normalization`, called by the mesh task on the
training set; before that they are the identity). The forward pass therefore takes and
returns physical units; subclasses implement :meth:`MeshOperator.network` on normalised ones.

Bad calls are refused with a ``ValueError`` naming the argument: NaN coordinates, points of
another dimension than the model's (a 2-D model given 3-D points), wrong channel counts, a
mask that leaves a sample without nodes, negative or non-finite weights.
"""

from __future__ import annotations

import torch
from torch import nn

from sciml.datasets.point_batch import PointBatch

__all__ = ["MeshOperator", "masked_mean"]


def masked_mean(values: torch.Tensor, weights: torch.Tensor, dim: int) -> torch.Tensor:
    """``sum(weights * values) / sum(weights)`` along ``dim`` (``weights`` broadcast)."""
    return (values * weights).sum(dim) / weights.sum(dim).clamp_min(1e-12)


class MeshOperator(nn.Module):
    """Base class (see the module docstring): subclasses implement :meth:`network`.

    Args:
        in_channels: nodal input fields ``C_in`` (0: geometry only).
        out_channels: nodal output fields ``C_out``.
        coord_dim: coordinates per point ``d`` (2 or 3).
    """

    def __init__(self, in_channels: int, out_channels: int, coord_dim: int) -> None:
        super().__init__()
        for name, v, lo in (
            ("in_channels", in_channels, 0),
            ("out_channels", out_channels, 1),
            ("coord_dim", coord_dim, 2),
        ):
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise ValueError(f"{name} must be an int >= {lo}, got {v!r}")
        if coord_dim not in (2, 3):
            raise ValueError(f"coord_dim must be 2 or 3, got {coord_dim}")
        self.in_channels, self.out_channels, self.coord_dim = in_channels, out_channels, coord_dim
        self.register_buffer("coord_lo", torch.zeros(coord_dim))
        self.register_buffer("coord_hi", torch.ones(coord_dim))
        self.register_buffer("x_mean", torch.zeros(in_channels))
        self.register_buffer("x_std", torch.ones(in_channels))
        self.register_buffer("y_mean", torch.zeros(out_channels))
        self.register_buffer("y_std", torch.ones(out_channels))

    # ------------------------------------------------------------------ normalisers
    @torch.no_grad()
    def fit_normalization(self, batch: PointBatch) -> MeshOperator:
        """Coordinate box and per-channel input/output statistics from ``batch`` (its real
        nodes only, float64 accumulation). Returns self."""
        self.check_inputs(batch.points, batch.inputs, batch.mask, batch.weights)
        m = batch.mask.to(torch.float64)
        pts = batch.points.to(torch.float64)
        real = batch.mask.unsqueeze(-1)
        self.coord_lo.copy_(torch.where(real, pts, torch.inf).amin((0, 1)).to(self.coord_lo))
        hi = torch.where(real, pts, -torch.inf).amax((0, 1))
        self.coord_hi.copy_(torch.maximum(hi, self.coord_lo + 1e-9).to(self.coord_hi))

        def moments(v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            w = m.unsqueeze(1)
            vd = v.to(torch.float64)
            mean = (vd * w).sum((0, 2)) / w.sum((0, 2))
            var = ((vd - mean[None, :, None]).square() * w).sum((0, 2)) / w.sum((0, 2))
            return mean, var.sqrt().clamp_min(1e-6)

        if self.in_channels:
            mean, std = moments(batch.inputs)
            self.x_mean.copy_(mean.to(self.x_mean))
            self.x_std.copy_(std.to(self.x_std))
        if batch.outputs is not None:
            if batch.outputs.shape[1] != self.out_channels:
                raise ValueError(
                    f"outputs must have {self.out_channels} channels, got {batch.outputs.shape[1]}"
                )
            mean, std = moments(batch.outputs)
            self.y_mean.copy_(mean.to(self.y_mean))
            self.y_std.copy_(std.to(self.y_std))
        return self

    # ----------------------------------------------------------------------- checks
    def check_inputs(
        self,
        points: torch.Tensor,
        x: torch.Tensor | None,
        mask: torch.Tensor | None,
        weights: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Validate a call; return ``(points, x [B, C_in, N], mask [B, N] bool, weights [B, N])``
        (weights zero on padding, default equal)."""
        if not isinstance(points, torch.Tensor) or points.ndim != 3:
            raise ValueError(
                f"points must be a tensor [B, N, {self.coord_dim}], got "
                f"{list(getattr(points, 'shape', [type(points).__name__]))}"
            )
        b, n, d = points.shape
        if d != self.coord_dim:
            raise ValueError(
                f"points: the model was built for {self.coord_dim}-D points "
                f"(coord_dim={self.coord_dim}), got {d} coordinates per point"
            )
        if n == 0:
            raise ValueError("points: the point sets are empty (N = 0)")
        if not torch.isfinite(points).all():
            bad = int((~torch.isfinite(points)).any(-1).sum())
            raise ValueError(f"points contains NaN or infinite coordinates ({bad} points)")
        if x is None:
            if self.in_channels:
                raise ValueError(
                    f"x: the model takes {self.in_channels} nodal input channel(s) [B, "
                    f"{self.in_channels}, N]; got none"
                )
            x = points.new_zeros(b, 0, n)
        if (
            not isinstance(x, torch.Tensor)
            or x.ndim != 3
            or tuple(x.shape)
            != (
                b,
                self.in_channels,
                n,
            )
        ):
            raise ValueError(
                f"x must have shape [B, C_in, N] = {[b, self.in_channels, n]}, got "
                f"{list(getattr(x, 'shape', [type(x).__name__]))}"
            )
        if mask is None:
            mask = torch.ones(b, n, dtype=torch.bool, device=points.device)
        if not isinstance(mask, torch.Tensor) or tuple(mask.shape) != (b, n):
            raise ValueError(
                f"mask must have shape [B, N] = {[b, n]}, got "
                f"{list(getattr(mask, 'shape', [type(mask).__name__]))}"
            )
        mask = mask.to(torch.bool)
        if not mask.any(1).all():
            empty = int((~mask.any(1)).nonzero()[0, 0])
            raise ValueError(f"mask: sample {empty} has no nodes (all masked out)")
        if weights is None:
            weights = mask.to(points.dtype)
        else:
            if not isinstance(weights, torch.Tensor) or tuple(weights.shape) != (b, n):
                raise ValueError(
                    f"weights must have shape [B, N] = {[b, n]}, got "
                    f"{list(getattr(weights, 'shape', [type(weights).__name__]))}"
                )
            if not torch.isfinite(weights).all() or (weights < 0).any():
                raise ValueError("weights must be finite and >= 0 (nodal quadrature weights)")
            weights = weights.to(points.dtype) * mask
            if not (weights.sum(1) > 0).all():
                raise ValueError("weights: a sample has zero total weight on its nodes")
        return points, x, mask, weights

    # ---------------------------------------------------------------------- forward
    def network(
        self, pos: torch.Tensor, x: torch.Tensor, mask: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        """``pos [B, N, d]`` (normalised to the training box, ~[0, 1]), ``x [B, C_in, N]``
        (z-scored), ``mask [B, N]``, quadrature ``weights [B, N]`` -> normalised outputs
        ``[B, C_out, N]``."""
        raise NotImplementedError

    def forward(
        self,
        points: torch.Tensor,
        x: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        weights: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``points [B, N, d]``, ``x [B, C_in, N]``, ``mask [B, N]``, ``weights [B, N]`` ->
        ``[B, C_out, N]`` (physical units; zero on padding)."""
        points, x, mask, weights = self.check_inputs(points, x, mask, weights)
        lo, hi = self.coord_lo.to(points.dtype), self.coord_hi.to(points.dtype)
        pos = (points - lo) / (hi - lo)
        xn = (x - self.x_mean.to(x.dtype)[:, None]) / self.x_std.to(x.dtype)[:, None]
        z = self.network(pos, xn, mask, weights)
        y = z * self.y_std.to(z.dtype)[:, None] + self.y_mean.to(z.dtype)[:, None]
        return y * mask.unsqueeze(1).to(y.dtype)
