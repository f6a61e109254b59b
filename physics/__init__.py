"""The PDE engine (``sciml.physics``): PDE definitions, discretisations on Grids, autograd
residuals, random fields and wave propagation.

Light imports only; deepwave is loaded by :mod:`sciml.physics.seismic` when first used.
"""

from sciml.physics.acoustic import AcousticWave
from sciml.physics.advection import Advection
from sciml.physics.allen_cahn import AllenCahn
from sciml.physics.burgers import Burgers
from sciml.physics.darcy import Darcy
from sciml.physics.elliptic import EllipticSystem, assemble_elliptic
from sciml.physics.fokker_planck import FokkerPlanck
from sciml.physics.hamilton_jacobi import HamiltonJacobi
from sciml.physics.heat import Heat
from sciml.physics.helmholtz import Helmholtz
from sciml.physics.navier_stokes import NavierStokesVorticity, fno_forcing
from sciml.physics.pde import PDE, autograd_derivatives, canonical_key
from sciml.physics.poisson import Poisson

__all__ = [
    "PDE",
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
    "canonical_key",
    "fno_forcing",
]
