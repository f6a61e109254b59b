"""Regularized training lowers the prediction NFE of a small neural ODE at similar accuracy
(the digits experiment at test size, trained through the one Trainer)."""

from dataclasses import replace

import pytest
import torch

from sciml.nde.problems import Digits
from sciml.nde.schedules import ExponentialDecay
from sciml.nde.task import RegularizedTask
from sciml.train import Trainer
from sciml.workflows.nde_experiment import train_config

STEPS = 80


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def problem():
    return Digits(dim=16, hidden=32, n_train=600, batch_size=64)


def _train(problem, name, weight):
    """``STEPS`` Adam steps at a constant learning rate; penalty weight ``weight -> weight/10``."""
    torch.manual_seed(0)
    model = problem.build(problem.make_regularizer(name))
    config = replace(train_config(problem, STEPS, progress=False), scheduler="none")
    schedule = ExponentialDecay(weight, weight / 10, STEPS) if weight else None
    Trainer(model, config, task=RegularizedTask(problem, schedule), device="cpu").fit()
    row = problem.evaluate(model)
    return row["value"], row["predict_nfe"]


@pytest.fixture(scope="module")
def baseline(problem):
    return _train(problem, "none", 0.0)


@pytest.mark.parametrize("name, weight", [("error", 0.3), ("local-error", 1.0)])
def test_error_regularization_reduces_prediction_nfe(problem, baseline, name, weight):
    acc0, nfe0 = baseline
    acc, nfe = _train(problem, name, weight)
    # measured: unregularized 32 NFE (5 dopri5 steps), regularized 20 (3 steps) = 0.63x;
    # the papers report 0.56-0.73x
    assert nfe <= 0.8 * nfe0, (nfe, nfe0)
    # 80 steps on 600 images: accuracy ~0.88; allow 3 pp (11 of 360 test images)
    assert acc >= acc0 - 0.03, (acc, acc0)
