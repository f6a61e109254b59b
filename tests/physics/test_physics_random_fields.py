"""Random fields and velocity families: spectra, variance, seeding, structure."""

import math

import numpy as np
import pytest
import torch

from sciml.grid import Grid
from sciml.physics import random_fields as rf
from sciml.physics import velocity_models as vm


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
