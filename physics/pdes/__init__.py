"""The PDEs as small dataclasses: the :class:`~sciml.physics.pdes.pde.PDE` base (shared fields,
autograd derivatives, one pointwise formula per PDE) and one file per equation."""

from sciml.physics.pdes.acoustic import AcousticWave
from sciml.physics.pdes.advection import Advection
from sciml.physics.pdes.allen_cahn import AllenCahn
from sciml.physics.pdes.burgers import Burgers
from sciml.physics.pdes.darcy import Darcy
from sciml.physics.pdes.fokker_planck import FokkerPlanck
from sciml.physics.pdes.hamilton_jacobi import HamiltonJacobi
from sciml.physics.pdes.heat import Heat
from sciml.physics.pdes.helmholtz import Helmholtz
from sciml.physics.pdes.navier_stokes import NavierStokesVorticity
from sciml.physics.pdes.pde import PDE
from sciml.physics.pdes.poisson import Poisson

__all__ = [
    "PDE",
    "AcousticWave",
    "Advection",
    "AllenCahn",
    "Burgers",
    "Darcy",
    "FokkerPlanck",
    "HamiltonJacobi",
    "Heat",
    "Helmholtz",
    "NavierStokesVorticity",
    "Poisson",
]
