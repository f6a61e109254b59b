"""Kronecker algebra == dense computation (to 1e-10) on small grids."""

import pytest
import torch

from sciml.solvers.gp.kernels import SpectralMixture1D
from sciml.solvers.gp.kronecker import KroneckerFactors, mode_apply


def _factors(shape, jitter=1e-3):
    """Per-axis spectral-mixture factors, jittered so that cond(K) ~ 1e4 or less: the dense
    reference solves in float64 then agree with the Kronecker ones to ~1e-12."""
    mats, ders = [], []
    for d, n in enumerate(shape):
        k = SpectralMixture1D(3, dtype=torch.float64)
        with torch.no_grad():
            k.frequencies.copy_(torch.tensor([0.0, 1.0 + d, 3.0]))
            k.log_lengthscales.fill_(-1.5)
        x = torch.linspace(0, 1, n, dtype=torch.float64)
        mats.append(k.matrix(x, x, 0))
        ders.append((k.matrix(x, x, 1), k.matrix(x, x, 2)))
    return KroneckerFactors(mats, jitter=jitter), ders


def _dense_kron(mats):
    out = mats[0]
    for m in mats[1:]:
        out = torch.kron(out, m)
    return out


@pytest.mark.parametrize("shape", [(7,), (6, 5), (4, 3, 5)])
def test_quadratic_form_logdet_solve_equal_dense(shape):
    fac, _ = _factors(shape)
    dense = _dense_kron(fac.mats)
    # linear_operator's Kronecker operator gives the same dense matrix
    assert torch.allclose(fac.operator().to_dense(), dense, rtol=0, atol=1e-14)
    u = torch.randn(shape, dtype=torch.float64)
    v = u.reshape(-1)
    quad = v @ torch.linalg.solve(dense, v)
    assert abs(float(fac.inv_quad(u) - quad)) <= 1e-10 * abs(float(quad))
    logdet = torch.linalg.slogdet(dense)[1]
    assert abs(float(fac.logdet() - logdet)) <= 1e-10 * abs(float(logdet))
    sol = torch.linalg.solve(dense, v)
    assert (fac.solve(u).reshape(-1) - sol).norm() <= 1e-10 * sol.norm()
    assert (fac.matmul(u).reshape(-1) - dense @ v).norm() <= 1e-12 * (dense @ v).norm()
    chol = _dense_kron(fac.chols)
    assert (fac.half_matmul(u).reshape(-1) - chol @ v).norm() <= 1e-12 * (chol @ v).norm()
    z = torch.linalg.solve_triangular(chol, v.reshape(-1, 1), upper=False).reshape(-1)
    assert (fac.half_solve(u).reshape(-1) - z).norm() <= 1e-10 * z.norm()


@pytest.mark.parametrize("shape", [(6, 5), (4, 3, 5)])
def test_modewise_derivative_operators_equal_dense(shape):
    """(K_d^(k) K_d^{-1}) applied along axis d == the dense Kronecker operator, for first and
    second derivatives on each axis and a mixed derivative."""
    fac, ders = _factors(shape)
    u = torch.randn(shape, dtype=torch.float64)
    v = u.reshape(-1)
    eye = [torch.eye(n, dtype=torch.float64) for n in shape]
    for d in range(len(shape)):
        for order in (1, 2):
            op = fac.right_solve(d, ders[d][order - 1])
            ref = ders[d][order - 1] @ torch.linalg.inv(fac.mats[d])
            mats = [op if a == d else None for a in range(len(shape))]
            dense = _dense_kron([ref if a == d else eye[a] for a in range(len(shape))])
            got = mode_apply(mats, u).reshape(-1)
            assert (got - dense @ v).norm() <= 1e-10 * (dense @ v).norm(), (d, order)
    # mixed d^2/dx0 dx1
    ops = [fac.right_solve(a, ders[a][0]) for a in (0, 1)]
    dense = _dense_kron(ops + eye[2:])
    got = mode_apply(ops + [None] * (len(shape) - 2), u).reshape(-1)
    assert (got - dense @ v).norm() <= 1e-10 * (dense @ v).norm()
    # whitened derivative operator K^(k) L^{-T}
    w = fac.right_half_solve(0, ders[0][1])
    assert (w @ fac.chols[0].T - ders[0][1]).abs().max() <= 1e-10 * ders[0][1].abs().max()


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="square"):
        KroneckerFactors([torch.zeros(2, 3)])
    with pytest.raises(ValueError, match="columns"):
        mode_apply([torch.eye(3)], torch.zeros(4))
    with pytest.raises(torch.linalg.LinAlgError, match="jitter"):
        KroneckerFactors([-torch.eye(3, dtype=torch.float64)])
