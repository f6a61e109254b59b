"""sciml.inverse: observation files, MALA, and latent-space inversion on synthetic data."""

import json

import numpy as np
import pytest
import torch

from sciml.grid import Grid
from sciml.inverse import Observations, load_observations, mala, save_observations
from sciml.inverse.latent_inversion import band_coverage, invert_dgno
from sciml.io import FileFormatError
from sciml.operators.point.dgno_task import DGNOLoss
from sciml.operators.registry import build

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


# ------------------------------------------------------------------------ observation files
def _write(tmp_path, record, name="obs.json"):
    path = tmp_path / name
    path.write_text(json.dumps(record))
    return path


def test_observation_files_round_trip(tmp_path):
    obs = Observations.from_snr(torch.rand(7, 2), torch.rand(7) + 0.5, snr_db=25.0)
    for suffix in (".json", ".npz"):
        path = save_observations(obs, tmp_path / f"o{suffix}")
        back = load_observations(path)
        assert torch.allclose(back.points, obs.points) and torch.allclose(back.values, obs.values)
        assert torch.allclose(back.noise_std, obs.noise_std) and back.snr_db == 25.0
        with pytest.raises(FileExistsError, match="exists"):
            save_observations(obs, path)
    # hand-written: a noise level per point
    path = _write(tmp_path, {"points": [[0.1, 0.2], [0.5, 0.5]], "values": [1.0, 2.0],
                             "noise_std": [0.1, 0.2], "comment": "by hand"})  # fmt: skip
    obs = load_observations(path)
    assert obs.noise_std.tolist() == [0.1, 0.2] and obs.snr_db is None
    # 25 dB: sigma^2 = mean(y^2) / 10^2.5
    path = _write(tmp_path, {"points": [[0.1, 0.2], [0.5, 0.5]], "values": [3.0, 4.0],
                             "snr_db": 25})  # fmt: skip
    assert load_observations(path).noise_std[0].item() == pytest.approx(np.sqrt(12.5 / 10**2.5))


@pytest.mark.parametrize(
    "record,message",
    [
        ({"values": [1.0], "noise_std": 0.1}, "missing field 'points'"),
        ({"points": [[0.1, 0.2]], "values": [1.0]}, "exactly one of the fields"),
        ({"points": [[0.1, 0.2]], "values": [1.0], "noise_std": 0.1, "snr_db": 3}, "exactly one"),
        ({"points": [0.1, 0.2], "values": [1.0], "noise_std": 0.1}, "field 'points' must be"),
        ({"points": [[0.1, 0.2]], "values": [1.0, 2.0], "noise_std": 0.1}, "has 2 entries"),
        ({"points": [[0.1, 0.2]], "values": ["a"], "noise_std": 0.1}, "field 'values' must be"),
        ({"points": [[0.1, 0.2]], "values": [1.0], "noise_std": -1}, "must be positive"),
        ({"points": [[0.1, 0.2]], "values": [1.0], "noise_std": [1, 2]}, "one per point"),
        ({"points": [[0.1, 0.2]], "values": [None], "noise_std": 0.1}, "NaN"),
        ({"points": [[0.1, 0.2]], "values": [1.0], "noise": 0.1}, "unknown field 'noise'"),
        ([1, 2, 3], "expected a JSON object"),
    ],
)
def test_bad_observation_files_name_the_file_and_field(tmp_path, record, message):
    path = _write(tmp_path, record)
    with pytest.raises(FileFormatError, match=message) as err:
        load_observations(path)
    assert str(path) in str(err.value)


def test_unreadable_observation_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_observations(tmp_path / "none.json")
    (tmp_path / "o.csv").write_text("1,2")
    with pytest.raises(FileFormatError, match="expected a .json or .npz"):
        load_observations(tmp_path / "o.csv")
    (tmp_path / "o.json").write_text("{not json")
    with pytest.raises(FileFormatError, match="not valid JSON"):
        load_observations(tmp_path / "o.json")
    np.savez(tmp_path / "p.npz", points=np.array([object()], dtype=object), values=np.ones(1))
    with pytest.raises(FileFormatError, match="not a readable .npz"):
        load_observations(tmp_path / "p.npz")


def test_synthetic_observations_and_domain_check():
    grid = Grid((9, 9))
    u = torch.arange(81.0).reshape(9, 9)
    obs, idx = Observations.synthetic(u, grid, 10, snr_db=25.0, seed=3)
    rows, cols = idx // 9, idx % 9
    assert rows.min() >= 1 and rows.max() <= 7 and cols.min() >= 1 and cols.max() <= 7
    assert torch.allclose(obs.points, grid.points(dtype=torch.float64)[idx])
    assert (obs.values - u.reshape(-1)[idx].double()).abs().max() < 5 * obs.noise_std[0]
    obs.check_inside(grid.bounds)
    with pytest.raises(ValueError, match="outside the domain"):
        Observations.from_snr(torch.tensor([[0.5, 1.5]]), torch.ones(1), snr_db=3).check_inside(
            grid.bounds
        )


# ------------------------------------------------------------------------------------ MALA
def test_mala_samples_a_correlated_gaussian():
    torch.manual_seed(0)
    cov = torch.tensor([[1.0, 0.8], [0.8, 1.0]], dtype=torch.float64) * 0.25
    prec, mean = torch.linalg.inv(cov), torch.tensor([1.0, -2.0], dtype=torch.float64)

    def log_prob(x):
        d = x - mean
        return -0.5 * ((d @ prec) * d).sum(-1)

    g = torch.Generator().manual_seed(1)
    res = mala(log_prob, torch.zeros(32, 2, dtype=torch.float64), steps=800, generator=g)
    s = res.samples.reshape(-1, 2)
    assert 0.4 < res.accept_rate < 0.8
    assert (s.mean(0) - mean).abs().max() < 0.05
    assert (torch.cov(s.T) - cov).abs().max() < 0.03


# ------------------------------------------------------------------- latent-space inversion
def _model(seed=0):
    torch.manual_seed(seed)
    return build("dgno", latent=3, width=24, layers=3, coefficient_width=24,
                 coefficient_layers=3, encoder_channels=8, sensor_shape=(13, 13)).double()  # fmt: skip


def test_inversion_recovers_a_known_latent_and_covers_it():
    model = _model()
    grid = model.grid
    beta_true = torch.tensor([[0.8, -0.5, 0.3]], dtype=torch.float64)
    with torch.no_grad():
        u_true = model.decode_solution(beta_true, grid.points(dtype=torch.float64))["u"]
        p_true = torch.sigmoid(
            model.coefficient_output(beta_true, grid.points(dtype=torch.float64))
        )
    obs, _ = Observations.synthetic(u_true.reshape(13, 13), grid, 60, snr_db=40.0, seed=0)
    post = invert_dgno(model, obs, DGNOLoss(), physics_std=1.0, physics_weight=0.0,
                       chains=8, map_steps=200, lr=0.05, sample_steps=200, seed=1)  # fmt: skip
    beta = post.beta
    assert (beta.mean(0) - beta_true[0]).abs().max() < 0.1, beta.mean(0)
    # the truth lies within the posterior's spread (3 standard deviations per coordinate)
    z = (beta.mean(0) - beta_true[0]).abs() / beta.std(0).clamp_min(1e-6)
    assert (z < 3).all(), z
    assert 0.3 < post.info["accept_rate"] < 0.9 and post.info["chi2_per_obs"] < 3
    assert (post.u_mean - u_true.reshape(13, 13)).abs().max() < 5 * obs.noise_std[0]
    # the coefficient follows: its mean is the decoder's at the recovered latent
    a_true = 5 + 5 * p_true.reshape(13, 13)
    assert post.relative_error(a_true) < 0.02
    assert post.a_mean.shape == post.a_std.shape == (13, 13) and post.p_high is not None


def test_inversion_with_physics_and_bands():
    model = _model(1)
    obs = Observations.from_snr(torch.rand(20, 2) * 0.8 + 0.1, torch.rand(20) * 0.1, snr_db=25)
    post = invert_dgno(model, obs, DGNOLoss(n_centres=8), physics_std=0.5, chains=3,
                       map_steps=20, sample_steps=20, centres=8, method="ensemble")  # fmt: skip
    assert post.beta.shape[0] == post.info["kept_modes"] <= 3
    assert (post.a_lower <= post.a_mean + 1e-6).all() and (post.a_upper >= post.a_mean - 1e-6).all()
    assert band_coverage(post.a_lower, post.a_upper, post.a_mean) == 1.0
    with pytest.raises(ValueError, match="outside the domain"):
        bad = Observations.from_snr(torch.tensor([[1.2, 0.5]]), torch.ones(1), snr_db=25)
        invert_dgno(model, bad, DGNOLoss(), physics_std=1.0)
    with pytest.raises(ValueError, match="method must be"):
        invert_dgno(model, obs, DGNOLoss(), physics_std=1.0, method="mcmc")
