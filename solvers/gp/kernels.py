"""Spectral-mixture kernels on one input dimension, with closed-form derivatives.

The kernels of the GP-HM solver (Fang et al., "Solving High Frequency and Multi-Scale PDEs
with Gaussian Processes", ICLR 2024). On one axis the kernel's power spectrum is a mixture
of ``Q`` components placed symmetrically at ``±mu_q`` (cycles per unit length),

    S(s) = sum_q w_q / 2 * [p(s; mu_q, sigma_q) + p(s; -mu_q, sigma_q)],

and by Bochner's theorem the kernel is its Fourier transform, ``k(tau) = sum_q w_q
m_q(tau) cos(2 pi mu_q tau)`` with ``tau = x - x'``:

* ``density=Gaussian()``: ``p`` Gaussian with std ``sigma_q = 1 / (2 pi l_q)``, so
  ``m_q(tau) = exp(-tau^2 / (2 l_q^2))`` (the spectral-mixture kernel of Wilson & Adams).
* ``density=StudentT()``: ``p`` a Student-t with 5 degrees of freedom, which makes
  ``m_q`` the Matern-5/2 kernel of lengthscale ``l_q`` (the smallest Matern order whose
  second derivative is continuous at ``tau = 0``, which the PDE residual needs).

(:mod:`sciml.solvers.gp.densities`.)

Weights are optimised in the log domain (``w = exp(log_w)``): a flat prior on ``log w`` is
the Jeffreys prior ``p(w) ~ 1/w``, which lets unneeded components shrink to zero.
Lengthscales are stored as logs; frequencies are unconstrained (the spectrum is symmetric).

The first and second derivatives with respect to the first argument (``dk/dx``,
``d^2k/dx^2``) are written in closed form, so no nested autograd runs in the solver's hot path.

>>> import torch
>>> k = SpectralMixture1D(num_mixtures=1, dtype=torch.float64)
>>> x = torch.linspace(0, 1, 5, dtype=torch.float64)
>>> k.matrix(x, x, order=0).shape
torch.Size([5, 5])
"""

from __future__ import annotations

import math
import warnings

import torch

with warnings.catch_warnings():  # linear_operator (gpytorch's) still calls torch.jit.script,
    # which torch >= 2.10 marks deprecated at import time: not ours to act on, not the user's
    warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
    import gpytorch

from sciml.solvers.gp.densities import DENSITIES, Gaussian, SpectralDensity

__all__ = ["SpectralMixture1D", "DENSITIES"]


class SpectralMixture1D(gpytorch.kernels.Kernel):
    """Spectral-mixture kernel on one input dimension (a gpytorch kernel).

    Args:
        num_mixtures: number of components ``Q`` (GP-HM uses ~30).
        density: a :class:`~sciml.solvers.gp.densities.SpectralDensity`: ``Gaussian()``
            (SM kernel, default) or ``StudentT()`` (Matern-5/2 x cosine).
        dtype, device: of the parameters (use float64 for PDE solves).

    Parameters (all ``[Q]``): ``log_weights``, ``frequencies`` (cycles per unit length),
    ``log_lengthscales``.

    Contract (read by the tests): ``max_derivative_order = 2``; ``is_stationary = True``.
    """

    max_derivative_order = 2
    is_stationary = True

    def __init__(
        self,
        num_mixtures: int = 30,
        *,
        density: SpectralDensity | None = None,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(num_mixtures, int) or num_mixtures < 1:
            raise ValueError(f"num_mixtures must be a positive int, got {num_mixtures!r}")
        density = Gaussian() if density is None else density
        if not isinstance(density, SpectralDensity):
            raise TypeError(
                f"density must be a SpectralDensity ({', '.join(map(repr, DENSITIES))}), "
                f"got {density!r}"
            )
        self.num_mixtures = num_mixtures
        self.density = density
        kw = {"dtype": dtype, "device": device}
        self.register_parameter(
            "log_weights",
            torch.nn.Parameter(torch.full((num_mixtures,), -math.log(num_mixtures), **kw)),
        )
        self.register_parameter(
            "frequencies", torch.nn.Parameter(torch.linspace(0.0, 1.0, num_mixtures, **kw))
        )
        self.register_parameter(
            "log_lengthscales", torch.nn.Parameter(torch.zeros(num_mixtures, **kw))
        )

    # ------------------------------------------------------------------ values
    @property
    def weights(self) -> torch.Tensor:
        """Mixture weights ``[Q]`` (positive)."""
        return self.log_weights.exp()

    @property
    def lengthscales(self) -> torch.Tensor:
        """Lengthscales ``[Q]`` of the envelopes ``m_q``."""
        return self.log_lengthscales.exp()

    def terms(self, tau: torch.Tensor, order: int) -> list[torch.Tensor]:
        """``[k, dk/dtau, ..., d^order k/dtau^order]`` at lags ``tau: [...]`` (each ``[...]``)."""
        if order not in (0, 1, 2):
            raise ValueError(f"order must be 0, 1 or 2, got {order!r}")
        t = tau.unsqueeze(-1)  # [..., 1] broadcast against [Q]
        w, ell = self.weights, self.lengthscales
        b = 2 * math.pi * self.frequencies
        cos, sin = torch.cos(b * t), torch.sin(b * t)
        m, m1, m2 = self.density.envelope(t, ell)
        out = [(w * m * cos).sum(-1)]
        if order >= 1:
            out.append((w * (m1 * cos - b * m * sin)).sum(-1))
        if order >= 2:
            out.append((w * (m2 * cos - 2 * b * m1 * sin - b * b * m * cos)).sum(-1))
        return out

    def matrix(self, x1: torch.Tensor, x2: torch.Tensor, order: int = 0) -> torch.Tensor:
        """``d^order k(x1_i, x2_j) / dx1^order`` as a dense ``[n1, n2]`` tensor.

        ``x1: [n1]``, ``x2: [n2]`` (1-D coordinates). ``order`` in ``{0, 1, 2}``: the derivative
        is taken with respect to the FIRST argument, as the conditional-mean derivative needs.
        """
        return self.terms(x1.reshape(-1, 1) - x2.reshape(1, -1), order)[order]

    def grid_matrices(self, n: int, spacing: float, order: int = 0) -> list[torch.Tensor]:
        """``[K, dK/dx1, ...]`` up to ``order`` on ``n`` evenly spaced points, each ``[n, n]``.

        On an even grid ``k(x_i - x_j)`` depends on ``i - j`` only (Toeplitz), so the kernel is
        evaluated at the ``2n - 1`` lags and gathered: ``O(n Q + n^2)`` instead of ``O(n^2 Q)``.
        """
        lags = spacing * torch.arange(
            -(n - 1), n, dtype=self.frequencies.dtype, device=self.frequencies.device
        )
        idx = torch.arange(n, device=lags.device)
        idx = idx.reshape(-1, 1) - idx.reshape(1, -1) + (n - 1)  # [n, n] lag index of i - j
        return [t[idx] for t in self.terms(lags, order)]

    def forward(
        self, x1: torch.Tensor, x2: torch.Tensor, diag: bool = False, **params: object
    ) -> torch.Tensor:
        """gpytorch entry point: ``x1: [..., n1, 1]``, ``x2: [..., n2, 1]`` -> ``[..., n1, n2]``."""
        if params.get("last_dim_is_batch", False):
            raise ValueError("last_dim_is_batch is not supported by SpectralMixture1D")
        if x1.shape[-1] != 1 or x2.shape[-1] != 1:
            raise ValueError(
                f"SpectralMixture1D acts on one dimension: x1, x2 must end in 1, got "
                f"{list(x1.shape)} and {list(x2.shape)}"
            )
        if diag:
            return self.terms(torch.zeros_like(x1[..., 0]), 0)[0]
        return self.terms(x1 - x2.transpose(-1, -2), 0)[0]

    # ---------------------------------------------------------------- spectrum
    def spectral_density(self, s: torch.Tensor) -> torch.Tensor:
        """Power spectrum ``S(s)`` at frequencies ``s: [M]`` (cycles per unit length) -> ``[M]``."""
        s = s.reshape(-1, 1)
        w, mu = self.weights, self.frequencies
        ell = self.lengthscales

        def p(z: torch.Tensor) -> torch.Tensor:
            return self.density.spectrum(z, ell)

        return (0.5 * w * (p(s - mu) + p(s + mu))).sum(-1)

    @torch.no_grad()
    def initialize_frequencies(
        self,
        *,
        max_frequency: float | None = None,
        peaks: torch.Tensor | None = None,
        peak_weights: torch.Tensor | None = None,
        lengthscale: float | None = None,
    ) -> None:
        """Set the component frequencies (in place).

        * ``max_frequency`` only (the published recipe): frequencies evenly spaced on
          ``[0, max_frequency]``.
        * ``peaks: [P]`` (frequencies found in the data's spectrum, strongest first): the first
          ``min(P, Q // 2)`` components sit on the peaks with weight 1, the others are spread
          evenly on ``[0, max_frequency]`` with a small weight, free to move (the one at
          frequency 0, a smooth background for trends, with weight 0.1).
          ``peak_weights: [P]`` (default 1) replace the weight 1, e.g. relative amplitudes.

        ``lengthscale`` (if given) is set for all components.
        """
        q = self.num_mixtures
        top = max_frequency
        if top is None:
            if peaks is None or len(peaks) == 0:
                raise ValueError("initialize_frequencies needs max_frequency or peaks")
            top = float(peaks.max())
        if top <= 0:
            raise ValueError(f"max_frequency must be > 0, got {top}")
        freqs = torch.linspace(0.0, top, q, dtype=self.frequencies.dtype)
        log_w = torch.full((q,), -math.log(q), dtype=self.log_weights.dtype)
        if peaks is not None and len(peaks) > 0:
            k = min(len(peaks), max(q // 2, 1))
            freqs[:k] = peaks[:k].to(freqs)
            if peak_weights is None:
                log_w[:k] = 0.0
            else:
                log_w[:k] = peak_weights[:k].to(log_w).clamp_min(1e-3).log()
            rest = q - k
            if rest > 0:
                freqs[k:] = torch.linspace(0.0, top, rest, dtype=freqs.dtype)
                log_w[k:] = math.log(1e-2 / rest)
                log_w[k] = math.log(0.1)  # the frequency-0 component: a smooth background
        self.frequencies.copy_(freqs.to(self.frequencies.device))
        self.log_weights.copy_(log_w.to(self.log_weights.device))
        if lengthscale is not None:
            self.log_lengthscales.fill_(math.log(lengthscale))
