"""Spectral-mixture kernels: closed-form derivatives vs finite differences, spectrum vs kernel."""

import math

import pytest
import torch

from sciml.solvers.gp.densities import Gaussian
from sciml.solvers.gp.kernels import DENSITIES, SpectralMixture1D


def _kernel(density: str) -> SpectralMixture1D:
    k = SpectralMixture1D(4, density=density, dtype=torch.float64)
    with torch.no_grad():
        k.frequencies.copy_(torch.tensor([0.0, 1.3, 4.0, 9.5]))
        k.log_lengthscales.copy_(torch.tensor([0.3, -0.5, -1.0, -1.7]))
        k.log_weights.copy_(torch.tensor([0.0, -1.0, -0.5, -2.0]))
    return k


@pytest.mark.parametrize("density", DENSITIES)
def test_derivatives_match_finite_differences(density):
    k = _kernel(density)
    x1 = torch.linspace(-0.7, 0.9, 23, dtype=torch.float64)
    x2 = torch.linspace(-0.5, 0.6, 17, dtype=torch.float64)
    h = 1e-4
    # 4th-order central differences in the first argument: truncation ~ h^4 k^(5) / 30 and
    # round-off ~ eps k' / h, both < 1e-9 relative to max|k''| here. The Matern-5/2 envelope
    # has a kink in its 3rd derivative at tau = 0, so lags within the stencil of 0 are skipped.
    far = (x1.reshape(-1, 1) - x2.reshape(1, -1)).abs() > 3 * h

    def fd(order: int) -> torch.Tensor:
        lo = order - 1
        f = [k.matrix(x1 + s * h, x2, lo) for s in (-2, -1, 1, 2)]
        return (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * h)

    scale = k.matrix(x1, x2, 2).abs().max()
    for order in (1, 2):
        err = ((k.matrix(x1, x2, order) - fd(order)).abs()[far].max() / scale).detach()
        assert err < 1e-9, (density, order, float(err))


@pytest.mark.parametrize("density", DENSITIES)
def test_second_derivative_at_zero_lag_and_symmetry(density):
    """k'' at tau = 0 (the Matern-5/2 kink-free point) matches FD; k' is odd, k and k'' even."""
    k = _kernel(density)
    tau = torch.tensor([-0.3, 0.0, 0.3], dtype=torch.float64)
    v, d1, d2 = k.terms(tau, 2)
    assert torch.allclose(v[0], v[2], rtol=1e-14) and torch.allclose(d2[0], d2[2], rtol=1e-13)
    assert torch.allclose(d1[0], -d1[2], rtol=1e-13) and abs(float(d1[1])) < 1e-14
    h = 1e-4
    fd = (k.terms(torch.tensor([h], dtype=torch.float64), 0)[0] * 2 - 2 * v[1]) / h**2
    assert abs(float(fd - d2[1])) < 1e-5 * abs(float(d2[1]))  # O(h^2) FD error


@pytest.mark.parametrize("density", DENSITIES)
def test_spectrum_is_the_fourier_transform_of_the_kernel(density):
    """Bochner: k(tau) = int S(s) cos(2 pi s tau) ds (quadrature on a wide, fine grid)."""
    k = _kernel(density)
    s = torch.linspace(-400, 400, 800_001, dtype=torch.float64)
    spec = k.spectral_density(s)
    for tau in (0.0, 0.07, 0.4):
        quad = torch.trapezoid(spec * torch.cos(2 * math.pi * s * tau), s)
        exact = k.terms(torch.tensor(tau, dtype=torch.float64), 0)[0]
        # Student-t tails decay like s^-6: truncation at |s| = 400 costs ~1e-11
        assert abs(float(quad - exact)) < 1e-8, (density, tau)


def test_grid_matrices_gpytorch_forward_and_matrix_agree():
    k = _kernel(Gaussian())
    n, h = 13, 0.07
    x = h * torch.arange(n, dtype=torch.float64)
    for order, m in enumerate(k.grid_matrices(n, h, 2)):
        assert torch.allclose(m, k.matrix(x, x, order), rtol=1e-13, atol=1e-13)
    dense = k(x.reshape(-1, 1)).to_dense()  # gpytorch __call__ -> LinearOperator
    assert torch.allclose(dense, k.matrix(x, x, 0), rtol=1e-13, atol=1e-13)
    assert torch.allclose(k(x.reshape(-1, 1), diag=True), dense.diagonal(), rtol=1e-13)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(TypeError, match="density must be a SpectralDensity"):
        SpectralMixture1D(3, density="cauchy")
    with pytest.raises(ValueError, match="num_mixtures"):
        SpectralMixture1D(0)
    k = SpectralMixture1D(2)
    with pytest.raises(ValueError, match="order"):
        k.matrix(torch.zeros(2), torch.zeros(2), 3)
    with pytest.raises(ValueError, match="one dimension"):
        k.forward(torch.zeros(3, 2), torch.zeros(3, 2))
