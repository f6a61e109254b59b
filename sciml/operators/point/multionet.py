"""MultiONet (Zang & Koutsourelakis, J. Comput. Phys. 2025): DeepONet with multi-layer products.

A DeepONet forms one inner product, between the *last* branch and trunk layers. MultiONet
keeps branch and trunk at equal depth and combines the branch-trunk products of the last
``terms`` layers:

``G(a)(x) = sum_{i = L - terms + 1}^{L} w_i <b^(i)(a), t^(i)(x)> + bias``

with ``w_i = 1 / terms`` (``combine="mean"``) or learnable scalars initialised to ``1 / terms``
(``combine="learned"``). Earlier layers thus reach the output directly (shorter gradient paths,
several feature scales) for ``terms`` (or ``terms + 1``) extra numbers, and ``terms=1`` is
exactly a :class:`~sciml.operators.point.deeponet.DeepONet` with the same weights. All inputs, point
queries, output heads (``"split"`` or the multi-output ``"linear"``) and the forward-mode
coordinate gradient are those of :class:`DeepONet`.

>>> import torch
>>> net = MultiONet(in_features=8, coord_dim=2, width=16, layers=4, terms=3)
>>> y, g = net.forward_with_gradient(torch.randn(2, 8), torch.rand(10, 2))
>>> y.shape, g.shape
(torch.Size([2, 1, 10]), torch.Size([2, 1, 10, 2]))
"""

from __future__ import annotations

import torch
from torch import nn

from sciml.operators.point.deeponet import DeepONet

__all__ = ["MultiONet"]

_COMBINE = ("mean", "learned")


class MultiONet(DeepONet):
    """DeepONet whose output averages the branch-trunk products of the last ``terms`` layers.

    Args:
        terms: number of last layers combined (``1 <= terms <= layers``; default all but the
            first, as in the published models).
        combine: ``"mean"`` or ``"learned"`` weights.
        **kwargs: as :class:`~sciml.operators.point.deeponet.DeepONet` (``in_features`` or
            ``in_channels`` + ``sensor_shape``, ``out_channels``, ``coord_dim``, ``width``,
            ``layers``, ``activation``, ``head``).
    """

    def __init__(
        self,
        in_features: int | None = None,
        out_channels: int = 1,
        *,
        terms: int | None = None,
        combine: str = "mean",
        layers: int = 5,
        **kwargs,
    ) -> None:
        super().__init__(in_features, out_channels, layers=layers, **kwargs)
        terms = max(layers - 1, 1) if terms is None else terms
        if not isinstance(terms, int) or not 1 <= terms <= layers:
            raise ValueError(f"terms must be an int in [1, layers={layers}], got {terms!r}")
        if combine not in _COMBINE:
            raise ValueError(f"combine must be one of {_COMBINE}, got {combine!r}")
        self.terms, self.combine = terms, combine
        if combine == "learned":
            self.layer_weights = nn.Parameter(torch.full((terms,), 1.0 / terms))

    def _terms(self, feats):
        first = len(feats) - self.terms
        if self.combine == "learned":
            return [(self.layer_weights[j], first + j) for j in range(self.terms)]
        return [(1.0 / self.terms, first + j) for j in range(self.terms)]
