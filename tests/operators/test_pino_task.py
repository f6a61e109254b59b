"""Label-free FD-residual training of grid operators (the PINO-style baseline)."""

import pytest
import torch

from sciml.grid import Grid
from sciml.operators.model_file import load_operator
from sciml.operators.pino_task import FDPhysicsTask, HardDirichletOperator
from sciml.operators.registry import build
from sciml.physics.steppers.darcy import solve_darcy
from sciml.train import TrainConfig, Trainer

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_fd_physics_training_lowers_the_residual_and_the_error(tmp_path):
    from sciml.physics.fields.random_fields import gaussian_random_field, threshold_field

    grid = Grid((13, 13))
    g = gaussian_random_field(grid, list(range(30)), dtype=torch.float64)
    a = threshold_field(g, high=10.0, low=5.0)
    u = solve_darcy(a, grid, forcing=10.0).float()  # only for the logged val_l2
    a = a.float()
    torch.manual_seed(0)
    model = build("multionet", in_channels=1, sensor_shape=(13, 13), width=32, layers=3)
    cfg = TrainConfig(epochs=25, batch_size=8, lr=3e-3, scheduler="none", progress=False)
    trainer = Trainer(model, cfg, task=FDPhysicsTask(forcing=10.0), out_dir=tmp_path, device="cpu")
    hist = trainer.fit(a[:24], (a[24:], u[24:]))
    assert isinstance(trainer.module, HardDirichletOperator)
    # 75 Adam steps: a slow optimisation (the published PI-DeepONets train 10^4 epochs)
    assert hist[-1]["val_residual"] < 0.6 * hist[0]["val_residual"]
    assert hist[-1]["val_l2"] < 0.7 * hist[0]["val_l2"]
    with torch.no_grad():
        pred = trainer.module(a[:2])
    assert (pred[..., 0, :] == 0).all() and (pred[..., -1] == 0).all()
    model_back, extra = load_operator(tmp_path / "model.pt")
    assert extra["hard_dirichlet"]["forcing"] == 10.0 and extra["hard_dirichlet"]["u_scale"] == 0.1
