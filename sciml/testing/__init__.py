"""Shared test contracts: what every member of a family must satisfy, reusable downstream.

A new member is tested by registering it; its test file parametrizes the family's contract
over the registry (see ``tests/datasets/test_recipe_contract.py``):

* :mod:`sciml.testing.recipes` -- data-set recipes: declared shapes match the worker's output,
  a seed gives the same sample whatever the batch, bad parameters give a clear error;
* :mod:`sciml.testing.processes` -- kill -9 and orphan checks for fault tests.
"""

from sciml.testing.recipes import check_recipe, check_recipe_parameters

__all__ = ["check_recipe", "check_recipe_parameters"]
