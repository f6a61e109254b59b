"""FEniCSx ground truth converges at the element's order (STYLE: convergence is measured)."""

import numpy as np
import pytest
import torch
import ufl

from sciml.grid import Grid
from sciml.mesh import Mesh
from sciml.physics.fem import solve_scalar_elliptic


def exact(x):
    return ufl.sin(ufl.pi * x[0]) * ufl.sin(2 * ufl.pi * x[1])


def forcing(x):
    return 5 * ufl.pi**2 * exact(x)


@pytest.mark.parametrize("degree, order", [(1, 2), (2, 3)])
def test_poisson_l2_convergence_order(degree, order):
    errors = [
        solve_scalar_elliptic(Mesh.rectangle(n, n), forcing=forcing, degree=degree).l2_error(exact)
        for n in (8, 16, 32)
    ]
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(rates - order) < 0.2), rates


def test_darcy_variable_coefficient_converges():
    # u = sin(pi x) sin(pi y), a = 1 + x^2 y  ->  f = -div(a grad u), second order for P1
    def u_ex(x):
        return ufl.sin(ufl.pi * x[0]) * ufl.sin(ufl.pi * x[1])

    def a(x):
        return 1 + x[0] ** 2 * x[1]

    def f(x):
        return -ufl.div(a(x) * ufl.grad(u_ex(x)))

    errors = [
        solve_scalar_elliptic(Mesh.rectangle(n, n), coefficient=a, forcing=f).l2_error(u_ex)
        for n in (8, 16, 32)
    ]
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(rates - 2) < 0.2), rates


def test_solution_transfers_to_grid_and_mumps_agrees_with_gamg():
    mesh = Mesh.rectangle(16, 16)
    gamg = solve_scalar_elliptic(mesh, forcing=forcing, degree=2)
    mumps = solve_scalar_elliptic(mesh, forcing=forcing, degree=2, solver="mumps")
    assert gamg.iterations > 0 and mumps.iterations <= 1
    grid = Grid((17, 17))  # grid points on the mesh vertices
    a, b = gamg.to_grid(grid), mumps.to_grid(grid)
    assert np.abs(a - b).max() < 1e-9
    c = grid.coords(dtype=torch.float64).numpy()
    truth = np.sin(np.pi * c[0]) * np.sin(2 * np.pi * c[1])
    assert np.abs(a - truth).max() < 2e-4  # P2 nodal error at h = 1/16


def test_bad_solver_and_coefficient_errors():
    mesh = Mesh.rectangle(2, 2)
    with pytest.raises(ValueError, match="solver must be one of"):
        solve_scalar_elliptic(mesh, solver="magic")
    with pytest.raises(ValueError, match="coefficient: grid values must have shape"):
        solve_scalar_elliptic(mesh, coefficient=(Grid((4, 4)), np.ones((3, 3))))
    with pytest.raises(ValueError, match="coefficient: grid values contain NaN"):
        solve_scalar_elliptic(mesh, coefficient=(Grid((4, 4)), np.full((4, 4), np.nan)))
