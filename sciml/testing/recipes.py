"""The contract of a data-set recipe (:class:`sciml.datasets.Recipe`).

Every registered recipe must:

1. generate two samples with its :attr:`~sciml.datasets.Recipe.small_params` (its smallest
   valid settings), with inputs/outputs of exactly the declared
   :meth:`~sciml.datasets.Recipe.shapes`, finite float values;
2. give sample ``i`` from its seed alone: the same seeds give bit-identical samples from a
   freshly built worker, in any order within the batch, and different seeds differ;
3. refuse bad parameters with a ``ValueError`` that names the parameter, before any work:
   an unknown name, a non-number for a number, NaN and infinity for every number, a
   negative value for every number not declared in
   :attr:`~sciml.datasets.Recipe.signed_params`.

``check_recipe(recipe)`` asserts all of it (``AssertionError`` with the recipe and what broke).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from sciml.datasets.recipe import Recipe, sample_seeds

__all__ = ["check_recipe", "check_recipe_parameters", "bad_parameter_values"]


def bad_parameter_values(recipe: Recipe) -> list[tuple[str, Any]]:
    """``(name, value)`` pairs the recipe must refuse (item 3 of the contract)."""
    bad: list[tuple[str, Any]] = [("no_such_parameter", 1)]
    for f in dataclasses.fields(recipe.Params):
        d = f.default
        if isinstance(d, bool) or not isinstance(d, (int, float)):
            continue
        bad += [(f.name, "not-a-number"), (f.name, "nan"), (f.name, float("inf"))]
        if f.name not in recipe.signed_params:
            bad.append((f.name, -1 if isinstance(d, int) else -1.0))
    return bad


def check_recipe_parameters(recipe: Recipe) -> None:
    """Item 3: every bad value raises ``ValueError`` naming the parameter."""
    for name, value in bad_parameter_values(recipe):
        overrides = {**recipe.small_params, name: value}
        try:
            recipe.params(overrides)
        except ValueError as exc:
            assert name in str(exc), (
                f"{recipe.name}: the error for {name}={value!r} does not name it: {exc}"
            )
        else:
            raise AssertionError(f"{recipe.name}: {name}={value!r} was accepted")


def check_recipe(recipe: Recipe, params: dict[str, Any] | None = None) -> None:
    """Assert the whole contract for ``recipe`` (default settings: its ``small_params``)."""
    p = recipe.params(recipe.small_params if params is None else params)
    in_shape, out_shape = recipe.shapes(p)
    grid = recipe.grid(p)
    assert tuple(in_shape[1:]) == grid.shape, (
        f"{recipe.name}: input shape {in_shape} is not [C, *grid.shape] = [C, *{grid.shape}]"
    )
    seeds = sample_seeds(0, 3)
    batch = recipe.worker(p)(seeds[:2])
    for name, arr, shape in (("inputs", batch.inputs, in_shape), ("outputs", batch.outputs, out_shape)):  # fmt: skip
        assert arr.shape == (2, *shape), (
            f"{recipe.name}: worker {name} have shape {arr.shape}, declared {(2, *shape)}"
        )
        assert np.issubdtype(arr.dtype, np.floating), f"{recipe.name}: {name} are {arr.dtype}"
        assert np.isfinite(arr).all(), f"{recipe.name}: {name} hold NaN or inf"
    for name, arr in batch.extras.items():
        assert arr.shape[0] == 2, f"{recipe.name}: extra {name!r} has {arr.shape[0]} rows"
    if batch.meshes is not None:
        assert len(batch.meshes) == 2, f"{recipe.name}: {len(batch.meshes)} meshes for 2 seeds"

    # seed -> sample: a fresh worker, the seeds in the other order, one new seed between
    again = recipe.worker(p)(np.array([seeds[2], seeds[1], seeds[0]]))
    for name in ("inputs", "outputs"):
        a, b = getattr(batch, name), getattr(again, name)
        assert np.array_equal(a[0], b[2]) and np.array_equal(a[1], b[1]), (
            f"{recipe.name}: the same seed gave different {name} (batch position or worker "
            "state leaks into a sample)"
        )
    assert not np.array_equal(batch.inputs[0], batch.inputs[1]), (
        f"{recipe.name}: two different seeds gave the same inputs"
    )
    check_recipe_parameters(recipe)
