"""The recipe registry: every data-set recipe of the package, listed explicitly.

Names map to ``"module:Class"`` strings (plain data), so listing or validating a name imports
nothing heavy; :func:`get_recipe` imports the recipe's module on first use (dolfinx only for
the FEniCSx recipes). To add a recipe, write its class (a :class:`~sciml.datasets.recipe.Recipe`
subclass) and add one line here; the recipe contract tests pick it up from this table.
"""

from __future__ import annotations

import importlib

from sciml.datasets.recipe import Recipe

__all__ = ["RECIPE_CLASSES", "get_recipe", "recipe_names"]

#: recipe name -> "module:Class" (module relative to sciml.datasets)
RECIPE_CLASSES: dict[str, str] = {
    "darcy-pwc": "darcy:DarcyPWC",
    "darcy-smooth": "darcy:DarcySmooth",
    "darcy-two-phase": "darcy_dgno:DarcyTwoPhase",
    "darcy-two-phase-ood": "darcy_dgno:DarcyTwoPhaseOOD",
    "darcy-lognormal": "darcy_dgno:DarcyLognormal",
    "darcy-two-phase-inverse": "darcy_dgno:DarcyTwoPhaseInverse",
    "darcy-lognormal-inverse": "darcy_dgno:DarcyLognormalInverse",
    "poisson-multiscale": "darcy:PoissonMultiscale",
    "elasticity-holes": "elasticity_holes:ElasticityHoles",
    "stokes-pipe": "stokes_pipe:StokesPipe",
    "darcy-holes": "darcy_holes:DarcyHoles",
    "navier-stokes-2d": "navier_stokes:NavierStokes2D",
    "seismic-flatvel": "seismic:SeismicFlatVel",
    "seismic-curvevel": "seismic:SeismicCurveVel",
    "seismic-flatvel-a": "seismic:SeismicFlatVelA",
    "seismic-flatvel-b": "seismic:SeismicFlatVelB",
    "seismic-curvevel-a": "seismic:SeismicCurveVelA",
    "seismic-curvevel-b": "seismic:SeismicCurveVelB",
    "seismic-flatfault-a": "seismic:SeismicFlatFaultA",
    "seismic-flatfault-b": "seismic:SeismicFlatFaultB",
    "seismic-curvefault-a": "seismic:SeismicCurveFaultA",
    "seismic-curvefault-b": "seismic:SeismicCurveFaultB",
}

_INSTANCES: dict[str, Recipe] = {}


def recipe_names() -> list[str]:
    """The registered recipe names, sorted."""
    return sorted(RECIPE_CLASSES)


def get_recipe(name: str) -> Recipe:
    """The recipe registered as ``name`` (one instance per process)."""
    if name not in RECIPE_CLASSES:
        raise ValueError(f"recipe: unknown recipe {name!r}; known: {recipe_names()}")
    if name not in _INSTANCES:
        module, cls = RECIPE_CLASSES[name].split(":")
        recipe = getattr(importlib.import_module(f"sciml.datasets.{module}"), cls)()
        if recipe.name != name:
            raise RuntimeError(f"{RECIPE_CLASSES[name]} is named {recipe.name!r}, not {name!r}")
        _INSTANCES[name] = recipe
    return _INSTANCES[name]
