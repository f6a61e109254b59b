"""DeepONet and MultiONet: the operator contract (field input on sensors) and point queries."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from operator_contract import OperatorContract, run_fresh_process_jobs  # noqa: E402

from sciml.grid import Grid  # noqa: E402
from sciml.mesh import Mesh  # noqa: E402
from sciml.operators.activations import ACTIVATIONS, get_activation  # noqa: E402
from sciml.operators.point.deeponet import DeepONet  # noqa: E402
from sciml.operators.point.multionet import MultiONet  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


class TestDeepONet(OperatorContract):
    name = "deeponet"
    ndims = (1, 2, 3)
    # the branch reads the input resampled (linearly) to its 8^d sensors and the trunk is a
    # smooth function of x, so both resolutions give nearly the same function
    transfer_tolerance = 0.05

    def kwargs(self, ndim):
        return dict(sensor_shape=(8,) * ndim, width=12, layers=3, activation="tanh")


class TestMultiONet(TestDeepONet):
    name = "multionet"

    def kwargs(self, ndim):
        return dict(super().kwargs(ndim), layers=4, terms=3, activation="tanh_sin")


class TestMultiONetLearnedLinear(TestMultiONet):
    def kwargs(self, ndim):
        return dict(super().kwargs(ndim), combine="learned", head="linear")

    def test_golden_output(self):
        pytest.skip("golden output is checked for the default MultiONet")


@pytest.fixture(scope="module")
def fresh_process_results(tmp_path_factory):
    return run_fresh_process_jobs(
        [TestDeepONet, TestMultiONet, TestMultiONetLearnedLinear], tmp_path_factory.mktemp("fp")
    )


# --------------------------------------------------------------------------- point operators
def _pair(head="split", out_channels=1, activation="tanh"):
    torch.manual_seed(0)
    kw = dict(in_features=6, out_channels=out_channels, coord_dim=2, width=12, layers=4)
    deep = DeepONet(**kw, activation=activation, head=head).double()
    multi = MultiONet(**kw, activation=activation, head=head, terms=1).double()
    multi.load_state_dict(deep.state_dict())
    return deep, multi


@pytest.mark.parametrize("head,channels", [("split", 1), ("split", 3), ("linear", 2)])
def test_multionet_with_one_term_is_deeponet(head, channels):
    deep, multi = _pair(head, channels, "silu_sin")
    x, pts = torch.randn(5, 6, dtype=torch.float64), torch.rand(40, 2, dtype=torch.float64)
    y_deep, y_multi = deep(x, pts), multi(x, pts)
    assert y_deep.shape == (5, channels, 40)
    assert (y_deep - y_multi).abs().max() < 1e-6  # identical arithmetic: ~1e-16 in practice
    # more terms is a different model with the same parameters
    more = MultiONet(in_features=6, out_channels=channels, coord_dim=2, width=12, layers=4,
                     activation="silu_sin", head=head, terms=3).double()  # fmt: skip
    more.load_state_dict(deep.state_dict())
    assert (more(x, pts) - y_deep).abs().max() > 1e-3


@pytest.mark.parametrize("combine", ["mean", "learned"])
@pytest.mark.parametrize("per_sample", [False, True])
def test_forward_mode_gradient_matches_autograd(combine, per_sample):
    torch.manual_seed(1)
    net = MultiONet(in_features=5, out_channels=2, coord_dim=2, width=8, layers=4, terms=3,
                    activation="tanh_sin", head="linear", combine=combine).double()  # fmt: skip
    x = torch.randn(3, 5, dtype=torch.float64)
    shape = (3, 7, 2) if per_sample else (7, 2)
    pts = torch.rand(*shape, dtype=torch.float64, requires_grad=True)
    y, g = net.forward_with_gradient(x, pts)
    assert torch.allclose(y, net(x, pts))
    for b in range(3):
        for c in range(2):
            (ref,) = torch.autograd.grad(y[b, c].sum(), pts, retain_graph=True)
            ref = ref[b] if per_sample else ref
            assert (g[b, c] - ref).abs().max() < 1e-12
    # the gradient is differentiable w.r.t. the weights (physics losses train through it)
    g.square().sum().backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.any()]
    assert missing == ["bias"], missing  # the output bias does not change the gradient


def test_queries_on_grid_mesh_and_points_agree():
    torch.manual_seed(2)
    net = MultiONet(in_channels=1, sensor_shape=(9, 9), width=8, layers=3).double()
    a = torch.randn(2, 1, 9, 9, dtype=torch.float64)
    fine = Grid((17, 17))
    on_grid = net(a, fine)
    assert on_grid.shape == (2, 1, 17, 17)
    on_points = net(a, fine.points(dtype=torch.float64))
    assert torch.equal(on_grid.reshape(2, 1, -1), on_points)
    mesh = Mesh.rectangle(4, 4)
    on_mesh = net(a, mesh)
    assert on_mesh.shape == (2, 1, mesh.num_points)
    ref = net(a, torch.as_tensor(mesh.points[:, :2], dtype=torch.float64))
    assert torch.equal(on_mesh, ref)
    # the input's own grid by default; the sensors read the same function at another size
    assert torch.allclose(net(a), net(a, Grid((9, 9))))


def test_point_operator_errors():
    net = DeepONet(in_features=4, width=8, layers=2)
    with pytest.raises(ValueError, match="points are required"):
        net(torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"x must have shape \[B, 4\]"):
        net(torch.randn(2, 5), torch.rand(3, 2))
    with pytest.raises(ValueError, match="points must have shape"):
        net(torch.randn(2, 4), torch.rand(3, 3))
    with pytest.raises(ValueError, match="B = 2"):
        net(torch.randn(2, 4), torch.rand(3, 5, 2))
    with pytest.raises(ValueError, match="either in_features"):
        DeepONet(in_features=4, in_channels=1, sensor_shape=(4, 4))
    with pytest.raises(ValueError, match="multiple of out_channels"):
        DeepONet(in_features=4, out_channels=3, width=8)
    with pytest.raises(ValueError, match="terms"):
        MultiONet(in_features=4, layers=3, terms=4)
    with pytest.raises(ValueError, match="activation must be one of"):
        MultiONet(in_features=4, activation="swish")


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivatives_match_autograd(name):
    act = get_activation(name)
    h = torch.linspace(-3, 3, 101, dtype=torch.float64).requires_grad_(True)
    (ref,) = torch.autograd.grad(act(h).sum(), h)
    assert (act.derivative(h) - ref).abs().max() < 1e-12
