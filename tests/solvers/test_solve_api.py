"""The linear-solve entry points take method objects: solve(system, b, method) for assembled
systems, solve_system(A, b, mask=..., method=...) for a user's own matrix (checked inputs), and
`sciml solve system` reading .npz/.mtx/.npy files; every method runs, DCDM included."""

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
import torch

from sciml.cli import main
from sciml.solvers import solve, solve_system
from sciml.solvers.dcdm import DCDM, DCDMNet, save_model
from sciml.solvers.krylov import Jacobi
from sciml.solvers.methods import CG, PCG, PETScCG
from sciml.solvers.poisson_problems import make_problem
from sciml.workflows.linear_solvers import METHODS, build_method

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def user_system():
    """A 3-D pressure-Poisson system handed over as plain arrays (A, b, mask)."""
    p = make_problem(10, ndim=3, family="boxes", density_ratio=1000.0, seed=5)
    return p.system.matrix.tocsr(), p.b.numpy(), p.active.numpy()


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return DCDMNet(ndim=3)  # an untrained network: the safeguard still converges


@pytest.mark.parametrize("name", METHODS)
def test_every_method_solves_a_user_system(user_system, model, name):
    A, b, mask = user_system
    method = build_method(name, model=model)
    res = solve_system(A, b, mask=mask, method=method, rtol=1e-6, device="cpu", maxiter=5000)
    assert res.converged and res.residual <= 1e-6
    x = res.x.numpy()
    assert np.linalg.norm(b - A @ x) <= 1.01e-6 * np.linalg.norm(b)  # the TRUE residual


def test_inputs_are_checked(user_system):
    A, b, mask = user_system
    m = CG()
    with pytest.raises(ValueError, match="A must be square"):
        solve_system(A[:, :-1], b, mask=mask, method=m)
    asym = A.tolil()
    asym[0, 1] = asym[0, 1] + 1.0
    with pytest.raises(ValueError, match="A must be symmetric"):
        solve_system(asym.tocsr(), b, mask=mask, method=m)
    nan = A.copy()
    nan.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        solve_system(nan, b, mask=mask, method=m)
    small = mask.copy()
    small[0, 0, 0] = not small[0, 0, 0]
    with pytest.raises(ValueError, match="rows but mask has"):
        solve_system(A, b, mask=small, method=m)
    with pytest.raises(ValueError, match="b must have shape"):
        solve_system(A, b[:-1], mask=mask, method=m)
    with pytest.raises(ValueError, match="b contains NaN"):
        solve_system(A, np.full_like(b, np.nan), mask=mask, method=m)
    with pytest.raises(ValueError, match="walls key 'w-'"):
        solve_system(A, b, mask=mask, method=m, walls={"w-": "dirichlet"})
    with pytest.raises(ValueError, match="mask must be a bool array"):
        solve_system(A, b, mask=mask.astype(float) * 0.5, method=m)
    with pytest.raises(TypeError, match="got the string 'cg'"):
        solve_system(A, b, mask=mask, method="cg")


def test_torch_sparse_input_and_method_objects(user_system, model):
    A, b, mask = user_system
    coo = A.tocoo()
    At = torch.sparse_coo_tensor(np.vstack([coo.row, coo.col]), coo.data, A.shape)
    res = solve_system(At, torch.from_numpy(b), mask=torch.from_numpy(mask),
                       method=PCG(Jacobi), device="cpu")  # fmt: skip
    assert res.converged
    p = make_problem(10, ndim=3, family="spheres", seed=0)
    ours = solve(p.system, p.b, DCDM(model), device="cpu")
    petsc = solve(p.system, p.b, PETScCG("gamg"))
    assert ours.converged and petsc.converged and petsc.iterations < ours.iterations


def test_cli_solve_system_end_to_end(user_system, model, tmp_path, capsys):
    A, b, mask = user_system
    sp.save_npz(tmp_path / "A.npz", A)
    scipy.io.mmwrite(tmp_path / "A.mtx", A)
    np.save(tmp_path / "b.npy", b)
    np.save(tmp_path / "mask.npy", mask)
    save_model(model, tmp_path / "net.pt", {"command": "test"})
    for mat in ("A.npz", "A.mtx"):
        rc = main(["solve", "system", "--matrix", str(tmp_path / mat), "--rhs",
                   str(tmp_path / "b.npy"), "--mask", str(tmp_path / "mask.npy"), "--method",
                   "jacobi", "dcdm", "--model", str(tmp_path / "net.pt"), "--out",
                   str(tmp_path / f"x_{mat}.npy")])  # fmt: skip
        assert rc == 0
        x = np.load(tmp_path / f"x_{mat}.npy")
        assert np.linalg.norm(b - A @ x) <= 1.01e-6 * np.linalg.norm(b)
    out = capsys.readouterr().out
    assert "dcdm" in out and "jacobi" in out
    # a wrong mask is one clear line and exit code 2
    np.save(tmp_path / "bad.npy", mask[:, :, :-1])
    rc = main(["solve", "system", "--matrix", str(tmp_path / "A.npz"), "--rhs",
               str(tmp_path / "b.npy"), "--mask", str(tmp_path / "bad.npy")])  # fmt: skip
    assert rc == 2
    assert "rows but mask has" in capsys.readouterr().err


def test_cli_model_of_the_wrong_dimension_is_a_clear_error(tmp_path, capsys):
    save_model(DCDMNet(ndim=2), tmp_path / "net2d.pt", {"command": "test"})
    rc = main(["solve", "poisson", "--n", "8", "--method", "dcdm", "--model",
               str(tmp_path / "net2d.pt"), "--device", "cpu"])  # fmt: skip
    assert rc == 2
    assert "model is 2-D but the system's grid is 3-D" in capsys.readouterr().err
