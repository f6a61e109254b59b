"""Taylor-Hood Stokes (physics/fem_stokes.py): exact for Poiseuille flow, mass-conserving in
the random channels of the stokes-pipe recipe."""

import numpy as np
import pytest

from sciml.mesh import Mesh
from sciml.physics.fem_stokes import solve_stokes


def test_poiseuille_flow_is_reproduced_to_round_off():
    """A straight channel with a parabolic inflow: the exact solution (u quadratic, p linear)
    lies in P2-P1, so the discrete solution equals it at every node."""
    mesh = Mesh.rectangle(8, 4, ((0.0, 2.0), (0.0, 1.0)))

    def inflow(x):
        return np.stack([4 * x[1] * (1 - x[1]), np.zeros_like(x[1])])

    sol = solve_stokes(mesh, inflow=inflow, inflow_markers=[1], wall_markers=[3, 4], viscosity=0.5)
    u = sol.nodal_velocity()
    y = mesh.points[:, 1]
    assert np.abs(u[:, 0] - 4 * y * (1 - y)).max() < 1e-10 and np.abs(u[:, 1]).max() < 1e-10
    p = sol.nodal_pressure()  # dp/dx = nu u'' = -8 nu, p = 0 at the do-nothing outlet
    assert np.abs(p - 0.5 * 8 * (2.0 - mesh.points[:, 0])).max() < 1e-9


def test_flux_through_a_random_channel_is_conserved():
    from sciml.datasets import get_recipe

    rec = get_recipe("stokes-pipe")
    p = rec.params({"mesh_nx": 32, "mesh_ny": 8})
    mesh, vel, _ = rec.solve(rec.coefficients(5, p), p)
    u = vel[:, 0].reshape(33, 9)
    ys = mesh.points[:, 1].reshape(33, 9)  # every column of nodes has one x
    flux = np.array([np.trapezoid(u[i], ys[i]) for i in range(33)])
    # the same quadrature (trapezoidal, 9 nodes) at the inlet, where the profile is exact
    assert flux[0] == pytest.approx(2 / 3 - 1 / 96)
    assert np.abs(flux / flux[0] - 1).max() < 5e-3, flux


def test_stokes_refuses_missing_markers():
    mesh = Mesh.rectangle(2, 2)
    with pytest.raises(ValueError, match="inflow_markers: no facets carry"):
        solve_stokes(mesh, inflow=lambda x: 0 * x[:2], inflow_markers=[9], wall_markers=[3])
