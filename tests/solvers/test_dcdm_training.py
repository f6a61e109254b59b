"""DCDM training through the package's Trainer: the energy loss, the self-supervised task on
DCDM's own residuals (it learns: validation iterations drop), exact resume, the model file."""

import numpy as np
import pytest
import scipy.sparse.linalg as spla
import torch

from sciml.solvers.dcdm import DCDMNet, load_dcdm
from sciml.solvers.dcdm.loss import energy_loss, residual_loss
from sciml.solvers.dcdm.task import DCDMRecipe, DCDMTask, train_dcdm
from sciml.solvers.poisson_problems import make_problem
from sciml.train import TrainConfig

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_losses_vanish_for_the_exact_direction_and_are_scale_free():
    p = make_problem(14, ndim=2, family="spheres", seed=2)
    A = p.system.matrix
    r = torch.randn(3, p.system.n, dtype=torch.float64)
    e = torch.from_numpy(np.stack([spla.spsolve(A.tocsc(), ri.numpy()) for ri in r]))
    mv = lambda v: torch.from_numpy((A @ v.numpy().T).T)  # noqa: E731
    z = r / torch.from_numpy(A.diagonal())
    for scale in (1.0, 1e-3, -7.0):  # the step absorbs any scale and sign
        q = scale * e
        assert float(energy_loss(q, mv(q), r, e, z, mv(z)).abs().max()) < 1e-10
        assert float(residual_loss(q, r, mv(q))) < 1e-20
    q = torch.randn_like(r)
    left = energy_loss(q, mv(q), r, e, z, mv(z))
    jacobi_only = 1 - (z * r).sum(-1) ** 2 / (z * mv(z)).sum(-1) / (e * r).sum(-1)
    assert bool((left <= jacobi_only + 1e-12).all()) and bool((left >= 0).all())
    with pytest.raises(ValueError, match=r"must all be \[B, n\]"):
        energy_loss(q[0], mv(q)[0], r[0], e[0], z[0], mv(z)[0])


def _recipe(**kw):
    base = dict(ndim=2, sizes=(24,), problems=3, rhs=2, snapshots=(0, 2, 4), chunk=3,
                val_size=24, val_problems=1, seed=0)  # fmt: skip
    return DCDMRecipe(**{**base, **kw})


def test_training_through_the_trainer_cuts_validation_iterations(tmp_path):
    torch.manual_seed(0)
    cfg = TrainConfig(epochs=8, batch_size=1, lr=3e-3, scheduler="none", weight_decay=0.0,
                      grad_clip=1.0, progress=False, seed=0)  # fmt: skip
    net = DCDMNet(ndim=2, channels=(8, 8), geometry_channels=(8, 8))
    task = DCDMTask(_recipe())
    task.setup(net, None, None, config=cfg, device="cpu")
    before = task.validate(net)["val"]
    trained, hist = train_dcdm(_recipe(card={"command": "pytest"}), cfg, out_dir=tmp_path,
                               model=net)  # fmt: skip
    best = min(h["val"] for h in hist)
    # measured: 57 -> 25 iterations on the validation problem after 8 short epochs
    assert best < 0.75 * before, (before, [h["val"] for h in hist])
    model = load_dcdm(tmp_path / "model.pt")
    assert model.card["command"] == "pytest" and model.card["steps"] > 0
    assert model.card["recipe"]["sizes"] == [24] and model.card["train_seconds"] > 0


def test_exact_resume(tmp_path):
    def run(out, stop=None, resume=False):
        torch.manual_seed(0)
        cfg = TrainConfig(epochs=3, batch_size=1, lr=2e-3, scheduler="cosine", weight_decay=0.0,
                          progress=False, seed=1)  # fmt: skip
        from sciml.train import Trainer

        net = DCDMNet(ndim=2, channels=(4, 8), geometry_channels=(4, 8))
        tr = Trainer(net, cfg, task=DCDMTask(_recipe(problems=2)), out_dir=out, device="cpu")
        tr.fit(resume=resume, stop_after_epoch=stop)
        return tr.module

    full = run(tmp_path / "a")
    run(tmp_path / "b", stop=1)
    resumed = run(tmp_path / "b", resume=True)
    for (k, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.allclose(a, b, rtol=0, atol=1e-6), k


def test_recipe_validation():
    with pytest.raises(ValueError, match="families must be among"):
        DCDMRecipe(families=("blobs",))  # the held-out family is never trained on
    with pytest.raises(ValueError, match="sizes must be"):
        DCDMRecipe(sizes=(4,))
    with pytest.raises(ValueError, match="model is 3-D, the recipe 2-D"):
        DCDMTask(_recipe()).setup(DCDMNet(ndim=3), None, None, config=None, device="cpu")
