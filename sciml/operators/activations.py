"""Pointwise activations with analytic derivatives (for forward-mode coordinate gradients).

Physics losses of point operators (DeepONet, MultiONet) need ``grad_x`` of the network output.
:class:`~sciml.operators.mlp.FeatureMLP` propagates the coordinate Jacobian through its layers
in forward mode, which needs each activation's derivative ``sigma'(h)``; every activation here
provides it as :meth:`Activation.derivative`.

Besides the standard ones (``tanh``, ``silu``, ``sin``, ``relu``) there are the residual-style
activations of the MultiONet/DGNO papers (Zang & Koutsourelakis 2025):

* ``tanh_sin``: ``tanh(sin(pi (h + 1))) + h``
* ``silu_sin``: ``silu(sin(pi (h + 1))) + h``
* ``silu_id``: ``silu(h) + h``

The ``+ h`` keeps an identity path through deep stacks (gradients do not vanish when the
bounded part saturates).

>>> act = get_activation("tanh_sin")
>>> h = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
>>> (g,) = torch.autograd.grad(act(h).sum(), h)
>>> bool(torch.allclose(g, act.derivative(h)))
True
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["Activation", "ACTIVATIONS", "get_activation"]


class Activation(nn.Module):
    """A pointwise activation ``sigma`` with its derivative ``sigma'``."""

    name: str = ""

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def derivative(self, h: torch.Tensor) -> torch.Tensor:
        """``sigma'(h)``, same shape as ``h``."""
        raise NotImplementedError

    def value_and_derivative(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(sigma(h), sigma'(h))`` (subclasses share the intermediate results)."""
        return self(h), self.derivative(h)

    def extra_repr(self) -> str:
        return self.name


def _silu_prime(h: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(h)
    return s * (1 + h * (1 - s))


class Tanh(Activation):
    name = "tanh"

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.tanh(h)

    def derivative(self, h: torch.Tensor) -> torch.Tensor:
        return 1 - torch.tanh(h) ** 2

    def value_and_derivative(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = torch.tanh(h)
        return t, 1 - t * t


class SiLU(Activation):
    name = "silu"

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return nn.functional.silu(h)

    def derivative(self, h: torch.Tensor) -> torch.Tensor:
        return _silu_prime(h)


class Sin(Activation):
    name = "sin"

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.sin(h)

    def derivative(self, h: torch.Tensor) -> torch.Tensor:
        return torch.cos(h)


class ReLU(Activation):
    name = "relu"

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.relu(h)

    def derivative(self, h: torch.Tensor) -> torch.Tensor:
        return (h > 0).to(h.dtype)


class TanhSin(Activation):
    """``tanh(sin(pi (h + 1))) + h``."""

    name = "tanh_sin"

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.tanh(torch.sin(math.pi * (h + 1))) + h

    def derivative(self, h: torch.Tensor) -> torch.Tensor:
        s = torch.sin(math.pi * (h + 1))
        return (1 - torch.tanh(s) ** 2) * math.pi * torch.cos(math.pi * (h + 1)) + 1

    def value_and_derivative(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        p = math.pi * (h + 1)
        t = torch.tanh(torch.sin(p))
        return t + h, (1 - t * t) * math.pi * torch.cos(p) + 1


class SiLUSin(Activation):
    """``silu(sin(pi (h + 1))) + h``."""

    name = "silu_sin"

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return nn.functional.silu(torch.sin(math.pi * (h + 1))) + h

    def derivative(self, h: torch.Tensor) -> torch.Tensor:
        s = torch.sin(math.pi * (h + 1))
        return _silu_prime(s) * math.pi * torch.cos(math.pi * (h + 1)) + 1


class SiLUId(Activation):
    """``silu(h) + h``."""

    name = "silu_id"

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return nn.functional.silu(h) + h

    def derivative(self, h: torch.Tensor) -> torch.Tensor:
        return _silu_prime(h) + 1


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Tanh, SiLU, Sin, ReLU, TanhSin, SiLUSin, SiLUId)
}


def get_activation(name: str) -> Activation:
    """The activation registered as ``name`` (see :data:`ACTIVATIONS`)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]()
