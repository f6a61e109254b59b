"""The physical systems behind the new regularization tasks: their vector fields are the
derivatives of their trajectories, their data are what the docstrings say, and the NFE the
true dynamics need (the floor every table shows) is computed and positive."""

import pytest
import torch

from sciml.nde.registry import make_problem
from sciml.nde.system_problems import TrajectoryProblem
from sciml.nde.systems import Lorenz63, StochasticLotkaVolterra, VanDerPol, noisy_trajectories

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.mark.parametrize(
    "system",
    [VanDerPol(mu=3.0), Lorenz63(), StochasticLotkaVolterra(sigma=0.0)],
    ids=["van-der-pol", "lorenz63", "lotka-volterra-drift"],
)
def test_vector_field_matches_finite_differences_of_its_trajectories(system):
    """Central differences of accurate trajectories converge to the field at order 2."""
    g = torch.Generator().manual_seed(0)
    if isinstance(system, StochasticLotkaVolterra):
        y0 = 0.5 + torch.rand(4, 2, generator=g, dtype=torch.float64)
    else:
        y0 = system.initial_states(4, g)
    errs = []
    for h in (1e-2, 5e-3):
        t = torch.arange(0, round(0.5 / h) + 1, dtype=torch.float64) * h  # half a time unit
        ys = noisy_trajectories(system, y0, t, noise=0.0, seed=0, dtype=torch.float64).clean
        central = (ys[2:] - ys[:-2]) / (2 * h)
        f = system(t[1:-1], ys[1:-1])
        errs.append(float((central - f).abs().max() / f.abs().max()))
    # the O(h^2) truncation error dominates the solver error (rtol 1e-9) at these steps
    assert errs[1] < 5e-3, errs  # measured 1.5e-3 (VdP), 1.1e-3 (Lorenz), 1.0e-5 (LV)
    assert 3.5 < errs[0] / errs[1] < 4.5, errs  # halving h quarters the error


def test_lorenz_coordinates_are_scaled_and_centred():
    u = torch.tensor([[0.1, 0.2, 0.3]], dtype=torch.float64)
    x, y, z = 1.0, 2.0, 28.0
    f = torch.tensor([[10 * (y - x), x * (28 - z) - y, x * y - 8 / 3 * z]]) / 10
    assert torch.allclose(Lorenz63()(torch.tensor(0.0), u), f.double())
    starts = Lorenz63().initial_states(16, torch.Generator().manual_seed(0))
    assert starts.abs().max() < 3.5  # on the attractor, in units of 10


@pytest.mark.parametrize("name", ["van-der-pol", "lorenz63"])
def test_trajectory_problem_data_and_floor(name):
    problem = make_problem(name)
    assert isinstance(problem, TrajectoryProblem)
    problem.setup("cpu")
    clean, noisy = problem.data["train"]
    assert clean.shape == (problem.n_times, problem.n_traj["train"], problem.system.dim)
    assert (noisy - clean).std().item() == pytest.approx(problem.noise, rel=0.1)
    # disjoint splits: the trajectories start from different states
    starts = {s: problem.data[s][0][0] for s in ("train", "val", "test")}
    assert not torch.isclose(starts["val"][:, None], starts["test"][None]).all(-1).any()
    assert not torch.isclose(starts["train"][:, None], starts["test"][None]).all(-1).any()
    # the test split is scored on clean windows, the validation split on noisy ones
    y0, target = problem.eval_data["test"]
    assert torch.equal(y0, target[0]) and target.shape[0] == problem.window
    for split in ("val", "test"):
        floor = problem.true_field_nfe(split)
        assert isinstance(floor, int) and floor > 0, (split, floor)
    assert problem.true_field_nfe("test") == (92 if name == "van-der-pol" else 38)  # measured


def test_floors_of_every_task():
    """Known where the dynamics are known (positive), ``None`` where they are not."""
    spiral = make_problem("spiral-ode")
    spiral.setup("cpu")
    assert spiral.true_field_nfe("test") == 56  # BENCHMARKS.md: the spiral ODE's floor
    assert spiral.true_field_nfe("val") > 0
    digits = make_problem("digits")
    assert digits.true_field_nfe("test") is None


@pytest.mark.parametrize("name", ["lotka-volterra-sde", "spiral-sde"])
def test_sde_floor_is_the_true_sde_solved_adaptively(name):
    problem = make_problem(name, n_eval_paths=64)
    problem.setup("cpu")
    floor = problem.true_field_nfe("test")
    assert isinstance(floor, int) and floor > 0
    assert problem.true_field_nfe("test") == floor  # cached, deterministic
    mean, var = problem.targets["val"]
    assert not torch.equal(mean, problem.targets["test"][0])  # independent reference paths
    assert torch.allclose(mean, problem.targets["test"][0], atol=0.1)  # of the same SDE
