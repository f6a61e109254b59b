"""The DGNO Darcy recipes: every one generates 2 samples at a small size; physics and noise."""

import numpy as np
import pytest
import torch

from sciml.datasets import get_recipe
from sciml.datasets.darcy_dgno import observation_noise_sigma
from sciml.grid import Grid

NAMES = [
    "darcy-two-phase",
    "darcy-two-phase-ood",
    "darcy-lognormal",
    "darcy-two-phase-inverse",
    "darcy-lognormal-inverse",
]
SEEDS = np.array([11, 12])


@pytest.fixture(scope="module")
def batches():
    out = {}
    for name in NAMES:
        rec = get_recipe(name)
        p = rec.params({"resolution": 13, "observations": "20,5"})
        out[name] = (rec, p, rec.worker(p)(SEEDS))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_recipe_generates_two_samples(batches, name):
    rec, p, b = batches[name]
    assert b.inputs.shape == (2, 1, 13, 13) and b.outputs.shape == (2, 1, 13, 13)
    assert rec.shapes(p) == ((1, 13, 13), (1, 13, 13))
    u = b.outputs[:, 0]
    assert np.all(u[:, 0, :] == 0) and np.all(u[:, :, -1] == 0)  # Dirichlet walls
    assert u[:, 1:-1, 1:-1].min() > 0  # f = 10 > 0: positive inside (maximum principle)
    if "two-phase" in name:
        assert set(np.unique(b.inputs).tolist()) == {5.0, 10.0}
        assert 0.02 < u.max() < 0.2  # between the homogeneous a = 10 and a = 5 solutions
    else:
        assert b.inputs.min() > 0 and len(np.unique(b.inputs)) > 100
    again = rec.worker(p)(SEEDS)
    assert np.array_equal(again.inputs, b.inputs) and np.array_equal(again.outputs, b.outputs)


@pytest.mark.parametrize("name", [n for n in NAMES if n.endswith("inverse")])
def test_inverse_recipes_observe_interior_points_at_25_db(batches, name):
    _, p, b = batches[name]
    assert p.snr_db == 25.0
    flat = b.outputs[:, 0].reshape(2, -1)
    for n in (20, 5):
        idx, val, sig = (
            b.extras[f"obs_index_{n}"],
            b.extras[f"obs_value_{n}"],
            b.extras[f"obs_sigma_{n}"],
        )
        assert idx.shape == (2, n) and val.shape == (2, n) and sig.shape == (2,)
        rows, cols = np.divmod(idx, 13)
        assert rows.min() >= 1 and rows.max() <= 11 and cols.min() >= 1 and cols.max() <= 11
        assert all(len(set(r)) == n for r in idx)  # distinct points
        truth = np.take_along_axis(flat, idx, axis=1)
        for k in range(2):
            assert sig[k] == pytest.approx(observation_noise_sigma(truth[k], 25.0), rel=1e-6)
            assert np.abs(val[k] - truth[k]).max() < 5 * sig[k]
            assert np.abs(val[k] - truth[k]).max() > 0  # noisy
    # sigma^2 = mean(u^2) / 10^2.5: about 5.6% of the rms value
    assert observation_noise_sigma(np.ones(4), 25.0) == pytest.approx(10 ** (-1.25))


def test_ood_recipe_has_the_shorter_length_scale():
    assert get_recipe("darcy-two-phase-ood").params({}).tau == 6.0
    assert get_recipe("darcy-two-phase").params({}).tau == 3.0
    assert get_recipe("darcy-two-phase-ood").params({"tau": 4}).tau == 4.0


def test_two_phase_fem_agrees_with_the_finite_volume_solver():
    """The FEM coefficient is the grid field's nearest-point extension: the same PDE the
    finite-volume solver sees on the vertex grid, so the two engines agree closely."""
    from sciml.physics.steppers.darcy import solve_darcy

    rec = get_recipe("darcy-two-phase")
    p = rec.params({"resolution": 17})
    b = rec.worker(p)(SEEDS)
    a = torch.as_tensor(b.inputs, dtype=torch.float64)
    u = torch.as_tensor(b.outputs, dtype=torch.float64)
    fv = solve_darcy(a, Grid((17, 17)), forcing=10.0)
    assert ((fv - u).norm() / u.norm()).item() < 0.03


def test_bad_parameters_are_reported():
    rec = get_recipe("darcy-two-phase-inverse")
    with pytest.raises(ValueError, match="observations must be"):
        rec.params({"observations": "100,x"})
    with pytest.raises(ValueError, match=r"observations must be counts in \[1, 9\]"):
        rec.params({"resolution": 5, "observations": "10"})
