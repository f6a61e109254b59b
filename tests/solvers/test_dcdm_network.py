"""The DCDM network and what it reads: one model at every size (odd and non-power-of-two
included), linear in the residual, the Jacobi-scaled stencil channels, symmetric Jacobi
scaling (a system times a constant gives the same iterates), clear errors outside training."""

import numpy as np
import pytest
import torch

from sciml.grid import Grid
from sciml.physics.elliptic import assemble_elliptic
from sciml.solvers.dcdm import (
    DCDMNet,
    LearnedDirection,
    OutsideTrainingWarning,
    dcdm,
    load_dcdm,
    save_model,
    stencil_features,
)
from sciml.solvers.dcdm.network import level_shapes
from sciml.solvers.poisson_problems import make_problem
from sciml.solvers.system import grid_system

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return DCDMNet(ndim=3)


@pytest.mark.parametrize("n", [16, 24, 40])
def test_one_model_runs_at_every_size_and_masks_solids(net, n):
    p = make_problem(n, ndim=3, family="cylinders", seed=n)
    shapes = level_shapes((n,) * 3)
    assert max(shapes[-1]) <= 4 and len(shapes) == int(np.ceil(np.log2(n / 4))) + 1
    d = LearnedDirection(net, p.system)
    q = d(torch.randn(2, p.system.n, dtype=torch.float64))
    assert q.shape == (2, p.system.n) and bool(torch.isfinite(q).all())
    field = torch.randn(1, 1, n, n, n)
    with torch.no_grad():
        out = net(field, d.features[None])
    assert float(out[0, 0][~p.active].abs().max()) == 0.0  # nothing in solid cells


def test_anisotropic_and_2d_grids():
    net2 = DCDMNet(ndim=2)
    p = make_problem((37, 10), family="spheres", seed=0)
    q = LearnedDirection(net2, p.system)(p.b)
    assert q.shape == p.b.shape and bool(torch.isfinite(q).all())


def test_network_is_linear_in_the_residual():
    torch.manual_seed(1)
    net64 = DCDMNet(ndim=3).double()
    p = make_problem(12, ndim=3, family="boxes", density_ratio=1000.0, seed=0)
    d = LearnedDirection(net64, p.system)
    x, y = torch.randn(2, p.system.n, dtype=torch.float64)
    lhs = d(2.0 * x - 3.0 * y)
    rhs = 2.0 * d(x) - 3.0 * d(y)
    assert (lhs - rhs).abs().max() <= 1e-12 * rhs.abs().max()  # float64 round-off
    assert d.linear and not d.symmetric


def test_stencil_channels():
    grid = Grid((6, 6, 6), centering="cell")
    solid = torch.zeros(6, 6, 6, dtype=torch.bool)
    solid[3, 3, 3] = True
    walls = {"x-": "neumann", "x+": "neumann", "y-": "neumann", "y+": "neumann",
             "z-": "neumann", "z+": "dirichlet"}  # fmt: skip
    sysm = assemble_elliptic(grid, solid=solid, walls=walls)
    f = stencil_features(sysm.matrix, sysm.active).features
    assert f.shape == (8, 6, 6, 6)
    assert float(f[2, 1, 1, 1]) == pytest.approx(1.0)  # uniform interior coupling
    assert float(f[2, 2, 3, 3]) == 0.0  # x+ neighbour is solid
    assert float(f[3, 4, 3, 3]) == 0.0  # x- neighbour is solid
    assert float(f[1][:, :, -1].min()) > 0 and float(f[1][:, :, :-1].max()) == 0.0  # top only
    assert stencil_features(sysm.matrix, sysm.active).dirichlet_sides == ("z+",)


def test_jacobi_scaling_a_constant_times_the_system_gives_the_same_iterates(net):
    p = make_problem(16, ndim=3, family="spheres", density_ratio=1000.0, seed=4)
    c = 37.5
    scaled = grid_system(c * p.system.matrix, mask=p.active)
    f1 = stencil_features(p.system.matrix, p.active).features
    f2 = stencil_features(scaled.matrix, p.active).features
    assert torch.allclose(f1, f2, atol=1e-6)
    xs1, xs2 = [], []
    d1, d2 = LearnedDirection(net, p.system), LearnedDirection(net, scaled)
    dcdm(p.system.matrix, p.b, d1, rtol=1e-9, maxiter=12, callback=lambda k, x, r: xs1.append(x))
    dcdm(scaled.matrix, c * p.b, d2, rtol=1e-9, maxiter=12,
         callback=lambda k, x, r: xs2.append(x))  # fmt: skip
    err = max(float((a - b).abs().max() / a.abs().max()) for a, b in zip(xs1, xs2))
    assert err < 1e-5  # the same iterates, up to float32 round-off inside the network


def test_model_is_small_and_round_trips(net, tmp_path):
    assert sum(p.numel() for p in net.parameters()) < 250_000
    path = save_model(net, tmp_path / "m.pt", {"command": "test"})
    assert path.stat().st_size < 2 * 2**20
    back = load_dcdm(path)
    assert back.card["command"] == "test" and back.config == net.config
    for a, b in zip(net.state_dict().values(), back.state_dict().values()):
        assert torch.equal(a, b)


def test_clear_messages_outside_training(net, tmp_path):
    p2 = make_problem(8, ndim=2, family="none", seed=0)
    with pytest.raises(ValueError, match="model is 3-D but the system's grid is 2-D"):
        LearnedDirection(net, p2.system)
    periodic = assemble_elliptic(Grid((6, 6, 6), centering="cell", periodic=(True, False, False)),
                                 walls={"y-": "dirichlet"})  # fmt: skip
    with pytest.warns(OutsideTrainingWarning, match="not grid neighbours"):
        LearnedDirection(net, periodic)
    (tmp_path / "bad.pt").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="bad.pt"):
        load_dcdm(tmp_path / "bad.pt")
    with pytest.raises(FileNotFoundError, match="train one with"):
        load_dcdm(tmp_path / "missing.pt")
