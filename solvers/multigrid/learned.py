"""The learned parts of the V-cycle: per-level Chebyshev smoothing intervals and coarse-correction
scales, trained to minimise the measured PCG convergence factor.

A :class:`LearnedCycle` holds, for the ``K`` levels nearest the coarsest one (counted from the
coarsest: ``j = 0`` is the level just above the exact solve, ``j >= K - 1`` share the last
entry), two numbers:

* ``lower_j`` in ``(0, 1)``: the Chebyshev smoother of level ``j`` targets ``[2 lower_j, 2]``
  of the normalised spectrum (:class:`~sciml.solvers.multigrid.smoothers.ChebyshevSmoother`);
* ``alpha_j > 0``: the scale of the coarse correction.

Counting from the coarsest level makes one parameter set serve every grid size: a level's
best over-correction depends on how many inexact levels lie below it (the under-correction of
piecewise-constant aggregation compounds), not on the grid size. ``2 K`` numbers are all there
is (``2 K``; ``K = 3``: 6 parameters), the cost of a cycle does not change, and **the cycle stays
symmetric positive definite for every value** the parametrisation can take: ``lower`` is a
sigmoid (every Chebyshev smoother on ``[2 lower, 2]`` converges) and ``alpha`` a scaled
sigmoid in ``(0, alpha_max)`` (any ``alpha > 0`` keeps the cycle SPD; see
:mod:`~sciml.solvers.multigrid.cycle`).

Initialised at the unlearned cycle (``lower = 1/6`` in 3-D, ``1/4`` in 2-D, ``alpha = 2``), the parameters are
trained by :class:`~sciml.solvers.multigrid.task.MGTask` through the package's Trainer.

>>> net = LearnedCycle(ndim=3)
>>> p = net.cycle_parameters(depth=5)
>>> len(p.weights), [round(a, 3) for a in p.alphas]
(4, [2.0, 2.0, 2.0, 2.0])
"""

from __future__ import annotations

import math

import torch
from torch import nn

from sciml.solvers.multigrid.cycle import CycleParameters
from sciml.solvers.multigrid.smoothers import ChebyshevSmoother

__all__ = ["LearnedCycle", "MODEL_NAME"]

MODEL_NAME = "lmg-cycle"


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


class LearnedCycle(nn.Module):
    """Per-level smoother intervals and coarse-correction scales (see the module docstring).

    Args:
        ndim: grid dimension the parameters are for (2 or 3; a model file records it).
        levels: ``K``, parameter sets counted from the coarsest level.
        sweeps: Chebyshev degree (smoothing sweeps before and after the coarse correction).
        alpha_max: upper end of ``alpha``.
        lower0, alpha0: initial values (default: the unlearned cycle of ``mg-pcg``,
            :meth:`~sciml.solvers.multigrid.cycle.CycleParameters.plain`).
    """

    def __init__(
        self,
        ndim: int = 3,
        levels: int = 3,
        sweeps: int = 2,
        alpha_max: float = 3.0,
        lower0: float | None = None,
        alpha0: float = 2.0,
    ) -> None:
        super().__init__()
        if ndim not in (2, 3):
            raise ValueError(f"ndim must be 2 or 3, got {ndim}")
        if levels < 1 or sweeps < 1:
            raise ValueError(f"levels and sweeps must be >= 1, got {levels}, {sweeps}")
        if not 0 < alpha0 < alpha_max:
            raise ValueError(f"need 0 < alpha0 < alpha_max, got {alpha0}, {alpha_max}")
        self.ndim, self.levels, self.sweeps = int(ndim), int(levels), int(sweeps)
        if lower0 is None:
            lower0 = 1.0 / 6.0 if ndim == 3 else 1.0 / 4.0
        self.alpha_max = float(alpha_max)
        self.lower_logit = nn.Parameter(torch.full((levels,), _logit(lower0), dtype=torch.float64))
        self.alpha_logit = nn.Parameter(
            torch.full((levels,), _logit(alpha0 / alpha_max), dtype=torch.float64)
        )
        self.spec = {
            "name": MODEL_NAME,
            "kwargs": {
                "ndim": self.ndim,
                "levels": self.levels,
                "sweeps": self.sweeps,
                "alpha_max": self.alpha_max,
            },  # fmt: skip
        }

    def lower(self) -> torch.Tensor:
        """``[K]`` Chebyshev interval fractions in ``(0, 1)``."""
        return torch.sigmoid(self.lower_logit)

    def alpha(self) -> torch.Tensor:
        """``[K]`` coarse-correction scales in ``(0, alpha_max)``."""
        return self.alpha_max * torch.sigmoid(self.alpha_logit)

    def _index(self, depth: int) -> list[int]:
        """Parameter index of each level ``l < depth - 1`` (finest first)."""
        return [min(depth - 2 - l, self.levels - 1) for l in range(depth - 1)]

    def level_tensors(self, depth: int) -> tuple[list[list[torch.Tensor]], list[torch.Tensor]]:
        """Differentiable ``(weights, alphas)`` of a hierarchy with ``depth`` levels (finest
        first; normalised weights, before the ``2 / bound`` scaling)."""
        lower, alpha = self.lower(), self.alpha()
        k = self.sweeps
        js = torch.arange(1, k + 1, dtype=lower.dtype, device=lower.device)
        cos = torch.cos((2 * js - 1) * math.pi / (2 * k))
        weights, alphas = [], []
        for j in self._index(depth):
            a = lower[j]
            weights.append(list(1.0 / ((1 + a) + (1 - a) * cos)))
            alphas.append(alpha[j])
        return weights, alphas

    @torch.no_grad()
    def cycle_parameters(self, depth: int) -> CycleParameters:
        """The (float) :class:`CycleParameters` for a hierarchy with ``depth`` levels."""
        lower, alpha = self.lower().tolist(), self.alpha().tolist()
        idx = self._index(depth) or [0]
        return CycleParameters(
            weights=[ChebyshevSmoother(lower=lower[j]).weights(self.sweeps) for j in idx],
            alphas=[alpha[j] for j in idx],
        )

    def forward(self, depth: int) -> tuple[list[list[torch.Tensor]], list[torch.Tensor]]:
        """Same as :meth:`level_tensors` (what the training task calls)."""
        return self.level_tensors(depth)

    def extra_repr(self) -> str:
        lo = ", ".join(f"{v:.3f}" for v in self.lower().tolist())
        al = ", ".join(f"{v:.3f}" for v in self.alpha().tolist())
        return (
            f"ndim={self.ndim}, sweeps={self.sweeps}, lower=[{lo}], alpha=[{al}] (coarsest first)"
        )
