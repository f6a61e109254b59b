"""The PDE engine (``sciml.physics``): PDE definitions, discretisations on Grids, autograd
residuals, local weak forms (Wendland test functions on small balls, mixed/primal forms, exact
Dirichlet mollifiers), random fields and wave propagation.

Light imports only; deepwave is loaded by :mod:`sciml.physics.seismic` when first used.
"""

from sciml.physics.acoustic import AcousticWave
from sciml.physics.advection import Advection
from sciml.physics.allen_cahn import AllenCahn
from sciml.physics.burgers import Burgers
from sciml.physics.burgers_solver import burgers_initial, solve_burgers
from sciml.physics.darcy import Darcy
from sciml.physics.darcy_solver import solve_darcy
from sciml.physics.elliptic import EllipticSystem, assemble_elliptic
from sciml.physics.fokker_planck import FokkerPlanck
from sciml.physics.hamilton_jacobi import HamiltonJacobi
from sciml.physics.heat import Heat
from sciml.physics.heat_solver import solve_heat
from sciml.physics.helmholtz import Helmholtz
from sciml.physics.mollifier import DirichletMollifier
from sciml.physics.navier_stokes import NavierStokesVorticity, fno_forcing
from sciml.physics.navier_stokes_solver import navier_stokes_initial, solve_navier_stokes
from sciml.physics.pde import PDE, autograd_derivatives, canonical_key
from sciml.physics.poisson import Poisson
from sciml.physics.quadrature import BallQuadrature, ball_quadrature
from sciml.physics.random_fields import darcy_coefficient, gaussian_random_field, matern_field
from sciml.physics.seismic import Survey, ricker, simulate
from sciml.physics.strong_form import fd_residual
from sciml.physics.test_functions import Wendland
from sciml.physics.velocity_models import curved_layers, faulted_layers, flat_layers, openfwi_grid
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
    "matern_field",
    "navier_stokes_initial",
    "openfwi_grid",
    "ricker",
    "simulate",
    "solve_burgers",
    "solve_darcy",
    "solve_heat",
    "solve_navier_stokes",
]
