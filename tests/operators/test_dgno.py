"""DGNO: shapes, exact boundary values, loss terms, label-free training through the Trainer."""

import math

import pytest
import torch

from sciml.grid import Grid
from sciml.operators.model_file import load_operator
from sciml.operators.point.dgno import DGNO
from sciml.operators.point.dgno_task import DGNOLoss, DGNOTask, dgno_loss_terms, physics_std
from sciml.operators.point.field_encoder import gaussian_kl
from sciml.operators.registry import build
from sciml.train import TrainConfig, Trainer

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


SMALL = dict(latent=6, width=24, layers=3, coefficient_width=24, coefficient_layers=3,
             encoder_channels=8, sensor_shape=(13, 13))  # fmt: skip


def two_phase(n, seed=0, size=13):
    from sciml.physics.fields.random_fields import gaussian_random_field, threshold_field

    g = gaussian_random_field(Grid((size, size)), list(range(seed, seed + n)), dtype=torch.float64)
    return threshold_field(g, high=10.0, low=5.0).float()


@pytest.mark.parametrize("medium", ["two-phase", "lognormal"])
def test_dgno_shapes_boundary_and_gradients(medium):
    torch.manual_seed(0)
    model = build("dgno", medium=medium, **SMALL)
    a = two_phase(3) if medium == "two-phase" else torch.exp(torch.randn(3, 1, 13, 13) * 0.3)
    assert model(a).shape == (3, 1, 13, 13)
    assert model(a, Grid((21, 21))).shape == (3, 1, 21, 21)
    mu, logvar = model.encode(a)
    assert mu.shape == logvar.shape == (3, 6)
    walls = torch.tensor([[0.0, 0.3], [1.0, 0.7], [0.4, 0.0], [0.6, 1.0]])
    out = model.decode_solution(mu, walls, gradient=True)
    assert (out["u"] == 0).all()  # the mollifier: u = 0 on the walls exactly
    assert ("flux" in out) == (medium == "two-phase")
    # forward-mode gradient of the mollified solution equals autograd
    pts = torch.rand(9, 2, requires_grad=True)
    out = model.decode_solution(mu.detach(), pts, gradient=True)
    (ref,) = torch.autograd.grad(out["u"][1].sum(), pts)
    assert (out["grad_u"][1] - ref).abs().max() < 1e-5
    nll = model.coefficient_nll(mu, a)
    assert nll.shape == (3,) and (nll > 0).all() if medium == "two-phase" else nll.shape == (3,)
    with pytest.raises(ValueError, match="x must have shape"):
        model(torch.ones(3, 2, 13, 13))


def test_kl_of_the_prior_is_zero_and_positive_otherwise():
    assert gaussian_kl(torch.zeros(2, 5), torch.zeros(2, 5)).abs().max() == 0
    kl = gaussian_kl(torch.ones(1, 3), torch.full((1, 3), math.log(0.5)))
    assert abs(kl.item() - 3 * 0.5 * (1 + 0.5 - 1 - math.log(0.5))) < 1e-6


def test_loss_terms_are_label_free_and_the_residual_sees_the_input():
    torch.manual_seed(1)
    model = build("dgno", **SMALL)
    spec = DGNOLoss(radius=0.03, n_centres=16)
    weak = spec.weak_form()
    a = two_phase(4)
    centres = weak.sample_centres(16)
    terms = dgno_loss_terms(model, a, centres, weak, spec, sample=False)
    assert set(terms) == {"total", "coefficient", "kl", "pde", "constitutive"}
    assert all(t.shape == (4,) for t in terms.values())
    # another coefficient changes the constitutive residual (a is read at the nodes)
    other = dgno_loss_terms(model, 15 - a, centres, weak, spec, sample=False)
    assert not torch.allclose(other["constitutive"], terms["constitutive"])
    # the gradient of the physics reaches the solution decoder and the encoder
    (terms["pde"] + terms["constitutive"]).sum().backward()
    assert model.solution_decoder.trunk.linears[0].weight.grad.abs().sum() > 0
    assert model.encoder.head[-1].weight.grad.abs().sum() > 0


def test_label_free_training_reduces_the_physics_loss_and_saves_the_settings(tmp_path):
    torch.manual_seed(0)
    a = two_phase(24)
    u = torch.zeros_like(a)  # solutions are never used: zeros must not matter
    model = build("dgno", **SMALL)
    spec = DGNOLoss(radius=0.03, n_centres=16, val_centres=16)
    cfg = TrainConfig(epochs=20, batch_size=6, lr=1e-2, scheduler="none", progress=False)
    trainer = Trainer(model, cfg, task=DGNOTask(spec), out_dir=tmp_path, device="cpu")
    hist = trainer.fit((a[:18], u[:18]), a[18:])
    first, last = hist[0], hist[-1]
    assert last["val_loss"] < first["val_loss"]
    assert last["val_pde"] < 0.5 * first["val_pde"], (first["val_pde"], last["val_pde"])
    loaded, extra = load_operator(tmp_path / "model.pt")
    assert DGNOLoss.from_dict(extra["dgno_loss"]) == spec
    assert physics_std(extra) > 0
    best = min(h["val_loss"] for h in hist)
    assert extra["best_val_loss"] == pytest.approx(best)
    assert isinstance(loaded, DGNO) and not loaded.training
    with torch.no_grad():
        pred = loaded(a[:2])
    assert pred.shape == (2, 1, 13, 13) and torch.isfinite(pred).all()


def test_task_errors():
    with pytest.raises(TypeError, match="DGNOLoss"):
        DGNOTask(object())
    with pytest.raises(ValueError, match="radius"):
        DGNOLoss(radius=0.0)
    cfg = TrainConfig(epochs=1, batch_size=2, progress=False)
    with pytest.raises(ValueError, match=r"coefficients must have shape \[N, 1, H, W\]"):
        Trainer(build("dgno", **SMALL), cfg, task=DGNOTask(DGNOLoss()), device="cpu").fit(
            torch.ones(4, 13, 13)
        )
    with pytest.raises(ValueError, match="no validation physics"):
        physics_std({})
