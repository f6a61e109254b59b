"""Regularized neural ODEs and SDEs: differentiable solver internals (error and stiffness
estimates), global and local regularizers, models, and the papers' experiment problems.

Main entry points::

    from sciml.nde import Tsit5, Dopri5, rk_step, odesolve
    from sciml.nde import NeuralODE, NeuralSDE, ODEClassifier, LatentODE
    from sciml.nde import GlobalError, GlobalStiffness, LocalRegularizer, RNODE, STEER
    from sciml.nde import RegularizedTask, make_problem, make_regularizer
    from sciml.nde import VanDerPol, Lorenz63, StochasticLotkaVolterra  # known vector fields
    from sciml.nde import Candidate, select_weight, pareto_front  # choosing a penalty weight

The experiments that train and compare them are workflows
(:func:`sciml.workflows.nde_experiment.run_experiment`; the penalty-weight sweep that picks a
weight on validation data, :func:`sciml.workflows.nde_sweep.sweep`).

The names load lazily (PEP 562), so ``import sciml.nde.registry`` -- the plain-data table of
regularizer and experiment names the ``sciml`` command's parser reads -- imports no torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name -> submodule of sciml.nde that defines it
_EXPORTS: dict[str, str] = {
    "ODEClassifier": "classifier",
    "MLPField": "fields",
    "LatentODE": "latent_ode",
    "NeuralODE": "neural_ode",
    "NeuralSDE": "neural_sde",
    "NFECounter": "nfe",
    "RNODE": "regularizers",
    "STEER": "regularizers",
    "GlobalError": "regularizers",
    "GlobalStiffness": "regularizers",
    "LocalRegularizer": "regularizers",
    "Unregularized": "regularizers",
    "local_regularizer": "regularizers",
    "Constant": "schedules",
    "ExponentialDecay": "schedules",
    "sde_step_doubling_error": "sde_step",
    "ODESolution": "solve",
    "odesolve": "solve",
    "StepResult": "step",
    "initial_step": "step",
    "rk_step": "step",
    "TABLEAUS": "tableau",
    "ButcherTableau": "tableau",
    "Dopri5": "tableau",
    "Tsit5": "tableau",
    "RegularizationProblem": "problems",
    "Candidate": "selection",
    "pareto_front": "selection",
    "select_weight": "selection",
    "Lorenz63": "systems",
    "StochasticLotkaVolterra": "systems",
    "VanDerPol": "systems",
    "RegularizedTask": "task",
    "REGULARIZERS": "registry",
    "EXPERIMENTS": "registry",
    "make_problem": "registry",
    "make_regularizer": "registry",
}

__all__ = [
    "ButcherTableau",
    "Candidate",
    "Constant",
    "Dopri5",
    "EXPERIMENTS",
    "ExponentialDecay",
    "GlobalError",
    "GlobalStiffness",
    "LatentODE",
    "LocalRegularizer",
    "Lorenz63",
    "MLPField",
    "NFECounter",
    "NeuralODE",
    "NeuralSDE",
    "ODEClassifier",
    "ODESolution",
    "REGULARIZERS",
    "RNODE",
    "RegularizationProblem",
    "RegularizedTask",
    "STEER",
    "StepResult",
    "StochasticLotkaVolterra",
    "TABLEAUS",
    "Tsit5",
    "Unregularized",
    "VanDerPol",
    "initial_step",
    "local_regularizer",
    "make_problem",
    "make_regularizer",
    "odesolve",
    "pareto_front",
    "rk_step",
    "sde_step_doubling_error",
    "select_weight",
]

if TYPE_CHECKING:
    from sciml.nde.classifier import ODEClassifier
    from sciml.nde.fields import MLPField
    from sciml.nde.latent_ode import LatentODE
    from sciml.nde.neural_ode import NeuralODE
    from sciml.nde.neural_sde import NeuralSDE
    from sciml.nde.nfe import NFECounter
    from sciml.nde.problems import RegularizationProblem
    from sciml.nde.registry import EXPERIMENTS, REGULARIZERS, make_problem, make_regularizer
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
    from sciml.nde.selection import Candidate, pareto_front, select_weight
    from sciml.nde.solve import ODESolution, odesolve
    from sciml.nde.step import StepResult, initial_step, rk_step
    from sciml.nde.systems import Lorenz63, StochasticLotkaVolterra, VanDerPol
    from sciml.nde.tableau import TABLEAUS, ButcherTableau, Dopri5, Tsit5
    from sciml.nde.task import RegularizedTask


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sciml.nde' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"sciml.nde.{module}"), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
