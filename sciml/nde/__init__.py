"""Regularized neural ODEs and SDEs: differentiable solver internals (error and stiffness
estimates), global and local regularizers, models, and the papers' experiments.

Main entry points::

    from sciml.nde import Tsit5, Dopri5, rk_step, odesolve
    from sciml.nde import NeuralODE, NeuralSDE, ODEClassifier, LatentODE
    from sciml.nde import GlobalError, GlobalStiffness, LocalRegularizer, RNODE, STEER
"""

from sciml.nde.classifier import ODEClassifier
from sciml.nde.fields import MLPField
from sciml.nde.latent_ode import LatentODE
from sciml.nde.neural_ode import NeuralODE
from sciml.nde.neural_sde import NeuralSDE
from sciml.nde.nfe import NFECounter
from sciml.nde.regularizers import (
    RNODE,
    STEER,
    GlobalError,
    GlobalStiffness,
    LocalRegularizer,
    Unregularized,
    local_regularizer,
)
from sciml.nde.schedules import Constant, ExponentialDecay
from sciml.nde.sde_step import sde_step_doubling_error
from sciml.nde.solve import ODESolution, odesolve
from sciml.nde.step import StepResult, initial_step, rk_step
from sciml.nde.tableau import TABLEAUS, ButcherTableau, Dopri5, Tsit5

__all__ = [
    "ButcherTableau",
    "Constant",
    "Dopri5",
    "ExponentialDecay",
    "GlobalError",
    "GlobalStiffness",
    "LatentODE",
    "LocalRegularizer",
    "MLPField",
    "NFECounter",
    "NeuralODE",
    "NeuralSDE",
    "ODEClassifier",
    "ODESolution",
    "RNODE",
    "STEER",
    "StepResult",
    "TABLEAUS",
    "Tsit5",
    "Unregularized",
    "initial_step",
    "local_regularizer",
    "odesolve",
    "rk_step",
    "sde_step_doubling_error",
]
