"""DeepONet (Lu et al., Nature Machine Intelligence 2021): a branch-trunk point operator.

``G(a)(x) = sum_k b_k(a) t_k(x) + bias``: a *branch* network reads the input function ``a``
(its values at fixed sensors, or a latent vector) and a *trunk* network reads the query point
``x``; the output is their inner product. Because the trunk is a function of ``x``, the output
can be queried anywhere: on the training grid, on a finer :class:`~sciml.grid.Grid`, at the
vertices of a :class:`~sciml.mesh.Mesh`, or at arbitrary points (physics losses).

Two ways to give the input:

* **features** (``in_features=m``): ``x: [B, m]``, e.g. a latent code (DGNO's decoders);
  points are then required;
* **sensors on a grid** (``in_channels=C, sensor_shape=S``): ``x: [B, C, *S']`` is a field on
  any vertex grid of the box ``bounds``; it is resampled to the sensor grid ``S``
  (:meth:`Grid.resample`, linear; the identity when ``S' == S``) and flattened for the branch.
  Without points the output is on the input's own grid, ``[B, C_out, *S']``, so the model is
  a grid operator like :class:`~sciml.operators.grid.fno.FNO` (the Trainer and registry use it so).

Output channels (``out_channels > 1``): ``head="split"`` splits the ``width`` features into one
group per channel (the usual DeepONet); ``head="linear"`` maps the elementwise product
``b * t`` to the channels with a learned matrix (the multi-output variant of MultiONet).

>>> import torch
>>> from sciml.grid import Grid
>>> net = DeepONet(in_features=8, out_channels=1, coord_dim=2, width=16, layers=3)
>>> net(torch.randn(4, 8), Grid((5, 7))).shape
torch.Size([4, 1, 5, 7])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from sciml.grid import Grid
from sciml.operators.mlp import FeatureMLP

__all__ = ["DeepONet", "PointSpec"]

PointSpec = Grid | torch.Tensor | None  # or a sciml.mesh.Mesh (imported lazily)
_HEADS = ("split", "linear")


class DeepONet(nn.Module):
    """Unstacked DeepONet with equal-width branch and trunk MLPs (every layer activated).

    Args:
        in_features: size of a feature input ``x: [B, in_features]`` (latent codes); or
        in_channels, sensor_shape: a field input ``[B, in_channels, *S']`` read at the vertices
            of the grid ``sensor_shape`` on the box ``bounds`` (default the unit box).
        out_channels: output channels ``C_out``.
        coord_dim: dimension of the query points (default ``len(sensor_shape)``, else 2).
        width, layers: width and number of Linear+activation blocks of branch and trunk.
        activation: name from :data:`sciml.operators.activations.ACTIVATIONS` (``tanh``,
            ``silu``, ``tanh_sin``, ``silu_sin``, ``silu_id``, ...).
        head: ``"split"`` or ``"linear"`` (see the module docstring).
        bounds: the box of the query points (default the unit box); the trunk sees them mapped
            to ``[-1, 1]^d``.
    """

    def __init__(
        self,
        in_features: int | None = None,
        out_channels: int = 1,
        *,
        in_channels: int | None = None,
        sensor_shape: Sequence[int] | None = None,
        bounds: Sequence[Sequence[float]] | None = None,
        coord_dim: int | None = None,
        width: int = 100,
        layers: int = 5,
        activation: str = "tanh",
        head: str = "split",
    ) -> None:
        super().__init__()
        if (in_features is None) == (sensor_shape is None):
            raise ValueError(
                "give either in_features (a feature input [B, m]) or in_channels and "
                "sensor_shape (a field input on a grid), not both"
            )
        if head not in _HEADS:
            raise ValueError(f"head must be one of {_HEADS}, got {head!r}")
        if not isinstance(out_channels, int) or out_channels < 1:
            raise ValueError(f"out_channels must be a positive int, got {out_channels!r}")
        if head == "split" and (not isinstance(width, int) or width % out_channels):
            raise ValueError(
                f"width ({width!r}) must be a multiple of out_channels ({out_channels}) "
                "with head='split'"
            )
        self.sensors: Grid | None = None
        if sensor_shape is not None:
            if not isinstance(in_channels, int) or in_channels < 1:
                raise ValueError(
                    f"in_channels must be a positive int with sensor_shape, got {in_channels!r}"
                )
            self.sensors = Grid(
                tuple(sensor_shape), bounds=tuple(map(tuple, bounds)) if bounds else None
            )
            in_features = in_channels * self.sensors.size
            coord_dim = self.sensors.ndim if coord_dim is None else coord_dim
            if coord_dim != self.sensors.ndim:
                raise ValueError(
                    f"coord_dim ({coord_dim}) must equal len(sensor_shape) "
                    f"({self.sensors.ndim}) for a field input"
                )
        elif not isinstance(in_features, int) or in_features < 1:
            raise ValueError(f"in_features must be a positive int, got {in_features!r}")
        coord_dim = 2 if coord_dim is None else coord_dim
        if not isinstance(coord_dim, int) or not 1 <= coord_dim <= 3:
            raise ValueError(f"coord_dim must be 1, 2 or 3, got {coord_dim!r}")
        self.in_features, self.in_channels = in_features, in_channels
        self.out_channels, self.coord_dim, self.head = out_channels, coord_dim, head
        box = tuple(map(tuple, bounds)) if bounds else ((0.0, 1.0),) * coord_dim
        if len(box) != coord_dim or any(not hi > lo for lo, hi in box):
            raise ValueError(
                f"bounds must be {coord_dim} pairs (lo, hi) with lo < hi, got {bounds!r}"
            )
        # the trunk sees coordinates mapped from the box to [-1, 1]^d
        centre = torch.tensor([(lo + hi) / 2 for lo, hi in box])
        scale = torch.tensor([2.0 / (hi - lo) for lo, hi in box])
        self.register_buffer("coord_centre", centre, persistent=False)
        self.register_buffer("coord_scale", scale, persistent=False)
        self.branch = FeatureMLP(in_features, width, layers, activation)
        self.trunk = FeatureMLP(coord_dim, width, layers, activation)
        self.bias = nn.Parameter(torch.zeros(out_channels))
        if head == "linear":
            self.head_weight = nn.Parameter(
                torch.empty(out_channels, width).uniform_(-1, 1) / math.sqrt(width)
            )
        else:  # block indicator: channel c sums features c*w/C ... (c+1)*w/C - 1
            mask = torch.zeros(out_channels, width)
            for c, idx in enumerate(torch.arange(width).chunk(out_channels)):
                mask[c, idx] = 1.0
            self.register_buffer("head_mask", mask, persistent=False)

    # ------------------------------------------------------------------ inputs
    @property
    def ndim(self) -> int:
        return self.coord_dim

    def _branch_input(self, x: torch.Tensor) -> tuple[torch.Tensor, Grid | None]:
        """Flat branch input ``[B, in_features]`` and the input's grid (field inputs)."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if self.sensors is None:
            if x.ndim != 2 or x.shape[1] != self.in_features:
                raise ValueError(
                    f"x must have shape [B, {self.in_features}] (features), got {list(x.shape)}"
                )
            return x, None
        s = self.sensors
        if x.ndim != s.ndim + 2 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"x must have shape [B, {self.in_channels}, *S] with {s.ndim} spatial axes, "
                f"got {list(x.shape)}"
            )
        grid = s.with_shape(x.shape[2:]) if tuple(x.shape[2:]) != s.shape else s
        field = x if grid is s else grid.resample(x, s)
        return field.reshape(x.shape[0], -1), grid

    def _points(self, points, grid: Grid | None, x: torch.Tensor):
        """Query points ``[N, d]`` or ``[B, N, d]`` and the output's spatial shape."""
        if points is None:
            if grid is None:
                raise ValueError("points are required for a feature input (in_features)")
            points = grid
        if isinstance(points, Grid):
            if points.ndim != self.coord_dim:
                raise ValueError(f"points: a {points.ndim}-D Grid for a {self.coord_dim}-D model")
            return points.points(x.device, x.dtype), points.shape
        if not isinstance(points, torch.Tensor) and hasattr(points, "points"):  # Mesh
            pts = torch.as_tensor(points.points[:, : self.coord_dim], dtype=x.dtype)
            return pts.to(x.device), None
        if not isinstance(points, torch.Tensor):
            raise TypeError(
                f"points must be a Grid, a Mesh or a tensor [N, d], got {type(points).__name__}"
            )
        if points.ndim not in (2, 3) or points.shape[-1] != self.coord_dim:
            raise ValueError(
                f"points must have shape [N, {self.coord_dim}] or [B, N, {self.coord_dim}], "
                f"got {list(points.shape)}"
            )
        if points.ndim == 3 and points.shape[0] != x.shape[0]:
            raise ValueError(
                f"points [B, N, d] must have B = {x.shape[0]} (the batch of x), "
                f"got {points.shape[0]}"
            )
        return points.to(device=x.device, dtype=x.dtype), None

    def _trunk_input(self, pts: torch.Tensor) -> torch.Tensor:
        """Coordinates mapped from the box to ``[-1, 1]^d``."""
        return (pts - self.coord_centre.to(pts.dtype)) * self.coord_scale.to(pts.dtype)

    # ------------------------------------------------------------------ combination
    def _head_matrix(self) -> torch.Tensor:
        return self.head_weight if self.head == "linear" else self.head_mask

    def _terms(self, feats: list[torch.Tensor]) -> list[tuple[float | torch.Tensor, int]]:
        """``(weight, layer index)`` of the branch-trunk products that make the output."""
        return [(1.0, len(feats) - 1)]

    def _combine(self, bf, tf, jac=None):
        """``y[b, c, n] = sum_i w_i sum_k M[c, k] b_i[b, k] t_i[n, k] + bias[c]`` (and its
        coordinate gradient when the trunk Jacobians ``jac`` are given)."""
        m = self._head_matrix().to(bf[0].dtype)
        y, dy = 0.0, 0.0
        for w, i in self._terms(bf):
            bm = w * bf[i].unsqueeze(1) * m  # [B, C, width]
            t = tf[i]
            if t.ndim == 2:  # shared points [N, width]: one matrix product each
                y = y + bm @ t.T
                if jac is not None:  # [N, d, width] -> [B, C, N, d]
                    j = jac[i]
                    dy = dy + (bm @ j.reshape(-1, j.shape[-1]).T).reshape(
                        *bm.shape[:2], *j.shape[:2]
                    )
            else:  # per-sample points [B, N, width]
                y = y + bm @ t.transpose(1, 2)
                if jac is not None:  # [B, N, d, width]
                    j = jac[i]
                    dy = dy + (bm @ j.reshape(j.shape[0], -1, j.shape[-1]).transpose(1, 2)).reshape(
                        *bm.shape[:2], *j.shape[1:3]
                    )
        y = y + self.bias.to(y.dtype)[:, None]
        return (y, dy) if jac is not None else y

    # ------------------------------------------------------------------ evaluation
    def forward(self, x: torch.Tensor, points: PointSpec = None) -> torch.Tensor:
        """Evaluate the operator.

        Args:
            x: ``[B, in_features]`` features, or ``[B, in_channels, *S']`` a field.
            points: where to evaluate: ``None`` (field input: its own grid), a :class:`Grid`,
                a :class:`~sciml.mesh.Mesh` (its vertices), or coordinates ``[N, d]``
                (shared by the batch) / ``[B, N, d]`` (per sample).

        Returns:
            ``[B, C_out, *grid.shape]`` on a grid, else ``[B, C_out, N]``.
        """
        flat, grid = self._branch_input(x)
        pts, shape = self._points(points, grid, x)
        y = self._combine(self.branch(flat), self.trunk(self._trunk_input(pts)))
        return y.reshape(*y.shape[:2], *shape) if shape is not None else y

    def forward_with_gradient(
        self, x: torch.Tensor, points: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Values and coordinate gradients at ``points: [N, d]`` or ``[B, N, d]``.

        Returns ``(y: [B, C_out, N], grad: [B, C_out, N, d])``; the gradient is exact (forward
        mode through the trunk) and differentiable w.r.t. the parameters.
        """
        flat, _ = self._branch_input(x)
        pts, _ = self._points(points, None, x)
        scale = self.coord_scale.to(pts.dtype)
        tf, jac = self.trunk.forward_with_jacobian(self._trunk_input(pts))
        jac = [j * scale[:, None] for j in jac]  # chain rule of the [-1, 1] map
        return self._combine(self.branch(flat), tf, jac)
