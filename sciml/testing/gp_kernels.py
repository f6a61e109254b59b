"""The contract every spectral-mixture kernel density of the GP-HM solver passes.

Parametrized over :data:`sciml.solvers.gp.kernels.DENSITIES`, so a new spectral density is
tested by adding its name there (and its formulas to
:class:`~sciml.solvers.gp.kernels.SpectralMixture1D`). Use it from a test module::

    from sciml.testing.gp_kernels import SpectralMixtureContract

    class TestSpectralMixtureKernels(SpectralMixtureContract):
        pass

What is checked, per density, on a fixed 4-component kernel (frequencies 0..9.5 cycles per
unit, lengthscales 0.18..1.35) in float64:

* **positive semi-definite**: the Gram matrix on scattered points has no eigenvalue below
  ``-1e-12`` times the largest, and neither has the joint covariance of ``(u, u')``,
  ``[[k(tau), -k'(tau)], [k'(tau), -k''(tau)]]`` -- the closed-form derivatives are those of
  a valid kernel, not just close to finite differences;
* **the spectral density integrates to the variance**: ``int S(s) ds = k(0) = sum_q w_q``
  (trapezoid on a grid wide and fine enough for the slowest-decaying component), and
  ``S >= 0``;
* **closed-form derivatives match autograd**: ``k'`` and ``k''`` from
  :meth:`~sciml.solvers.gp.kernels.SpectralMixture1D.terms` equal autograd's derivatives of
  ``k`` to ``1e-12``;
* **stationary and even**: ``k(x + c, x' + c) = k(x, x')``, ``k(tau) = k(-tau)``;
* **Kronecker matvec equals dense**: on 2-D and 3-D grids (``Grid.points()`` order, last axis
  fastest) the product kernel ``prod_d k_d(x_d - x'_d)`` formed densely equals
  ``K_1 (x) ... (x) K_D``, and :func:`~sciml.solvers.gp.kronecker.mode_apply` of the per-axis
  kernel and derivative matrices equals the dense Kronecker matvec to ``1e-12``.
"""

from __future__ import annotations

import math
from typing import ClassVar

import pytest
import torch

from sciml.grid import Grid
from sciml.solvers.gp.kernels import DENSITIES, SpectralMixture1D
from sciml.solvers.gp.kronecker import mode_apply

__all__ = ["SpectralMixtureContract"]

DT = torch.float64


def _dense_kron(mats: list[torch.Tensor]) -> torch.Tensor:
    out = mats[0]
    for m in mats[1:]:
        out = torch.kron(out, m)
    return out


class SpectralMixtureContract:
    """Mixin of checks, parametrized over every spectral density name."""

    frequencies: ClassVar[tuple[float, ...]] = (0.0, 1.3, 4.0, 9.5)
    log_lengthscales: ClassVar[tuple[float, ...]] = (0.3, -0.5, -1.0, -1.7)
    log_weights: ClassVar[tuple[float, ...]] = (0.0, -1.0, -0.5, -2.0)

    @pytest.fixture(params=DENSITIES)
    def density(self, request: pytest.FixtureRequest) -> str:
        return request.param

    def make(self, density: str, seed: int = 0) -> SpectralMixture1D:
        """The contract's kernel; ``seed > 0`` perturbs its parameters (a second kernel per
        axis of the Kronecker checks)."""
        k = SpectralMixture1D(len(self.frequencies), density=density, dtype=DT)
        g = torch.Generator().manual_seed(seed)
        shift = 0.0 if seed == 0 else 1.0
        with torch.no_grad():
            k.frequencies.copy_(
                torch.tensor(self.frequencies, dtype=DT)
                + shift * torch.rand(len(self.frequencies), generator=g, dtype=DT)
            )
            k.log_lengthscales.copy_(torch.tensor(self.log_lengthscales, dtype=DT))
            k.log_weights.copy_(torch.tensor(self.log_weights, dtype=DT))
        return k

    # ------------------------------------------------------------------------------ checks
    def test_gram_matrices_are_positive_semidefinite(self, density) -> None:
        k = self.make(density)
        x = torch.rand(60, generator=torch.Generator().manual_seed(1), dtype=DT) * 2 - 1
        with torch.no_grad():
            gram = k.matrix(x, x, 0)
            assert torch.allclose(gram, gram.T, rtol=0, atol=1e-14)
            ev = torch.linalg.eigvalsh(gram)
            assert float(ev.min()) >= -1e-12 * float(ev.max()), float(ev.min() / ev.max())
            # joint covariance of (u, u'): cov(u(x), u'(x')) = d/dx' k(x - x') = -k'(tau)
            k1, k2 = k.matrix(x, x, 1), k.matrix(x, x, 2)
            joint = torch.cat([torch.cat([gram, -k1], 1), torch.cat([k1, -k2], 1)], 0)
            assert torch.allclose(joint, joint.T, rtol=0, atol=1e-12 * float(k2.abs().max()))
            ev = torch.linalg.eigvalsh(joint)
            assert float(ev.min()) >= -1e-12 * float(ev.max()), float(ev.min() / ev.max())

    def test_spectral_density_integrates_to_the_variance(self, density) -> None:
        k = self.make(density)
        with torch.no_grad():
            scale = 1.0 / (2 * math.pi * k.lengthscales)  # spectral width per component
            # Student-t (nu = 5) tails: P(|T| > z) ~ z^-5, below 1e-11 at z = 2000 scales
            half = float(k.frequencies.abs().max() + 2000 * scale.max())
            step = float(scale.min()) / 20
            s = torch.arange(-half, half + step, step, dtype=DT)
            spec = k.spectral_density(s)
            assert float(spec.min()) >= 0.0
            total = torch.trapezoid(spec, s)
            variance = k.terms(torch.zeros((), dtype=DT), 0)[0]
            assert torch.allclose(variance, k.weights.sum(), rtol=1e-14)
            assert abs(float(total - variance)) <= 1e-8 * float(variance), float(total - variance)

    def test_closed_form_derivatives_match_autograd(self, density) -> None:
        k = self.make(density)
        # lags away from 0: the Matern-5/2 envelope's third derivative has a kink there
        tau = torch.linspace(-0.9, 0.9, 40, dtype=DT)
        tau = tau[tau.abs() > 1e-3].requires_grad_(True)
        v, d1, d2 = k.terms(tau, 2)
        (g1,) = torch.autograd.grad(v.sum(), tau, create_graph=True)
        (g2,) = torch.autograd.grad(g1.sum(), tau)
        scale1, scale2 = float(d1.abs().max()), float(d2.abs().max())
        assert float((g1 - d1).abs().max()) <= 1e-12 * scale1
        assert float((g2 - d2).abs().max()) <= 1e-12 * scale2

    def test_stationary_and_even(self, density) -> None:
        k = self.make(density)
        g = torch.Generator().manual_seed(2)
        x1, x2 = torch.rand(9, generator=g, dtype=DT), torch.rand(7, generator=g, dtype=DT)
        with torch.no_grad():
            for order in (0, 1, 2):
                a, b = k.matrix(x1, x2, order), k.matrix(x1 + 0.37, x2 + 0.37, order)
                assert torch.allclose(a, b, rtol=1e-10, atol=1e-12 * float(a.abs().max()))
            assert torch.allclose(k.matrix(x1, x2, 0), k.matrix(x2, x1, 0).T, rtol=1e-14)

    @pytest.mark.parametrize("shape", [(6, 5), (4, 3, 5)])
    def test_kronecker_matvec_equals_dense(self, density, shape) -> None:
        grid = Grid(shape, tuple((0.0, 0.5 + 0.25 * d) for d in range(len(shape))))
        kernels = [self.make(density, seed=d) for d in range(len(shape))]
        with torch.no_grad():
            per_axis = [k.grid_matrices(n, h, 2) for k, n, h in zip(kernels, shape, grid.spacing)]
            # the product kernel on the grid points, formed densely
            pts = grid.points(dtype=DT)  # [N, D], C order
            dense = torch.ones(grid.size, grid.size, dtype=DT)
            for d, k in enumerate(kernels):
                dense = dense * k.matrix(pts[:, d], pts[:, d], 0)
            kron = _dense_kron([m[0] for m in per_axis])
            assert torch.allclose(kron, dense, rtol=0, atol=1e-13 * float(dense.abs().max()))
            u = torch.randn(shape, generator=torch.Generator().manual_seed(3), dtype=DT)
            # every combination of derivative orders per axis (order 0, 1, 2)
            for orders in [(0,) * len(shape), (2,) + (0,) * (len(shape) - 1), tuple(
                (d % 3) for d in range(len(shape))
            )]:  # fmt: skip
                mats = [per_axis[d][o] for d, o in enumerate(orders)]
                ref = _dense_kron(mats) @ u.reshape(-1)
                got = mode_apply(mats, u).reshape(-1)
                assert (got - ref).norm() <= 1e-12 * ref.norm(), orders
            # a batch of fields at once
            ub = torch.stack([u, 2 * u])
            got = mode_apply([m[0] for m in per_axis], ub)
            assert torch.allclose(got[1], 2 * got[0], rtol=1e-14, atol=0)
