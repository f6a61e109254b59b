"""The spectral densities of a spectral-mixture kernel, as objects.

A component's power spectrum is ``p(s; mu, sigma)`` around ``±mu``; its kernel is
``m(tau) cos(2 pi mu tau)`` with the envelope ``m`` the Fourier transform of ``p``. A density
gives the envelope and its first two derivatives at lags ``tau`` (closed form: the PDE residual
needs ``d^2k/dx^2``, and no nested autograd runs in the solver's hot path) and the spectrum.

* :class:`Gaussian` -- ``m = exp(-tau^2 / (2 l^2))``: Wilson & Adams' spectral-mixture kernel;
* :class:`StudentT` -- 5 degrees of freedom, whose envelope is the Matern-5/2 kernel of
  lengthscale ``l`` (the smallest Matern order with a continuous second derivative at 0).

>>> import torch  # at its centre, p = 1 / (sigma sqrt(2 pi)) with sigma = 1 / (2 pi l)
>>> round(float(Gaussian().spectrum(torch.zeros(1), torch.ones(1))), 4)
2.5066
"""

from __future__ import annotations

import math

import torch

__all__ = ["DENSITIES", "Gaussian", "SpectralDensity", "StudentT"]

_SQRT5 = math.sqrt(5.0)


class SpectralDensity:
    """The contract of a spectral density (one per kernel, shared by its ``Q`` components)."""

    name = "density"

    def envelope(
        self, t: torch.Tensor, ell: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(m, dm/dtau, d^2m/dtau^2)`` at lags ``t: [..., 1]`` for lengthscales ``ell: [Q]``."""
        raise NotImplementedError

    def spectrum(self, z: torch.Tensor, ell: torch.Tensor) -> torch.Tensor:
        """``p(z)`` at offsets ``z: [M, Q]`` from the component frequencies (normalised)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))


class Gaussian(SpectralDensity):
    """Gaussian spectrum with std ``1 / (2 pi l)``; envelope ``exp(-tau^2 / (2 l^2))``."""

    name = "gaussian"

    def envelope(
        self, t: torch.Tensor, ell: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Gaussian envelope and its derivatives."""
        a = 0.5 / ell**2  # m = exp(-a t^2)
        m = torch.exp(-a * t * t)
        return m, -2 * a * t * m, (4 * a * a * t * t - 2 * a) * m

    def spectrum(self, z: torch.Tensor, ell: torch.Tensor) -> torch.Tensor:
        """Normal density with std ``1 / (2 pi l)``."""
        sig = 1.0 / (2 * math.pi * ell)
        return torch.exp(-0.5 * (z / sig) ** 2) / (sig * math.sqrt(2 * math.pi))


class StudentT(SpectralDensity):
    """Student-t spectrum (5 degrees of freedom, scale ``1 / (2 pi l)``); Matern-5/2 envelope."""

    name = "student_t"

    def envelope(
        self, t: torch.Tensor, ell: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Matern-5/2 envelope with ``c = sqrt(5) / l``, ``r = |tau|``, and its derivatives."""
        c = _SQRT5 / ell
        r = t.abs()
        e = torch.exp(-c * r)
        m = (1 + c * r + (c * r) ** 2 / 3) * e
        m1 = -(c * c / 3) * t * (1 + c * r) * e
        m2 = -(c * c / 3) * (1 + c * r - (c * r) ** 2) * e
        return m, m1, m2

    def spectrum(self, z: torch.Tensor, ell: torch.Tensor) -> torch.Tensor:
        """Student-t density, ``nu = 5`` (the Matern-5/2 spectrum)."""
        scale = 1.0 / (2 * math.pi * ell)
        nu = 5.0
        norm = math.exp(math.lgamma(3.0) - math.lgamma(2.5)) / math.sqrt(nu * math.pi)
        return norm / scale * (1 + (z / scale) ** 2 / nu) ** -3.0


#: one instance of every density (the kernel contract runs over them)
DENSITIES: tuple[SpectralDensity, ...] = (Gaussian(), StudentT())
