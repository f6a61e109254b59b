"""Full-waveform inversion: misfit decrease, refinement of a network estimate, the CLI."""

import json

import numpy as np
import pytest
import torch

from sciml.inverse.fwi import data_misfit, fwi, linear_start
from sciml.physics.seismic import Survey
from sciml.physics.seismic.acoustic_fd import simulate_fd
from sciml.physics.seismic.velocity_models import openfwi_grid

KW = dict(nbc=20, compile=False, convention="openfwi")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small grids: a second thread only adds synchronisation on a shared CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _two_layer(n=24, interface=10):
    v = torch.full((1, 1, n, n), 2000.0)
    v[..., interface:, :] = 2500.0
    return v


def test_fwi_lowers_the_data_misfit_on_a_two_layer_model():
    grid = openfwi_grid(24)
    survey = Survey.openfwi(grid, nt=300, n_sources=2)
    true = _two_layer()
    observed = simulate_fd(true, grid, survey, **KW)
    start = torch.full_like(true, 2000.0)
    res = fwi(observed, grid, survey, start, iterations=4, lr=20.0, **KW)
    assert len(res.misfit) == 5 and res.velocity.shape == true.shape
    # measured 0.0053 -> 0.0011 (4 steps): the reflection from the interface is fitted
    assert res.misfit[-1] < 0.3 * res.misfit[0], res.misfit
    assert all(b < a for a, b in zip(res.misfit, res.misfit[1:])), res.misfit
    assert res.velocity.min() >= 1500 and res.velocity.max() <= 4500  # bounds hold
    # the true model is a fixed point: zero misfit (with the damping layer the data were made
    # with: each model's minimum velocity; FWI holds it at the lower bound by default)
    same = fwi(observed, grid, survey, true, iterations=1, lr=20.0, damping_velocity=2000.0, **KW)
    assert same.misfit[0] < 1e-10


def test_fwi_maps_are_independent_so_the_batch_does_not_change_the_result():
    """One map at a time (the CPU default: memory) equals all maps at once."""
    grid = openfwi_grid(16)
    survey = Survey.openfwi(grid, nt=150, n_sources=2)
    true = torch.cat([_two_layer(16, 6), _two_layer(16, 9), _two_layer(16, 12)])
    observed = simulate_fd(true, grid, survey, **KW)
    start = torch.full_like(true, 2000.0)
    one = fwi(observed, grid, survey, start, iterations=2, lr=20.0, batch=1, **KW)
    two = fwi(observed, grid, survey, start, iterations=2, lr=20.0, batch=2, **KW)
    every = fwi(observed, grid, survey, start, iterations=2, lr=20.0, batch=3, **KW)
    for res in (one, two):
        assert torch.allclose(res.velocity, every.velocity, rtol=0, atol=1e-3)  # m/s
        assert np.allclose(res.misfit, every.misfit, rtol=1e-5)
    assert every.misfit[-1] < every.misfit[0]
    with pytest.raises(ValueError, match="batch must be"):
        fwi(observed, grid, survey, start, iterations=1, batch=0, **KW)


def test_misfit_and_linear_start():
    a = torch.ones(2, 3, 4, 5)
    assert torch.allclose(data_misfit(2 * a, a), torch.ones(2))
    v = linear_start((2, 1, 5, 3), torch.tensor([1500.0, 2000.0]), 3500.0)
    assert v.shape == (2, 1, 5, 3)
    assert v[1, 0, 0, 0] == 2000 and v[0, 0, -1, 2] == 3500 and v[0, 0, 2, 1] == 2500
    with pytest.raises(ValueError, match="initial"):
        fwi(torch.zeros(1, 1, 5, 5), openfwi_grid(5), None, torch.zeros(1, 5, 5))
    with pytest.raises(ValueError, match="lr"):
        fwi(torch.zeros(1, 1, 5, 5), openfwi_grid(5), None, torch.zeros(1, 1, 5, 5), lr=0.0)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A 24 x 24 seismic-curvevel-b file and an InversionNet trained on it for 2 epochs."""
    from sciml.datasets import generate
    from sciml.operators.registry import build
    from sciml.operators.seismic.imaging_task import SeismicImagingTask
    from sciml.train import TrainConfig, Trainer
    from sciml.train.data import load_dataset_file

    folder = tmp_path_factory.mktemp("fwi")
    data = generate(
        "seismic-curvevel-b", 8, folder / "cvb.h5", progress=False,
        params={"resolution": 24, "nt": 300, "nbc": 20, "n_sources": 3},
    )  # fmt: skip
    v, p, _ = load_dataset_file(data)
    net = build("inversionnet", shots=3, nt=150, receivers=24, size=24, width=4)
    cfg = TrainConfig(epochs=2, batch_size=4, progress=False)
    run = folder / "run"
    # the model reads every 2nd time sample (the CLI finds the stride from the model)
    Trainer(net, cfg, task=SeismicImagingTask(), out_dir=run, device="cpu").fit(
        (v, p[:, :, ::2]), (v, p[:, :, ::2])
    )
    return data, run


def test_refinement_improves_on_the_network_estimate(tiny_run):
    from sciml.datasets import GridDataset
    from sciml.inverse.seismic_refinement import acquisition_from_meta, refine_with_fwi
    from sciml.operators.seismic.imaging_task import load_imaging_model

    data, run = tiny_run
    model, norm, dirs = load_imaging_model(run / "model.pt")
    assert dirs == ("inverse",)
    ds = GridDataset(data).subset([0])
    grid, survey, kw = acquisition_from_meta(ds.meta)
    assert survey.nt == 300 and kw["nbc"] == 20 and kw["convention"] == "openfwi"
    v, p = torch.as_tensor(ds.inputs_array()), torch.as_tensor(ds.outputs_array())
    res = refine_with_fwi(model, norm, p, grid, survey, true_velocity=v, iterations=4,
                          lr=40.0, linear=False, compile=False, **kw)  # fmt: skip
    net = res.report["network"]
    # a 2-epoch network is a rough start; FWI reduces both the misfit and the model error
    # (measured: misfit 0.45 -> 0.35, MAE 0.43 -> 0.41 in 4 steps)
    assert net["misfit"][-1] < 0.8 * net["misfit"][0], net["misfit"]
    assert net["mae_after"] < net["mae_before"], net
    assert res.linear is None and res.refined.shape == v.shape


def _cli(argv, capsys):
    from sciml.cli import main

    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse usage errors
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_invert_seismic(tiny_run, tmp_path, capsys, malicious_file):
    data, run = tiny_run
    out = tmp_path / "inv"
    argv = ["invert", "seismic", str(run), "--data", str(data), "--out", str(out),
            "--no-compile", "--device", "cpu", "--iterations", "2", "--lr", "40",
            "--samples", "0"]  # fmt: skip
    rc, stdout, err = _cli(argv, capsys)
    assert rc == 0, err[-2000:]
    assert "FWI from the network start: MAE" in stdout
    report = json.loads((out / "report.json").read_text())
    assert report["network"]["misfit"][-1] < report["network"]["misfit"][0]
    arrays = np.load(out / "velocity.npz")
    assert arrays["refined"].shape == (1, 1, 24, 24) and (out / "refinement.png").exists()
    rc, _, err = _cli(argv, capsys)  # results are never overwritten silently
    assert rc == 2 and "--overwrite" in err
    argv[6] = str(tmp_path / "other")
    rc, _, err = _cli(argv[:-1] + ["99"], capsys)
    assert rc == 2 and "--samples" in err
    evil, marker = malicious_file("model", name="model.pt")
    rc, _, err = _cli(["invert", "seismic", str(evil), "--data", str(data), "--out",
                       str(tmp_path / "evil")], capsys)  # fmt: skip
    assert rc == 2 and "refused" in err and not marker.exists(), err
    assert not (tmp_path / "evil").exists()
