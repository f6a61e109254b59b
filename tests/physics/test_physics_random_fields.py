"""Random fields and velocity families: spectra, variance, seeding, structure."""

import math

import numpy as np
import pytest
import torch

from sciml.grid import Grid
from sciml.physics import burgers_initial, navier_stokes_initial
from sciml.physics.fields import random_fields as rf
from sciml.physics.seismic import velocity_models as vm


@pytest.mark.parametrize("alpha,tau", [(2.0, 3.0), (2.5, 7.0)])
def test_grf_power_spectrum_slope(alpha, tau):
    g = Grid((64, 64), periodic=True)
    u = rf.gaussian_random_field(g, range(32), alpha=alpha, tau=tau, dtype=torch.float64)
    power = (torch.fft.rfftn(u[:, 0], dim=(1, 2)).abs() ** 2).mean(0)  # [64, 33]
    k = 2 * math.pi * torch.fft.fftfreq(64, 1 / 64, dtype=torch.float64)
    kr = 2 * math.pi * torch.fft.rfftfreq(64, 1 / 64, dtype=torch.float64)
    k2 = k[:, None] ** 2 + kr[None] ** 2
    m = k2.sqrt() / (2 * math.pi)  # integer mode radius
    keep = (m >= 1) & (m <= 16)  # resolved band, away from the Nyquist edge
    slope = np.polyfit(torch.log((k2 + tau**2)[keep]).numpy(), torch.log(power[keep]).numpy(), 1)[0]
    # the issue: empirical spectrum slope within 10 % of the design (-alpha)
    assert abs(slope + alpha) < 0.1 * alpha, slope


def test_matern_variance_and_3d():
    g = Grid((48, 48), periodic=True)
    u = rf.matern_field(g, range(64), nu=1.5, length_scale=0.08, variance=2.0, dtype=torch.float64)
    # pointwise variance over 64 samples: ~ (48 / 0.08 / 2pi)^2 effective samples -> 10 % is ~4 sigma
    assert abs(u.var(dim=0).mean().item() - 2.0) < 0.2
    g3 = Grid((8, 8, 8))
    assert rf.gaussian_random_field(g3, [0, 1]).shape == (2, 1, 8, 8, 8)


def test_seeds_are_per_sample():
    g = Grid((16, 24))
    a = rf.gaussian_random_field(g, [5, 7, 9])
    b = rf.gaussian_random_field(g, [9, 5])
    assert torch.equal(a[0], b[1]) and torch.equal(a[2], b[0])
    assert not torch.equal(a[0], a[1])
    c = rf.darcy_coefficient(g, torch.tensor([7]))
    assert torch.equal(c[0], rf.darcy_coefficient(g, [5, 7])[1])
    assert set(c.unique().tolist()) == {3.0, 12.0}


def test_random_field_bad_input():
    g = Grid((8, 8))
    with pytest.raises(ValueError, match="alpha"):
        rf.gaussian_random_field(g, 0, alpha=0.1)
    with pytest.raises(TypeError, match="seeds"):
        rf.gaussian_random_field(g, "abc")
    with pytest.raises(ValueError, match="seeds"):
        rf.gaussian_random_field(g, [])
    with pytest.raises(ValueError, match="modes must be a positive int"):
        rf.gaussian_random_field(g, 0, modes=0)
    with pytest.raises(ValueError, match="mode box"):
        rf.fourier_series_field(g, 0, torch.ones(4, 4, dtype=torch.float64))


@pytest.mark.parametrize(
    "draw",
    [
        lambda g, s: rf.gaussian_random_field(g, s, dtype=torch.float64),
        lambda g, s: rf.gaussian_random_field(g, s, alpha=2.5, tau=7.0, dtype=torch.float64),
        lambda g, s: rf.matern_field(g, s, nu=1.5, length_scale=0.08, dtype=torch.float64),
        lambda g, s: rf.gaussian_random_field(g, s, modes=8, dtype=torch.float64),
    ],
    ids=["darcy-grf", "ns-grf", "matern", "8-modes"],
)
def test_same_seed_same_continuous_field_at_every_resolution(draw):
    # the issue: sample i is one continuous field; 33, 65 and 129 points agree at shared points
    seeds = [0, 5, 11]
    for ndim, sizes in ((2, (33, 65, 129)), (1, (33, 65, 129))):
        fields = [draw(Grid((n,) * ndim), seeds) for n in sizes]
        for f, step in zip(fields[:-1], (4, 2)):
            fine = fields[-1][(..., *(slice(None, None, step),) * ndim)]
            assert (f - fine).abs().max() < 1e-12  # float64 round-off of the mode sums
    # periodic grids too (every other point of 64 is a point of 32), and a shifted box
    a = draw(Grid((32, 32), periodic=True), seeds)
    b = draw(Grid((64, 64), periodic=True), seeds)
    assert (a - b[..., ::2, ::2]).abs().max() < 1e-12
    box = ((-0.5, 0.7), (1.0, 2.0))
    a, b = draw(Grid((13, 11), bounds=box), seeds), draw(Grid((25, 21), bounds=box), seeds)
    assert (a - b[..., ::2, ::2]).abs().max() < 1e-12


def test_thresholded_media_and_recipe_fields_are_resolution_consistent():
    seeds = range(16)
    a33, a65, a129 = (rf.darcy_coefficient(Grid((n, n)), seeds) for n in (33, 65, 129))
    # piecewise constant: agree except where the GRF is within round-off of 0 (none here)
    for coarse, step in ((a33, 4), (a65, 2)):
        agree = (coarse == a129[..., ::step, ::step]).double().mean().item()
        assert agree > 0.99, agree
    w32 = navier_stokes_initial(Grid((32, 32), periodic=True), [3], dtype=torch.float64)
    w64 = navier_stokes_initial(Grid((64, 64), periodic=True), [3], dtype=torch.float64)
    assert (w32 - w64[..., ::2, ::2]).abs().max() < 1e-10  # |w| ~ 10
    u64 = burgers_initial(Grid((64,), periodic=True), [3], dtype=torch.float64)
    u256 = burgers_initial(Grid((256,), periodic=True), [3], dtype=torch.float64)
    assert (u64 - u256[..., ::4]).abs().max() < 1e-10


def test_grf_covariance_is_the_declared_one():
    # E u(x) u(x + r e_x) = sigma^2 / V sum_m lambda_m cos(k_m r) with sigma = tau^(alpha - 1)
    u = rf.gaussian_random_field(Grid((33, 33)), range(200), dtype=torch.float64)[:, 0]
    m = 2 * math.pi * torch.arange(-64, 65, dtype=torch.float64)
    lam = (m[:, None] ** 2 + m[None, :] ** 2 + 9.0) ** -2.0
    lam[64, 64] = 0.0  # zero mean
    var = 9.0 * lam.sum().item()
    cov = 9.0 * (lam * torch.cos(m[:, None] * 0.25)).sum().item()
    # 200 fields with ~10 correlation lengths each: ~3 % scatter on the variance
    assert abs(u.var(0).mean().item() / var - 1) < 0.1
    corr = (u[:, :-8] * u[:, 8:]).mean().item() / u.pow(2).mean().item()
    assert abs(corr - cov / var) < 0.05, (corr, cov / var)


@pytest.mark.parametrize(
    "family",
    [
        vm.flat_layers,
        vm.curved_layers,
        vm.faulted_layers,
        lambda g, s: vm.faulted_layers(g, s, curved=True),
    ],
)
def test_velocity_families(family):
    g = vm.openfwi_grid()
    v = family(g, [0, 1, 2, 3])
    assert v.shape == (4, 1, 70, 70)
    assert v.min() >= 1500 and v.max() <= 4500
    assert torch.equal(v[2], family(g, [2])[0])
    # between 2 and 5 distinct velocities per map
    counts = [len(torch.unique(v[b])) for b in range(4)]
    assert all(1 <= c <= 5 for c in counts) and max(counts) >= 2


def test_flat_layers_increase_with_depth_and_fault_offsets_layers():
    g = vm.openfwi_grid()
    v = vm.flat_layers(g, range(8))
    assert (v[:, 0, 1:] >= v[:, 0, :-1]).all()  # sorted velocities, horizontal interfaces
    assert (v[:, 0, :, :1] == v[:, 0]).all()
    f = vm.faulted_layers(g, range(8), throw=(0.15, 0.2))
    # the fault breaks lateral homogeneity wherever there is more than one layer
    layered = torch.tensor([len(torch.unique(f[b])) > 1 for b in range(8)])
    lateral = (f[:, 0] != f[:, 0, :, :1]).flatten(1).any(1)
    assert torch.equal(lateral, layered)
