import numpy as np
import ufl

from sciml.mesh import Mesh
from sciml.physics.fem import solve_elasticity, solve_heat

E, NU = 1.0, 0.3
LAM, MU = E * NU / ((1 + NU) * (1 - 2 * NU)), E / (2 * (1 + NU))


def u_exact(x):
    return ufl.as_vector([ufl.sin(ufl.pi * x[0]) * x[1], x[0] * x[1] ** 2])


def sigma(w):
    eps = ufl.sym(ufl.grad(w))
    return 2 * MU * eps + LAM * ufl.tr(eps) * ufl.Identity(2)


def test_plane_strain_elasticity_converges_at_order_two():
    errors = []
    for n in (8, 16, 32):
        mesh = Mesh.rectangle(n, n)
        mesh.facet_markers[:] = 1  # clamp every side to the exact displacement
        sol, _ = solve_elasticity(
            mesh, young=E, poisson_ratio=NU, traction=(0.0, 0.0),
            body_force=lambda x: -ufl.div(sigma(u_exact(x))), clamped_value=u_exact,
        )  # fmt: skip
        errors.append(sol.l2_error(u_exact))
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(rates - 2) < 0.2), rates


def test_plate_with_hole_concentrates_stress():
    # a plate pulled at its ends: the hole raises the stress (Kirsch: factor ~3 at the rim)
    mesh = Mesh.rectangle_with_holes([(0.5, 0.5, 0.1)], h=0.02)
    _, vm = solve_elasticity(mesh, traction=(1.0, 0.0), degree=2)
    r = np.hypot(mesh.points[:, 0] - 0.5, mesh.points[:, 1] - 0.5)
    far = vm[(np.abs(mesh.points[:, 1] - 0.5) < 0.05) & (mesh.points[:, 0] > 0.85)].mean()
    rim = vm[r < 0.1 + 1e-6].max()
    assert 2.0 < rim / far < 4.0


def test_heat_backward_euler_is_first_order_in_time():
    def ex(x):
        return ufl.sin(ufl.pi * x[0]) * ufl.sin(ufl.pi * x[1])

    decay = float(np.exp(-2 * np.pi**2 * 0.1 * 0.5))
    errors = []
    for steps in (10, 20, 40):
        sol, _ = solve_heat(
            Mesh.rectangle(24, 24), kappa=0.1, initial=ex, t_end=0.5, steps=steps, degree=2
        )
        errors.append(sol.l2_error(lambda x: decay * ex(x)))
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(rates - 1) < 0.2), rates
