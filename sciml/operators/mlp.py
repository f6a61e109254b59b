"""An MLP that returns every hidden layer, optionally with its coordinate Jacobian.

The branch and trunk networks of :class:`~sciml.operators.point.deeponet.DeepONet` and
:class:`~sciml.operators.point.multionet.MultiONet` are :class:`FeatureMLP` s: ``layers`` blocks of
``Linear -> activation``, all of width ``width``. MultiONet combines the outputs of several of
these blocks, so the forward pass returns all of them.

:meth:`FeatureMLP.forward_with_jacobian` also propagates ``dh/dx`` in forward mode
(``J <- sigma'(z) * (J W^T)``): the coordinate gradient of every feature for the cost of ``d``
extra matrix products per layer, independent of how many functions (batch samples) share the
points. The result stays in the autograd graph, so physics losses built from it train the
weights.
"""

from __future__ import annotations

import torch
from torch import nn

from sciml.operators.activations import get_activation

__all__ = ["FeatureMLP"]


class FeatureMLP(nn.Module):
    """``layers`` x (Linear -> activation), ``in_features -> width -> ... -> width``.

    Args:
        in_features: input size ``d``.
        width: features per layer.
        layers: number of Linear+activation blocks (>= 1).
        activation: a name from :data:`sciml.operators.activations.ACTIVATIONS`.
    """

    def __init__(self, in_features: int, width: int, layers: int, activation: str = "tanh"):
        super().__init__()
        for name, v in (("in_features", in_features), ("width", width), ("layers", layers)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        self.in_features, self.width = in_features, width
        self.linears = nn.ModuleList(
            nn.Linear(in_features if i == 0 else width, width) for i in range(layers)
        )
        self.act = get_activation(activation)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``x: [..., in_features]`` -> the output of every block, each ``[..., width]``."""
        out, h = [], x
        for lin in self.linears:
            h = self.act(lin(h))
            out.append(h)
        return out

    def forward_with_jacobian(
        self, x: torch.Tensor
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Outputs and their Jacobians w.r.t. ``x``.

        Args:
            x: ``[..., in_features]``.

        Returns:
            ``(features, jacobians)``: ``features[i]: [..., width]`` and
            ``jacobians[i]: [..., in_features, width]`` with ``J[..., j, k] = d h_k / d x_j``
            (the coordinate axis first, so each layer's update is one matrix product).
        """
        feats, jacs = [], []
        h = x
        d = x.shape[-1]
        jac = torch.eye(d, dtype=x.dtype, device=x.device).expand(*x.shape[:-1], d, d)
        for lin in self.linears:
            z = lin(h)
            jz = jac @ lin.weight.T  # [..., d, width]
            h, dsig = self.act.value_and_derivative(z)
            jac = dsig.unsqueeze(-2) * jz
            feats.append(h)
            jacs.append(jac)
        return feats, jacs
