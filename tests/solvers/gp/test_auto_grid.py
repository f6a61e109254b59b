"""Automatic collocation grid: the spectral peak finder's highest frequency sets the points per
axis; aliasing is caught; the grid can be overridden."""

import math

import pytest
import torch

from sciml.grid import Grid
from sciml.physics import Poisson
from sciml.solvers.gp import GaussNewton
from sciml.solvers.gp.auto_grid import choose_grid
from sciml.solvers.gp.problems import get_problem, manufactured_forcing
from sciml.solvers.gp.solve import solve_gp


@pytest.mark.parametrize(
    "name, shape",
    [
        ("poisson-1d-sin500", (320,)),  # 500 / 2pi = 79.58 cycles -> 4 * 79.58 + 1
        ("poisson-1d-multiscale", (65,)),  # the highest of three tones (100 rad) decides
        ("poisson-2d-sin100", (65, 65)),
        ("allen-cahn-2d-mixed", (65, 65)),  # nonlinear forcing (u^3 makes 300 rad, weak)
        ("advection-1d-beta200", (16, 129)),  # no forcing: inflow data sin(-200 t) decide t
    ],
)
def test_grid_from_the_spectrum_of_the_forcing_and_data(name, shape):
    p = get_problem(name)
    choice = choose_grid(p.pde, p.grid.bounds, boundary=p.boundary, faces=p.faces)
    assert choice.grid.shape == shape, (choice.grid.shape, choice.frequencies)
    for letter, true in p.true_frequencies.items():
        found = choice.frequencies[letter]
        if max(true) * p.grid.lengths[p.grid.ndim - 1 if letter == "t" else 0] >= 2:
            assert abs(found - max(true)) < 0.01 * max(true), (letter, found, true)


def test_a_tone_above_the_first_probe_nyquist_is_not_aliased():
    def u(x):
        return torch.sin(2 * math.pi * 300.0 * x[:, 0])  # 300 cycles; first probe: 256 points

    pde = Poisson(dim=1, exact=u)
    pde.forcing = manufactured_forcing(pde, u)
    choice = choose_grid(pde, ((0.0, 1.0),), boundary=u)
    assert abs(choice.frequencies["x"] - 300.0) < 1.0, choice
    assert choice.probe_points["x"] >= 1024
    assert choice.grid.shape == (1201,)


def test_solve_gp_chooses_the_grid_unless_given():
    p = get_problem("poisson-1d-sin100")
    sol = solve_gp(p.pde, None, p.boundary, exact=p.exact, method=GaussNewton(adam_steps=0, newton_steps=1),
                   progress=False)  # fmt: skip
    assert sol.model.grid.shape == (65,)
    assert sol.info["auto_grid"]["shape"] == [65]
    assert sol.final_rel_l2 < 1e-5, sol.final_rel_l2  # measured 2e-7
    given = solve_gp(p.pde, Grid((90,)), p.boundary, method=GaussNewton(adam_steps=0, newton_steps=1),
                     progress=False)  # fmt: skip
    assert given.model.grid.shape == (90,) and "auto_grid" not in given.info
    sol = solve_gp(p.pde, None, p.boundary, points_per_wavelength=6,
                   method=GaussNewton(adam_steps=0, newton_steps=1), progress=False)  # fmt: skip
    assert sol.model.grid.shape == (97,)


def test_bad_arguments_raise_clear_errors():
    p = get_problem("poisson-2d-sin100")
    with pytest.raises(ValueError, match="bounds needs 2"):
        choose_grid(p.pde, ((0.0, 1.0),))
    with pytest.raises(ValueError, match="points_per_wavelength"):
        choose_grid(p.pde, p.grid.bounds, points_per_wavelength=1.5)
    with pytest.raises(ValueError, match="lo < hi"):
        choose_grid(p.pde, ((0.0, 1.0), (1.0, 1.0)))
    with pytest.raises(TypeError, match="grid must be"):
        solve_gp(p.pde, (40, 40), p.boundary)
