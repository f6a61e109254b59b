"""``NeuralODE``: a vector field, a solver configuration, and a training-time regularizer."""

from __future__ import annotations

import torch
from torch import nn
from torchdiffeq import odeint, odeint_adjoint

from sciml.nde.nfe import NFECounter
from sciml.nde.regularizers import (
    RNODE,
    GlobalError,
    LocalRegularizer,
    RegularizedSolve,
    Unregularized,
)

__all__ = ["NeuralODE"]


class NeuralODE(nn.Module):
    """``z(t) = z0 + int f(s, z(s)) ds`` for any vector field module ``f(t, z)``.

    Args:
        func: vector field ``f(t, z)``, ``z: [B, D]``.
        rtol, atol: solver tolerances (training and prediction).
        method: torchdiffeq method used for prediction (default ``"dopri5"``).
        regularizer: object with ``solve(func, y0, t, *, rtol, atol)`` (see
            :mod:`sciml.nde.regularizers`); used by :meth:`solve_regularized`. Default
            :class:`~sciml.nde.regularizers.Unregularized`.
        adjoint: predict with ``odeint_adjoint`` (constant memory in the number of steps).

    ``self.func`` is an :class:`~sciml.nde.nfe.NFECounter`; ``self.nfe`` reads its counter.
    """

    def __init__(
        self,
        func: nn.Module,
        *,
        rtol: float = 1e-5,
        atol: float = 1e-5,
        method: str = "dopri5",
        regularizer: Unregularized | RNODE | GlobalError | LocalRegularizer | None = None,
        adjoint: bool = False,
    ):
        super().__init__()
        if rtol <= 0 or atol <= 0:
            raise ValueError(f"rtol and atol must be positive, got {rtol}, {atol}")
        self.func = NFECounter(func)
        self.rtol, self.atol, self.method, self.adjoint = rtol, atol, method, adjoint
        self.regularizer = regularizer if regularizer is not None else Unregularized(method)

    @property
    def nfe(self) -> int:
        return self.func.nfe

    def reset_nfe(self) -> None:
        self.func.reset()

    def forward(self, z0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Plain solve. ``z0: [B, D]``, ``t: [T]`` increasing -> ``[T, B, D]``."""
        if z0.ndim != 2:
            raise ValueError(f"z0 must be [B, D], got shape {tuple(z0.shape)}")
        ode = odeint_adjoint if self.adjoint else odeint
        t = torch.as_tensor(t, dtype=z0.dtype, device=z0.device)
        return ode(self.func, z0, t, rtol=self.rtol, atol=self.atol, method=self.method)

    def solve_regularized(self, z0: torch.Tensor, t: torch.Tensor) -> RegularizedSolve:
        """Training solve through the regularizer: ``ys: [T, B, D]`` and a scalar penalty."""
        if z0.ndim != 2:
            raise ValueError(f"z0 must be [B, D], got shape {tuple(z0.shape)}")
        return self.regularizer.solve(self.func, z0, t, rtol=self.rtol, atol=self.atol)
