"""The PDE engine (``sciml.physics``): PDE definitions, discretisations on Grids, autograd
residuals, local weak forms (Wendland test functions on small balls, mixed/primal forms, exact
Dirichlet mollifiers), random fields and wave propagation.

Light imports only; deepwave is loaded by :mod:`sciml.physics.seismic` when first used.
"""

from sciml.physics.elliptic import EllipticSystem, assemble_elliptic
from sciml.physics.fields.random_fields import (
    darcy_coefficient,
    gaussian_random_field,
    matern_field,
)
from sciml.physics.laplacian import Hutchinson, laplacian_estimator
from sciml.physics.mollifier import DirichletMollifier
from sciml.physics.pdes.acoustic import AcousticWave
from sciml.physics.pdes.advection import Advection
from sciml.physics.pdes.allen_cahn import AllenCahn
from sciml.physics.pdes.burgers import Burgers
from sciml.physics.pdes.darcy import Darcy
from sciml.physics.pdes.fokker_planck import FokkerPlanck
from sciml.physics.pdes.hamilton_jacobi import HamiltonJacobi
from sciml.physics.pdes.heat import Heat
from sciml.physics.pdes.helmholtz import Helmholtz
from sciml.physics.pdes.navier_stokes import NavierStokesVorticity, fno_forcing
from sciml.physics.pdes.pde import PDE, autograd_derivatives, canonical_key
from sciml.physics.pdes.poisson import Poisson
from sciml.physics.quadrature import BallQuadrature, ball_quadrature
from sciml.physics.seismic import Survey, ricker, simulate
from sciml.physics.seismic.velocity_models import (
    curved_layers,
    faulted_layers,
    flat_layers,
    openfwi_grid,
)
from sciml.physics.steppers.burgers import burgers_initial, solve_burgers
from sciml.physics.steppers.darcy import solve_darcy
from sciml.physics.steppers.heat import solve_heat, solve_heat_grid
from sciml.physics.steppers.navier_stokes import navier_stokes_initial, solve_navier_stokes
from sciml.physics.strong_form import fd_residual
from sciml.physics.test_functions import Wendland
from sciml.physics.weak_form import WeakForm, latin_hypercube, sample_field

__all__ = [
    "PDE",
    "BallQuadrature",
    "DirichletMollifier",
    "WeakForm",
    "Wendland",
    "AcousticWave",
    "Advection",
    "AllenCahn",
    "Burgers",
    "Darcy",
    "EllipticSystem",
    "FokkerPlanck",
    "HamiltonJacobi",
    "Heat",
    "Helmholtz",
    "Hutchinson",
    "NavierStokesVorticity",
    "Poisson",
    "assemble_elliptic",
    "autograd_derivatives",
    "ball_quadrature",
    "fd_residual",
    "latin_hypercube",
    "sample_field",
    "canonical_key",
    "fno_forcing",
    "Survey",
    "burgers_initial",
    "curved_layers",
    "darcy_coefficient",
    "faulted_layers",
    "flat_layers",
    "gaussian_random_field",
    "laplacian_estimator",
    "matern_field",
    "navier_stokes_initial",
    "openfwi_grid",
    "ricker",
    "simulate",
    "solve_burgers",
    "solve_darcy",
    "solve_heat",
    "solve_heat_grid",
    "solve_navier_stokes",
]
