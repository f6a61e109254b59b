"""The one table of regularization methods and experiments (plain data; imports no torch).

Names map to ``"module:Class"`` strings (modules relative to :mod:`sciml.nde`) plus the
constructor's fixed keyword arguments, so the ``sciml nde`` parser reads the names without
loading torch, and :func:`make_regularizer` / :func:`make_problem` import a class on first use.
To add a regularizer, write its class (it declares its contract as class attributes, see
:class:`~sciml.nde.regularizers.Unregularized`) and add one line here: the shared contract
(:mod:`sciml.testing.nde_regularizers`), the command line and the benchmark pick it up.

>>> REGULARIZER_NAMES[:3]
('none', 'steer', 'rnode')
>>> make_regularizer("local-error").name
'local-error'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sciml.nde.problems import RegularizationProblem

__all__ = [
    "REGULARIZERS",
    "REGULARIZER_NAMES",
    "EXPERIMENTS",
    "EXPERIMENT_NAMES",
    "make_regularizer",
    "make_problem",
]

#: regularizer name -> ("module:Class", fixed constructor keyword arguments)
REGULARIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    "none": ("regularizers:Unregularized", {}),
    "steer": ("regularizers:STEER", {}),
    "rnode": ("regularizers:RNODE", {}),
    "error": ("regularizers:GlobalError", {}),
    "stiffness": ("regularizers:GlobalStiffness", {}),
    "local-error": ("regularizers:LocalRegularizer", {"kind": "error"}),
    "local-stiffness": ("regularizers:LocalRegularizer", {"kind": "stiffness"}),
}

#: experiment name -> "module:Class" of its :class:`~sciml.nde.problems.RegularizationProblem`
EXPERIMENTS: dict[str, str] = {
    "spiral-ode": "problems:SpiralODE",
    "spiral-sde": "problems:SpiralSDE",
    "digits": "problems:Digits",
    "latent-ode": "problems:LatentODEProblem",
    "van-der-pol": "system_problems:VanDerPolProblem",
    "lorenz63": "system_problems:Lorenz63Problem",
    "lotka-volterra-sde": "system_problems:LotkaVolterraSDE",
}

REGULARIZER_NAMES: tuple[str, ...] = tuple(REGULARIZERS)
EXPERIMENT_NAMES: tuple[str, ...] = tuple(EXPERIMENTS)


def _load(spec: str) -> type:
    module, cls = spec.split(":")
    return getattr(importlib.import_module(f"sciml.nde.{module}"), cls)


def make_regularizer(name: str, **options: Any) -> Any:
    """The regularizer registered as ``name``, built with ``options`` (e.g. STEER's ``b``,
    a ``generator``) on top of the table's fixed arguments."""
    if name not in REGULARIZERS:
        raise ValueError(f"regularizer must be one of {REGULARIZER_NAMES}, got {name!r}")
    spec, fixed = REGULARIZERS[name]
    reg = _load(spec)(**{**fixed, **options})
    if reg.name != name:
        raise RuntimeError(f"{spec} with {fixed} is named {reg.name!r}, not {name!r}")
    return reg


def make_problem(name: str, **kwargs: Any) -> RegularizationProblem:
    """A fresh instance of the experiment problem registered as ``name``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {EXPERIMENT_NAMES}, got {name!r}")
    problem = _load(EXPERIMENTS[name])(**kwargs)
    if problem.name != name:
        raise RuntimeError(f"{EXPERIMENTS[name]} is named {problem.name!r}, not {name!r}")
    return problem
