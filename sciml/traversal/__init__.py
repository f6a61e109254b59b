"""Latent traversals of generative models as potential flows.

``K`` scalar potentials ``u_k(z, t)`` move latent codes along their gradients,
``z_{t+1} = z_t + grad_z u_k(z_t, t)`` (Song, Keller, Sebe, Welling, ICML 2023); each potential
obeys a PDE of the engine (:mod:`sciml.physics`: wave, heat, Fokker-Planck, Hamilton-Jacobi)
through its autograd residual, and a reconstructor forces the ``K`` flows to be told apart.

Main entry points::

    from sciml.traversal import Potential, PotentialFlow, LinearDirections
    from sciml.traversal import PDEConstraint, traversal_pde, TraversalObjective, Reconstructor
"""

from sciml.traversal.base import Traversal
from sciml.traversal.constraint import TRAVERSAL_PDES, PDEConstraint, traversal_pde
from sciml.traversal.flow import PotentialFlow
from sciml.traversal.linear import LinearDirections
from sciml.traversal.objective import TraversalObjective
from sciml.traversal.potential import Potential, TimeEmbedding
from sciml.traversal.reconstructor import Reconstructor
from sciml.traversal.variation import generator_variation

__all__ = [
    "LinearDirections",
    "PDEConstraint",
    "Potential",
    "PotentialFlow",
    "Reconstructor",
    "TRAVERSAL_PDES",
    "TimeEmbedding",
    "Traversal",
    "TraversalObjective",
    "generator_variation",
    "traversal_pde",
]
