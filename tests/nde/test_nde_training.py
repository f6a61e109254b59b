"""Regularized training lowers the prediction NFE of a small neural ODE at similar accuracy."""

import pytest
import torch
from torch import nn

from sciml.nde.classifier import ODEClassifier
from sciml.nde.data import digits_data
from sciml.nde.regularizers import GlobalError, LocalRegularizer, Unregularized
from sciml.nde.schedules import ExponentialDecay


def _train(reg, weight, iters=80):
    torch.manual_seed(0)
    xtr, ytr, xte, yte = digits_data()
    xtr, ytr = xtr[:600], ytr[:600]
    model = ODEClassifier(64, 10, dim=16, hidden=32, rtol=1e-5, atol=1e-5, regularizer=reg)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    w = ExponentialDecay(weight, weight / 10, iters) if weight else None
    for it in range(iters):
        idx = torch.randint(len(xtr), (64,))
        logits, pen = model.forward_regularized(xtr[idx])
        loss = nn.functional.cross_entropy(logits, ytr[idx])
        if w is not None:
            loss = loss + w(it) * pen
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        model.ode.reset_nfe()
        acc = (model(xte).argmax(-1) == yte).float().mean().item()
    return acc, model.ode.nfe


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny matrices: one thread is fastest, and the machine is shared."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def baseline():
    return _train(Unregularized(), 0.0)


@pytest.mark.parametrize(
    "reg, weight",
    [(GlobalError(), 0.3), (LocalRegularizer("error"), 1.0)],
    ids=["global-error", "local-error"],
)
def test_error_regularization_reduces_prediction_nfe(baseline, reg, weight):
    acc0, nfe0 = baseline
    acc, nfe = _train(reg, weight)
    # measured: unregularized 32 NFE (5 dopri5 steps), regularized 20 (3 steps) = 0.63x;
    # the papers report 0.56-0.73x
    assert nfe <= 0.8 * nfe0, (nfe, nfe0)
    # 80 iterations on 600 images: accuracy ~0.88; allow 3 pp (11 of 360 test images);
    # measured drops: 0.3 pp (global), 2.5 pp (local)
    assert acc >= acc0 - 0.03, (acc, acc0)
