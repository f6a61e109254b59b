"""GP-HM beyond 2-D linear problems: a 3-D Kronecker grid, Allen-Cahn 2-D by matrix-free
Gauss-Newton on the nonlinear residual, and space-time grids for Burgers and advection.

Every PDE comes from sciml.physics; forcings are its own autograd residual of the exact
solution (manufactured), grids are chosen automatically from the data's spectra.
"""

import math

import pytest
import torch

from sciml.physics import Advection, AllenCahn, Poisson
from sciml.solvers.gp.gauss_newton import GaussNewton
from sciml.solvers.gp.problems import get_problem, manufactured_forcing
from sciml.solvers.gp.solve import solve_gp
from sciml.workflows.gp_figures import plot_gp_solution

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def _manufactured(pde, u):
    pde.forcing = manufactured_forcing(pde, u)
    return pde


def _gn(newton_steps: int) -> GaussNewton:
    return GaussNewton(newton_steps=newton_steps, adam_steps=0)


def test_3d_poisson_on_a_kronecker_grid(tmp_path):
    def u(p):
        return torch.sin(20 * p[:, 0]) * torch.sin(15 * p[:, 1]) * torch.cos(10 * p[:, 2])

    pde = _manufactured(Poisson(dim=3, exact=u), u)
    sol = solve_gp(pde, None, u, exact=u, method=_gn(2), progress=False)
    assert sol.model.grid.shape == (16, 16, 16)  # 20 rad = 3.2 cycles -> 14 -> min 16
    assert sol.info["linear_solver"] == "cg"
    assert sol.final_rel_l2 < 1e-3, sol.history  # measured 2.0e-5 (111 + 58 CG iterations)
    # a slice through the 3-D solution (tensor-product prediction) and its figure
    x = torch.linspace(0, 1, 7, dtype=torch.float64)
    z = torch.tensor([0.3], dtype=torch.float64)
    sl = sol.model.predict_axes([x, x, z])
    ref = u(torch.cartesian_prod(x, x, z)).reshape(7, 7, 1)
    assert float((sl - ref).norm() / ref.norm()) < 1e-3
    png = plot_gp_solution(sol.model, tmp_path / "p3.png", exact=u, resolution=60)
    assert png.stat().st_size > 10_000


def test_allen_cahn_2d_matrix_free_newton_on_the_nonlinear_residual():
    def mixed(v):
        return torch.sin(v) + 0.1 * torch.sin(20 * v) + torch.cos(40 * v)

    def u(p):
        return mixed(p[:, 0]) * mixed(p[:, 1])

    pde = _manufactured(AllenCahn(dim=2, exact=u), u)
    method = GaussNewton(newton_steps=4, adam_steps=0, linear_solver="cg")
    sol = solve_gp(pde, None, u, exact=u, method=method, progress=False)
    errs = [h["rel_l2"] for h in sol.history]
    assert sol.final_rel_l2 < 1e-4, errs  # measured 3.8e-2, 9.4e-5, 1.0e-5, 1.0e-5 (27x27)
    assert errs[1] < 0.1 * errs[0], errs  # Newton on u(u^2 - 1): the second step gains 10x+


def test_burgers_space_time_gauss_newton():
    p = get_problem("burgers-1d-sin60")
    sol = solve_gp(p.pde, None, p.boundary, faces=p.faces, exact=p.exact, method=_gn(6),
                   progress=False)  # fmt: skip
    assert sol.model.letters == "xt" and sol.info["linear_solver"] == "dense"
    errs = [h["rel_l2"] for h in sol.history]
    # measured 0.17, 0.082, 7.4e-3, 2.6e-4, 2.4e-5, 1.7e-5: quadratic once close
    assert errs[-1] < 1e-4, errs
    assert errs[4] < 1e-2 * errs[2], errs


def test_advection_space_time_with_initial_and_inflow_data_only():
    beta = 5.0

    def u(p):
        return torch.sin(4 * math.pi * (p[:, 0] - beta * p[:, 1]) / 2)

    pde = Advection(velocity=beta, dim=1, exact=u)
    sol = solve_gp(pde, None, u, faces=("x-", "t-"), exact=u, method=_gn(1), progress=False)
    assert sol.model.grid.shape == (16, 22)  # 10 cycles in t, 1 in x (16 = the minimum)
    assert sol.final_rel_l2 < 1e-3, sol.history  # measured 1.3e-5
