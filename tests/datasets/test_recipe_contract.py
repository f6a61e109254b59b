"""Every registered recipe satisfies the recipe contract (sciml.testing.recipes) at its smallest
settings: declared shapes, seed -> same sample, bad parameters refused. A new recipe is tested
by registering it (one line in sciml/datasets/recipes.py)."""

import pytest

from sciml.datasets import get_recipe, recipe_names
from sciml.datasets.recipe import sample_seeds
from sciml.testing.recipes import check_recipe


@pytest.mark.parametrize("name", recipe_names())
def test_recipe_contract(name):
    check_recipe(get_recipe(name))


def test_poisson_multiscale_takes_the_large_seeds_sample_seeds_gives():
    """Regression: the per-sample seed arithmetic overflowed int64 (``seeds must be
    non-negative, got [-9089634951798683434]``) for every base seed."""
    rec = get_recipe("poisson-multiscale")
    seeds = sample_seeds(0, 2)
    assert seeds.max() > 2**62  # the seeds that overflowed ``seeds * 3 + k``
    batch = rec.worker(rec.params(rec.small_params))(seeds)
    assert batch.inputs.shape == (2, 1, 5, 5) and abs(batch.inputs).max() > 0


def test_the_contract_catches_a_recipe_that_breaks_it():
    """The contract is not vacuous: a recipe whose worker ignores the seed fails it."""
    import dataclasses

    import numpy as np

    from sciml.datasets.recipe import Recipe, SampleBatch
    from sciml.grid import Grid

    @dataclasses.dataclass
    class P:
        resolution: int = 4
        scale: float = 1.0

    class Broken(Recipe):
        name, Params = "broken", P

        def grid(self, p):
            return Grid((p.resolution,))

        def worker(self, p):
            rng = np.random.default_rng(0)  # state shared across calls: not seed -> sample

            def run(seeds):
                x = rng.standard_normal((len(seeds), 1, p.resolution)).astype(np.float32)
                return SampleBatch(x, 2 * x)

            return run

    with pytest.raises(AssertionError, match="the same seed gave different inputs"):
        check_recipe(Broken())
