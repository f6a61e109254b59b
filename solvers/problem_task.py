"""What the learned-solver tasks share: random Poisson problems, a resumable RNG, a model card.

:class:`~sciml.solvers.dcdm.task.DCDMTask` and :class:`~sciml.solvers.multigrid.task.MGTask`
both train on pools of random problems of :func:`~sciml.solvers.poisson_problems.make_problem`
(training obstacle families, wall setups, density jumps) that are redrawn every epoch with the
model of that moment; both validate on fixed problems and store their recipe in the model
file. :class:`PoissonPoolTask` holds that common part; a subclass adds the pool it builds
(``_build_pool``), its loss and its validation. :func:`check_distribution` and
:func:`recipe_dict` serve the two recipe dataclasses.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sciml.solvers.poisson_problems import TRAIN_FAMILIES, make_problem
from sciml.train.task import Task

__all__ = ["PoissonPoolTask", "check_distribution", "recipe_dict"]

_VAL_FAMILIES = ("spheres", "baffles", "terrain", "cylinders")
_VAL_WALLS = ("open-top", "random", "dirichlet")


def check_distribution(recipe: Any, counts: tuple[str, ...]) -> None:
    """Validate (and normalise to tuples) the problem distribution fields of a recipe.

    Args:
        recipe: a dataclass with ``ndim, sizes, families, walls, density_fraction,
            density_ratio_max``.
        counts: names of integer fields that must be at least 1.
    """
    if recipe.ndim not in (2, 3):
        raise ValueError(f"ndim must be 2 or 3, got {recipe.ndim}")
    if not recipe.sizes or min(recipe.sizes) < 8:
        raise ValueError(f"sizes must be a non-empty list of sizes >= 8, got {recipe.sizes}")
    bad = [f for f in recipe.families if f not in TRAIN_FAMILIES]
    if bad or not recipe.families:
        raise ValueError(f"families must be among {TRAIN_FAMILIES}, got {recipe.families}")
    if not 0.0 <= recipe.density_fraction <= 1.0:
        raise ValueError(f"density_fraction must be in [0, 1], got {recipe.density_fraction}")
    if recipe.density_ratio_max < 10:
        raise ValueError(f"density_ratio_max must be >= 10, got {recipe.density_ratio_max}")
    for name in counts:
        if int(getattr(recipe, name)) < 1:
            raise ValueError(f"{name} must be >= 1, got {getattr(recipe, name)}")
    recipe.sizes = tuple(int(s) for s in recipe.sizes)
    recipe.families = tuple(recipe.families)
    recipe.walls = tuple(recipe.walls)


def recipe_dict(recipe: Any) -> dict[str, Any]:
    """JSON-like dict of a recipe dataclass (lists for tuples)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(recipe).items()}


class PoissonPoolTask(Task):
    """Base of the self-supervised solver tasks (see the module docstring).

    Subclasses set :attr:`val_seed` (first seed of the validation problems) and
    :attr:`save_function` (``(module, path, card) -> None``) and implement ``_build_pool``,
    ``loss`` and ``validate``. The RNG state before each pool draw is checkpointed, so a
    resumed run replays the same pool with the restored model.
    """

    selection_metric = "val"
    val_seed = 10_000
    save_function: Callable[[nn.Module, Path, dict], None]  # a staticmethod in subclasses

    def __init__(self, recipe: Any) -> None:
        self.recipe = recipe
        self._rng = np.random.default_rng(recipe.seed)
        self._pool: list = []
        self._pool_epoch = 0
        self._pool_rng_state: dict | None = None
        self._dirty = True
        self.steps = 0
        self.train_seconds = 0.0
        self._t_start: float | None = None
        self.config = None

    # ------------------------------------------------------------------ Task API
    def setup(self, model, train, val, *, config, device) -> nn.Module:
        if getattr(model, "ndim", None) != self.recipe.ndim:
            raise ValueError(
                f"the model is {getattr(model, 'ndim', '?')}-D, the recipe {self.recipe.ndim}-D"
            )
        self.device = torch.device(device)
        self.config = config
        self.module = model
        self._val = [self._val_problem(i) for i in range(self.recipe.val_problems)]
        self._t_start = time.perf_counter()
        return model

    def end_epoch(self, module: nn.Module, epoch: int) -> None:
        self._pool_epoch = epoch
        self._dirty = True
        self._build_pool()

    def state_dict(self) -> dict[str, Any]:
        return {
            "pool_epoch": self._pool_epoch,
            "pool_rng": self._pool_rng_state,
            "rng": self._rng.bit_generator.state,
            "steps": self.steps,
            "train_seconds": self._elapsed(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not state:
            return
        self._pool_epoch = int(state.get("pool_epoch", 0))
        self._pool_rng_state = state["pool_rng"]
        self._rng.bit_generator.state = state["rng"]
        self.steps = int(state["steps"])
        self.train_seconds = float(state["train_seconds"])
        self._t_start = time.perf_counter()
        self._dirty = True  # rebuilt from pool_rng with the restored model at the next step

    def save_model(self, module: nn.Module, path: Path, extra: dict[str, Any]) -> None:
        card = {
            **self.recipe.card,
            "recipe": self.recipe.to_dict(),
            "steps": self.steps,
            "train_seconds": round(self._elapsed(), 1),
            "threads": torch.get_num_threads(),
            "torch": str(torch.__version__),
            "device": str(self.device),
            **extra,
        }
        if self.config is not None:
            card["train_config"] = self.config.to_dict()
        self.save_function(module, path, card)

    # ------------------------------------------------------------------ pieces
    def _build_pool(self) -> None:
        raise NotImplementedError

    def _val_problem(self, i: int):
        """The ``i``-th fixed validation problem (training families, alternating setups)."""
        r = self.recipe
        fams = [f for f in _VAL_FAMILIES if f in r.families] or list(r.families)
        return make_problem(
            r.val_size, ndim=r.ndim, family=fams[i % len(fams)], walls=_VAL_WALLS[i % 3],
            density_ratio=r.density_ratio_max if i % 2 == 0 else None,
            seed=self.val_seed + r.seed * 100 + i,
        )  # fmt: skip

    def _replay_or_record_rng(self) -> None:
        """Before a pool draw: after a resume replay the stored state, else record it."""
        if self._pool_rng_state is not None and self._dirty and not self._pool:
            self._rng.bit_generator.state = self._pool_rng_state
        self._pool_rng_state = self._rng.bit_generator.state

    def _elapsed(self) -> float:
        if self._t_start is None:
            return self.train_seconds
        return self.train_seconds + time.perf_counter() - self._t_start

    def _draw_problem(self, n: int):
        """One random training problem of size ``n`` and its label."""
        r, rng = self.recipe, self._rng
        family = str(rng.choice(r.families))
        walls = str(rng.choice(r.walls))
        ratio, density = None, "interface"
        if rng.uniform() < r.density_fraction:
            hi = math.log10(r.density_ratio_max)
            ratio = r.density_ratio_max if rng.uniform() < 0.5 else 10 ** rng.uniform(1.0, hi)
            density = "interface" if rng.uniform() < 0.6 else "bubbles"
        for _ in range(20):  # a draw whose fluid reaches no Dirichlet wall is drawn again
            try:
                prob = make_problem(n, ndim=r.ndim, family=family, walls=walls,
                                    density_ratio=ratio, density=density,
                                    seed=int(rng.integers(2**31)))  # fmt: skip
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"no usable {family}/{walls} problem in 20 draws")
        label = f"{family}/{walls}/{'-' if ratio is None else f'{density} 1:{ratio:.0f}'}"
        return prob, label
