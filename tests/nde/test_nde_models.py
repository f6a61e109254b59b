"""Models: shapes, gradients reach every parameter, clear errors at the public boundary."""

import pytest
import torch

from sciml.nde import (
    ExponentialDecay,
    GlobalError,
    LatentODE,
    LocalRegularizer,
    MLPField,
    NeuralODE,
    NeuralSDE,
    ODEClassifier,
)
from sciml.nde.data import irregular_series_data


def _all_grads(model):
    return all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize("reg", [None, GlobalError(), LocalRegularizer()], ids=str)
def test_classifier_shapes_and_gradients(reg):
    m = ODEClassifier(64, 10, dim=8, hidden=16, rtol=1e-3, atol=1e-3, regularizer=reg)
    x = torch.rand(5, 64)
    logits, pen = m.forward_regularized(x)
    assert logits.shape == (5, 10) and pen.shape == ()
    (logits.square().mean() + pen).backward()
    assert _all_grads(m)
    with pytest.raises(ValueError, match=r"x must be \[B, 64\]"):
        m(torch.rand(5, 63))


def test_latent_ode_shapes_and_gradients():
    t, x, mask, _ = irregular_series_data(n_series=6, n_times=12)
    m = LatentODE(1, latent=3, hidden=8, rec_hidden=8, rtol=1e-3, atol=1e-3)
    m.ode.regularizer = LocalRegularizer()
    xh, kl, pen = m.forward_regularized(x, mask, t)
    assert xh.shape == (6, 12, 1) and kl.shape == (6,)
    ((xh - x).square().mean() + kl.mean() + pen).backward()
    assert _all_grads(m)
    with pytest.raises(ValueError, match="mask"):
        m(x, mask[:, :5], t)


def test_neural_sde_local_error_gradients():
    sde = NeuralSDE(
        MLPField(2, 8, time=False), MLPField(2, 4, time=False), regularize="local-error"
    )
    y0 = torch.tensor([[2.0, 0.0]]).expand(4, 2)
    ts = torch.linspace(0, 0.5, 6)
    sol = sde.solve_regularized(y0, ts, sde.brownian(y0, ts, seed=0), t_reg=0.2)
    assert sol.ys.shape == (6, 4, 2) and float(sol.penalty.detach()) > 0
    (sol.ys.square().mean() + sol.penalty).backward()
    assert _all_grads(sde) and sde.nfe > 0
    with pytest.raises(ValueError, match="regularize"):
        NeuralSDE(MLPField(2), MLPField(2), regularize="rnode")


def test_bad_inputs_at_boundaries():
    with pytest.raises(ValueError, match=r"z0 must be \[B, D\]"):
        NeuralODE(MLPField(2))(torch.ones(2), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="z must be"):
        MLPField(3)(torch.tensor(0.0), torch.ones(2, 2))
    with pytest.raises(ValueError, match="rtol"):
        NeuralODE(MLPField(2), rtol=0.0)
    with pytest.raises(ValueError, match="start and end"):
        ExponentialDecay(1.0, 0.0, 10)
    s = ExponentialDecay(100.0, 1.0, 10)
    assert [round(s(i), 6) for i in (0, 5, 10, 99)] == [100.0, 10.0, 1.0, 1.0]
