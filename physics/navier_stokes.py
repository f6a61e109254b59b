"""2-D incompressible Navier-Stokes in vorticity form on the periodic unit square."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from sciml.physics.pde import PDE, PointFn

__all__ = ["NavierStokesVorticity", "fno_forcing"]


def fno_forcing(x: torch.Tensor) -> torch.Tensor:
    """The FNO/LSM benchmark forcing ``0.1 (sin 2pi(x + y) + cos 2pi(x + y))``; ``x: [N, >=2]``."""
    s = 2 * math.pi * (x[:, 0] + x[:, 1])
    return 0.1 * (torch.sin(s) + torch.cos(s))


@dataclass
class NavierStokesVorticity(PDE):
    """``w_t + u . grad(w) = nu Laplacian(w) + f``, ``u = (psi_y, -psi_x)``, ``-Laplacian(psi) = w``.

    The convention of Li et al. (FNO, 2021): vorticity ``w``, stream function ``psi``, on the
    periodic unit square. The pointwise residual takes the STREAM FUNCTION as the unknown
    (``u_fn`` returns ``psi``), so that velocity and vorticity are local derivatives:
    ``w = -(psi_xx + psi_yy)`` and the residual needs derivatives up to fourth order. Grid
    solvers work with ``w`` itself (:mod:`sciml.physics.navier_stokes_solver`).

    Args:
        nu: viscosity (the FNO data sets use 1e-3, 1e-4, 1e-5).
        forcing: ``f(x: [N, 3]) -> [N]``; default :func:`fno_forcing`. None = 0.
        exact: optional exact stream function ``psi(x: [N, 3])``.
    """

    nu: float = 1e-3
    forcing: PointFn | None = fno_forcing
    exact: PointFn | None = None
    initial: PointFn | None = None
    dim: int = 2
    domain: tuple[tuple[float, float], ...] | None = None
    boundary: str = "periodic"
    time_dependent: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self.dim != 2:
            raise ValueError(f"NavierStokesVorticity: dim must be 2, got {self.dim!r}")

    @property
    def required_derivatives(self) -> tuple[str, ...]:
        return (
            "x", "y", "xxt", "yyt", "xxx", "xyy", "xxy", "yyy", "xxxx", "xxyy", "yyyy",
        )  # fmt: skip

    def residual_from(self, u: torch.Tensor, d: dict[str, torch.Tensor], x: torch.Tensor):
        self._check_derivatives(d)
        w_t = -(d["xxt"] + d["yyt"])
        w_x = -(d["xxx"] + d["xyy"])
        w_y = -(d["xxy"] + d["yyy"])
        lap_w = -(d["xxxx"] + 2 * d["xxyy"] + d["yyyy"])
        vel_x, vel_y = d["y"], -d["x"]
        return w_t + vel_x * w_x + vel_y * w_y - self.nu * lap_w - self._forcing(x, u)
