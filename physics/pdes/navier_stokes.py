"""2-D incompressible Navier-Stokes in vorticity form on the periodic unit square."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import torch

from sciml.grid import Grid
from sciml.physics.fd import derivative
from sciml.physics.pdes.pde import PDE, PointFn
from sciml.physics.spectral import wavenumbers

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
    solvers work with ``w`` itself (:mod:`sciml.physics.steppers.navier_stokes`).

    Args:
        nu: viscosity (the FNO data sets use 1e-3, 1e-4, 1e-5).
        forcing: ``f(x: [N, 3]) -> [N]``; default :func:`fno_forcing`. None = 0.
        exact: optional exact stream function ``psi(x: [N, 3])``.
    """

    nu: float = 1e-3
    forcing: PointFn | None = field(default=fno_forcing, kw_only=True)
    dim: int = 2
    boundary: str = field(default="periodic", kw_only=True)
    time_dependent: ClassVar[bool] = True
    order: ClassVar[int] = 4

    def __post_init__(self) -> None:
        if self.dim != 2:
            raise ValueError(f"NavierStokesVorticity: dim must be 2, got {self.dim!r}")

    @property
    def required_derivatives(self) -> tuple[str, ...]:
        return (
            "x", "y", "xxt", "yyt", "xxx", "xyy", "xxy", "yyy", "xxxx", "xxyy", "yyyy",
        )  # fmt: skip

    def residual_from(
        self, u: torch.Tensor, d: dict[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        self._check_derivatives(d)
        w_t = -(d["xxt"] + d["yyt"])
        w_x = -(d["xxx"] + d["xyy"])
        w_y = -(d["xxy"] + d["yyy"])
        lap_w = -(d["xxxx"] + 2 * d["xxyy"] + d["yyyy"])
        vel_x, vel_y = d["y"], -d["x"]
        return w_t + vel_x * w_x + vel_y * w_y - self.nu * lap_w - self._forcing(x, u)

    def vorticity_residual(
        self, w: torch.Tensor, grid: Grid, *, accuracy: int = 2, dealias: bool = True
    ) -> torch.Tensor:
        """Residual of VORTICITY snapshots on a space-time grid (physics losses of operators).

        Args:
            w: ``[B, 1, nx, ny, nt]`` vorticity at the points of ``grid``.
            grid: 3-D grid, axes (x, y, t); x and y periodic, t not (snapshot times
                ``t0 + j dt`` of a vertex grid).
            accuracy: finite-difference order in time (2 or 4; one-sided at the ends).
            dealias: drop the advection modes beyond 2/3 of the Nyquist number, as the solver
                (:func:`~sciml.physics.steppers.navier_stokes.solve_navier_stokes`) does.

        Returns:
            ``[B, nx, ny, nt]``: ``w_t + u . grad(w) - nu Laplacian(w) - f`` with space
            derivatives by FFT (``psi`` from ``-Laplacian(psi) = w`` per snapshot).
        """
        if not isinstance(grid, Grid) or grid.ndim != 3 or grid.periodic != (True, True, False):
            raise ValueError(
                f"grid must be a 3-D (x, y, t) grid periodic in x and y only, got {grid!r}"
            )
        grid.check_field(w, "w", channels=1)
        kx = wavenumbers(grid, 0, device=w.device, dtype=w.dtype)[:, None, None]
        ky = wavenumbers(grid, 1, device=w.device, dtype=w.dtype)[None, :, None]
        k2 = kx**2 + ky**2
        w_h = torch.fft.fft2(w[:, 0], dim=(1, 2))
        psi_h = w_h * torch.where(k2 > 0, 1.0 / torch.where(k2 > 0, k2, 1.0), 0.0)

        def real(z):
            return torch.fft.ifft2(z, dim=(1, 2)).real

        w_t = derivative(w, grid, 2, 1, accuracy)[:, 0]
        adv = real(1j * ky * psi_h) * real(1j * kx * w_h) - real(1j * kx * psi_h) * real(
            1j * ky * w_h
        )
        if dealias:
            nx, ny = grid.shape[:2]
            ix = torch.fft.fftfreq(nx, device=w.device).abs()[:, None, None] * nx
            iy = torch.fft.fftfreq(ny, device=w.device).abs()[None, :, None] * ny
            keep = (ix <= 2 / 3 * (nx // 2)) & (iy <= 2 / 3 * (ny // 2))
            adv = real(torch.fft.fft2(adv, dim=(1, 2)) * keep)
        r = w_t + adv - self.nu * real(-k2 * w_h)
        if self.forcing is not None:
            pts = grid.points(w.device, w.dtype)
            r = r - self.forcing(pts).reshape(grid.shape)
        return r
