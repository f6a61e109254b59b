"""``NeuralSDE``: Itô SDE with diagonal noise, ``dz = f(t, z) dt + g(t, z) dW``, solved by
torchsde's adaptive solver, with a local step-doubling error regularizer for training."""

from __future__ import annotations

import torch
import torchsde
from torch import nn

from sciml.nde.regularizers import RegularizedSolve
from sciml.nde.sde_step import SDE_STEPS, sde_step_doubling_error

__all__ = ["NeuralSDE"]


class NeuralSDE(nn.Module):
    """Diagonal-noise Itô SDE with learned drift and diffusion (torchsde interface).

    Args:
        drift: module ``f(t, z)``, diffusion: module ``g(t, z)``; both ``[B, D] -> [B, D]``.
        method: ``"milstein"`` (derivative-free, strong order 1) or ``"euler"``.
        rtol, atol: torchsde's adaptive tolerances; dt0: its initial step.
        regularize: ``None`` or ``"local-error"`` (see :meth:`solve_regularized`).

    ``nfe`` counts drift plus diffusion evaluations.
    """

    noise_type = "diagonal"
    sde_type = "ito"

    def __init__(
        self,
        drift: nn.Module,
        diffusion: nn.Module,
        *,
        method: str = "milstein",
        rtol: float = 1e-3,
        atol: float = 1e-3,
        dt0: float = 0.01,
        regularize: str | None = None,
    ):
        super().__init__()
        if method not in SDE_STEPS:
            raise ValueError(f"method must be one of {sorted(SDE_STEPS)}, got {method!r}")
        if regularize not in (None, "none", "local-error"):
            raise ValueError(f"regularize must be None or 'local-error', got {regularize!r}")
        self.drift, self.diffusion = drift, diffusion
        self.method, self.rtol, self.atol, self.dt0 = method, rtol, atol, dt0
        self.regularize = None if regularize == "none" else regularize
        self.nfe = 0
        self.n_drift = 0

    def reset_nfe(self) -> None:
        self.nfe = 0
        self.n_drift = 0

    def f(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.nfe += 1
        self.n_drift += 1
        return self.drift(t, y)

    def g(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.nfe += 1
        return self.diffusion(t, y)

    def brownian(
        self, y0: torch.Tensor, ts: torch.Tensor, seed: int | None = None
    ) -> torchsde.BrownianInterval:
        """A ``torchsde.BrownianInterval`` on ``[ts[0], ts[-1]]`` of size ``y0.shape``."""
        return torchsde.BrownianInterval(
            t0=float(ts[0]),
            t1=float(ts[-1]),
            size=tuple(y0.shape),
            dtype=y0.dtype,
            device=y0.device,
            entropy=seed,
            levy_area_approximation="none",
        )

    def forward(
        self, y0: torch.Tensor, ts: torch.Tensor, bm: torchsde.BaseBrownian | None = None
    ) -> torch.Tensor:
        """Adaptive torchsde solve: ``y0: [B, D]``, ``ts: [T]`` -> ``[T, B, D]``."""
        if y0.ndim != 2:
            raise ValueError(f"y0 must be [B, D], got shape {tuple(y0.shape)}")
        ts = torch.as_tensor(ts, dtype=y0.dtype, device=y0.device)
        bm = self.brownian(y0, ts) if bm is None else bm
        return torchsde.sdeint(
            self,
            y0,
            ts,
            bm=bm,
            method=self.method,
            adaptive=True,
            rtol=self.rtol,
            atol=self.atol,
            dt=self.dt0,
            options={"grad_free": True} if self.method == "milstein" else None,
        )

    def solve_regularized(
        self,
        y0: torch.Tensor,
        ts: torch.Tensor,
        bm: torchsde.BaseBrownian | None = None,
        *,
        t_reg: float | None = None,
    ) -> RegularizedSolve:
        """Training solve. With ``regularize="local-error"``: solve at ``ts`` plus a uniform random
        ``t_reg``, then the differentiable step-doubling error ``E`` of one step of the solver's
        mean accepted-or-tried step size ``dt`` from ``(t_reg, z(t_reg))`` on the same Brownian
        path; penalty ``E * dt``."""
        ts = torch.as_tensor(ts, dtype=y0.dtype, device=y0.device)
        bm = self.brownian(y0, ts) if bm is None else bm
        if self.regularize is None:
            return RegularizedSolve(self(y0, ts, bm), ts, y0.new_zeros(()))
        n0 = self.n_drift
        t0, t1 = float(ts[0]), float(ts[-1])
        if t_reg is None:
            t_reg = t0 + torch.rand(()).item() * (t1 - t0)
        tr = torch.tensor([t_reg], dtype=ts.dtype, device=ts.device)
        pos = int(torch.searchsorted(ts, tr))
        dup = pos < ts.numel() and bool(ts[pos] == tr[0])
        t_all = ts if dup else torch.cat([ts[:pos], tr, ts[pos:]])
        ys_all = self(y0, t_all, bm)
        ys = ys_all if dup else torch.cat([ys_all[:pos], ys_all[pos + 1 :]])
        # each adaptive attempt makes 3 steps (one full, two half) with one drift call each
        attempts = max((self.n_drift - n0) // 3, 1)
        dt = min((t1 - t0) / attempts, t1 - t_reg)
        if dt <= 1e-9:
            return RegularizedSolve(ys, ts, y0.new_zeros(()), {"error": 0.0, "dt_reg": 0.0})
        err = sde_step_doubling_error(
            self, t_reg, ys_all[pos], dt, bm, method=self.method, rtol=self.rtol, atol=self.atol
        )
        return RegularizedSolve(ys, ts, err * dt, {"error": float(err.detach()), "dt_reg": dt})
