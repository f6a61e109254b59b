"""The result of an iterative solve, shared by every solver of the package (CG, PCG, DCDM,
PETSc's KSP), and the one helper that packs row-batched histories into it.

Vectors are row-batched inside the solvers (``[B, n]``); :func:`pack_result` turns the final
state back into the caller's shape (``[n]`` when ``b`` was ``[n]``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

__all__ = ["SolveResult", "pack_result", "sync"]


@dataclass
class SolveResult:
    """Solution and history of an iterative solve.

    Attributes:
        x: solution ``[n]`` or ``[B, n]`` (the shape of ``b``).
        converged: ``bool`` (or ``BoolTensor[B]``): true relative residual <= rtol.
        iterations: iterations of the slowest column.
        residual: final true relative residual ``||b - Ax|| / ||b||`` (float or ``[B]``).
        residuals: ``[iterations + 1, B]`` relative residual norm after each iteration
            (the recursively updated one for CG, the true one where it was computed).
        times: ``[iterations + 1]`` seconds since the start of the iteration (after setup).
        setup_time: seconds spent before the first iteration (preconditioner setup, etc.).
        method: a label.
        extra: method-specific diagnostics (e.g. DCDM's safeguard statistics).
    """

    x: torch.Tensor
    converged: bool | torch.Tensor
    iterations: int
    residual: float | torch.Tensor
    residuals: torch.Tensor
    times: torch.Tensor
    setup_time: float = 0.0
    method: str = "cg"
    extra: dict = field(default_factory=dict)

    @property
    def solve_time(self) -> float:
        """Seconds from the first iteration to convergence."""
        return float(self.times[-1])

    @property
    def time_per_iteration(self) -> float:
        """Solve seconds per iteration."""
        return self.solve_time / max(self.iterations, 1)


def sync(device: torch.device) -> None:
    """Wait for queued CUDA work on ``device`` (so wall-clock timings are honest)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def pack_result(
    *,
    x: torch.Tensor,
    true_residual: torch.Tensor,
    tol_ratio: torch.Tensor,
    squeeze: bool,
    iterations: int,
    history: list[torch.Tensor],
    times: list[float],
    setup_time: float,
    method: str,
    extra: dict | None = None,
) -> SolveResult:
    """Build a :class:`SolveResult` from row-batched solver state.

    Args:
        x: ``[B, n]`` final iterate.
        true_residual: ``[B]`` final true relative residual.
        tol_ratio: ``[B]`` the relative tolerance each column had to reach
            (``max(rtol, atol / ||b||)``).
        squeeze: the caller passed ``b: [n]``; return ``x: [n]`` and scalars.
        iterations: iterations done.
        history: one ``[B]`` relative residual per iteration (and the initial one).
        times: seconds since the first iteration, one per history entry.
        setup_time, method, extra: copied.
    """
    converged = true_residual <= tol_ratio * (1 + 1e-12)
    return SolveResult(
        x=x[0] if squeeze else x,
        converged=bool(converged[0]) if squeeze else converged,
        iterations=int(iterations),
        residual=float(true_residual[0]) if squeeze else true_residual,
        residuals=torch.stack([h.detach().cpu() for h in history]),
        times=torch.tensor(times, dtype=torch.float64),
        setup_time=setup_time,
        method=method,
        extra=extra or {},
    )
