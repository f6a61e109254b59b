"""Batches of point sets of different sizes: padding plus a mask.

Mesh operators take ``points [B, N, d]``, nodal inputs ``[B, C_in, N]`` and a boolean
``mask [B, N]`` (True on real nodes); ``N`` is the largest node count of the batch and the
other samples are padded. Padded rows repeat the sample's first node (finite coordinates
inside its domain, so neighbour searches and interpolations stay well defined) and carry zero
values; every model and loss ignores them through the mask. Values stay channels-first like
the grid operators' ``[B, C, *S]`` (here ``S = (N,)``).

``weights [B, N]`` are the nodes' quadrature weights, their lumped cell volumes
(:meth:`~sciml.datasets.mesh_sample.MeshSample.nodal_volumes`) scaled to mean 1 over each
sample's nodes (0 on padding). Models that average over nodes use them, so a mean over the
nodes approximates a mean over the domain, the same on a coarse and on a refined mesh of one
geometry (a plain node average over-weights wherever the mesh is finer, and the boundary of
a coarse mesh).

>>> import numpy as np
>>> from sciml.mesh import Mesh
>>> from sciml.datasets.mesh_sample import MeshSample
>>> a = MeshSample.from_mesh(Mesh.rectangle(2, 2), outputs=np.ones(9))
>>> b = MeshSample.from_mesh(Mesh.rectangle(1, 1), outputs=np.ones(4))
>>> batch = pad_point_sets([a, b])
>>> tuple(batch.points.shape), tuple(batch.outputs.shape), batch.counts.tolist()
((2, 9, 2), (2, 1, 9), [9, 4])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from sciml.datasets.mesh_sample import MeshSample

__all__ = ["PointBatch", "pad_point_sets"]


@dataclass
class PointBatch:
    """Padded point sets.

    Attributes:
        points: ``[B, N, d]`` coordinates (padded rows repeat the first node).
        inputs: ``[B, C_in, N]`` nodal inputs (``C_in`` may be 0), zero on padding.
        outputs: ``[B, C_out, N]`` nodal outputs, zero on padding (``None`` at inference).
        mask: ``[B, N]`` bool, True on real nodes.
        weights: ``[B, N]`` nodal quadrature weights, mean 1 per sample, 0 on padding
            (``None``: equal weights).
    """

    points: torch.Tensor
    inputs: torch.Tensor
    outputs: torch.Tensor | None
    mask: torch.Tensor
    weights: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.points.shape[0]

    @property
    def counts(self) -> torch.Tensor:
        """Nodes per sample ``[B]`` (long)."""
        return self.mask.sum(1)

    def to(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> PointBatch:
        """The batch on ``device`` with float tensors cast to ``dtype`` (mask stays bool)."""

        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device=device, dtype=dtype or t.dtype)

        return PointBatch(
            move(self.points),
            move(self.inputs),
            move(self.outputs),
            self.mask.to(device),
            move(self.weights),
        )

    def take(self, idx: torch.Tensor | Sequence[int]) -> PointBatch:
        """Samples ``idx``, trimmed to their largest node count (less padding to compute)."""
        idx = torch.as_tensor(idx, dtype=torch.long, device=self.mask.device)
        mask = self.mask[idx]
        n = int(mask.sum(1).max()) if len(idx) else 0
        out = None if self.outputs is None else self.outputs[idx, :, :n]
        w = None if self.weights is None else self.weights[idx, :n]
        return PointBatch(self.points[idx, :n], self.inputs[idx, :, :n], out, mask[:, :n], w)

    def model_inputs(self) -> dict[str, torch.Tensor]:
        """Keyword arguments of a mesh operator's forward: ``points``, ``x``, ``mask`` and
        ``weights`` (when known)."""
        kw = {"points": self.points, "x": self.inputs, "mask": self.mask}
        if self.weights is not None:
            kw["weights"] = self.weights
        return kw


def pad_point_sets(samples: Sequence[MeshSample], dtype: torch.dtype = torch.float32) -> PointBatch:
    """Stack ``samples`` into one :class:`PointBatch`, padded to the largest node count.

    All samples must have the same coordinate dimension and channel counts (``ValueError``
    naming the first sample that differs); outputs are batched when every sample has them.
    """
    samples = list(samples)
    if not samples:
        raise ValueError("samples: need at least one mesh sample to batch")
    first = samples[0]
    for i, s in enumerate(samples):
        if not isinstance(s, MeshSample):
            raise TypeError(f"samples[{i}] must be a MeshSample, got {type(s).__name__}")
        if s.coord_dim != first.coord_dim:
            raise ValueError(
                f"points: sample {i} has {s.coord_dim}-D points, sample 0 has {first.coord_dim}-D"
            )
        if s.in_channels != first.in_channels or s.out_channels != first.out_channels:
            raise ValueError(
                f"samples: sample {i} has {s.in_channels} input / {s.out_channels} output "
                f"channels, sample 0 has {first.in_channels} / {first.out_channels}"
            )
    b, n, d = len(samples), max(s.num_points for s in samples), first.coord_dim
    points = np.empty((b, n, d))
    inputs = np.zeros((b, first.in_channels, n), dtype=np.float32)
    with_out = all(s.outputs is not None for s in samples)
    outputs = np.zeros((b, first.out_channels, n), dtype=np.float32) if with_out else None
    mask = np.zeros((b, n), dtype=bool)
    weights = np.zeros((b, n))
    for i, s in enumerate(samples):
        k = s.num_points
        vol = s.nodal_volumes()
        weights[i, :k] = vol / vol.mean() if vol.mean() > 0 else 1.0
        points[i, :k] = s.points
        points[i, k:] = s.points[0]
        inputs[i, :, :k] = s.inputs
        if outputs is not None:
            outputs[i, :, :k] = s.outputs
        mask[i, :k] = True
    return PointBatch(
        torch.as_tensor(points, dtype=dtype),
        torch.as_tensor(inputs, dtype=dtype),
        None if outputs is None else torch.as_tensor(outputs, dtype=dtype),
        torch.as_tensor(mask),
        torch.as_tensor(weights, dtype=dtype),
    )
