"""An MLP that returns every hidden layer, optionally with its coordinate Jacobian.

The branch and trunk networks of :class:`~sciml.operators.deeponet.DeepONet` and
:class:`~sciml.operators.multionet.MultiONet` are :class:`FeatureMLP` s: ``layers`` blocks of
``Linear -> activation``, all of width ``width``. MultiONet combines the outputs of several of
these blocks, so the forward pass returns all of them.

:meth:`FeatureMLP.forward_with_jacobian` also propagates ``dh/dx`` in forward mode
(``J <- sigma'(z) * (W J)``): the coordinate gradient of every feature for the cost of ``d``
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
            ``jacobians[i]: [..., width, in_features]`` with ``J[..., k, j] = d h_k / d x_j``.
        """
        feats, jacs = [], []
        h = x
        jac = torch.eye(x.shape[-1], dtype=x.dtype, device=x.device).expand(*x.shape, x.shape[-1])
        for lin in self.linears:
            z = lin(h)
            jz = torch.einsum("ow,...wd->...od", lin.weight, jac)
            h = self.act(z)
            jac = self.act.derivative(z).unsqueeze(-1) * jz
            feats.append(h)
            jacs.append(jac)
        return feats, jacs
