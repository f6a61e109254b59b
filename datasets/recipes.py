"""Imports every recipe module so that :data:`sciml.datasets.recipe.RECIPES` is filled."""

from sciml.datasets import darcy, darcy_dgno, elasticity_holes, navier_stokes, seismic  # noqa: F401
