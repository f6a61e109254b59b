"""Random media for pressure-Poisson problems: every obstacle family gives a valid mask, the same
seed is the same continuous geometry at every resolution, unanchored fluid is filled in, wall
setups and density fields are what they say, and bad names are clear errors."""

import numpy as np
import pytest

from sciml.physics.fields.cosine_fields import low_frequency_fields, smooth_random_field
from sciml.physics.fields.obstacles import (
    OBSTACLE_FAMILIES,
    bubbles_density,
    fill_unanchored,
    random_obstacles,
    two_phase_density,
    wall_setup,
)


@pytest.mark.parametrize("family", OBSTACLE_FAMILIES)
def test_every_family_gives_a_partial_mask(family):
    solid = random_obstacles((24, 24, 24), family, np.random.default_rng(1))
    assert solid.dtype == np.bool_ and solid.shape == (24, 24, 24)
    frac = solid.mean()
    assert (frac == 0.0) if family == "none" else (0.005 < frac < 0.6), frac


@pytest.mark.parametrize("family", [f for f in OBSTACLE_FAMILIES if f != "none"])
def test_same_seed_same_geometry_at_every_resolution(family):
    coarse = random_obstacles((16, 16, 16), family, np.random.default_rng(7))
    fine = random_obstacles((64, 64, 64), family, np.random.default_rng(7))
    # the fine mask averaged over 4^3 blocks agrees with the coarse one except near surfaces
    # (and blob quantiles, taken per resolution): at most 10% of the coarse cells differ
    frac = fine.reshape(16, 4, 16, 4, 16, 4).mean(axis=(1, 3, 5))
    assert np.mean((frac > 0.5) != coarse) < 0.10


def test_smooth_field_is_resolution_consistent():
    a = smooth_random_field((12, 12, 12), np.random.default_rng(0))
    b = smooth_random_field((48, 48, 48), np.random.default_rng(0))
    down = b.reshape(12, 4, 12, 4, 12, 4).mean(axis=(1, 3, 5))
    assert np.abs(a - down).max() < 0.05 * np.abs(a).max()


def test_low_frequency_fields_are_unit_rms_and_seeded():
    f = low_frequency_fields((16, 16), 3, rng=np.random.default_rng(2), noise=0.0)
    assert np.allclose(np.sqrt((f**2).mean(axis=(1, 2))), 1.0)
    g = low_frequency_fields((16, 16), 3, rng=np.random.default_rng(2), noise=0.0)
    assert np.array_equal(f, g)
    with pytest.raises(ValueError, match="k0 must be > 0"):
        low_frequency_fields((8, 8), 1, rng=np.random.default_rng(0), k0=0.0)


def test_unanchored_fluid_is_filled():
    solid = np.zeros((10, 10), dtype=bool)
    solid[4, :] = True  # a wall splits the box into x < 4 and x > 4
    walls = wall_setup("open-top", 2)  # only y+ is Dirichlet: both halves reach it
    assert not fill_unanchored(solid, walls)[:4].any()
    walls = {"x-": "dirichlet", "x+": "neumann", "y-": "neumann", "y+": "neumann"}
    out = fill_unanchored(solid, walls)
    assert not out[:4].any() and out[5:].all()  # the right half touches no Dirichlet side
    with pytest.raises(ValueError, match="no fluid cell reaches"):
        fill_unanchored(
            np.ones((4, 4), dtype=bool) ^ np.eye(4, dtype=bool), walls | {"x-": "neumann"}
        )


def test_wall_setups_and_densities():
    assert wall_setup("open-top", 3)["z+"] == "dirichlet"
    assert set(wall_setup("dirichlet", 2).values()) == {"dirichlet"}
    for seed in range(20):
        assert "dirichlet" in wall_setup("random", 3, np.random.default_rng(seed)).values()
    with pytest.raises(ValueError, match="walls must be one of"):
        wall_setup("closed", 3)
    rho = two_phase_density((16, 16), 1000.0, np.random.default_rng(0))
    assert set(np.unique(rho)) == {1.0, 1000.0} and rho[:, 0].min() == 1000.0  # heavy below
    rho = bubbles_density((16, 16, 16), 1000.0, np.random.default_rng(1))
    assert set(np.unique(rho)) == {1.0, 1000.0}
    with pytest.raises(ValueError, match="family must be one of"):
        random_obstacles((8, 8), "teapots", np.random.default_rng(0))
