"""Training the learned cycle as a :class:`sciml.train.Task`: the measured PCG convergence factor.

For each training problem (random obstacles of the training families, random wall setups,
density jumps up to 1:1000, a grid size of the recipe) the task builds the multigrid hierarchy
once and draws random errors (smooth cosine fields plus white noise). Before each epoch the
errors are replaced by *what the current cycle leaves* of them
(:func:`~sciml.solvers.multigrid.loss.leftover_errors`: a few steepest-descent steps with the
cycle of that moment), and the loss of an item is the mean, over its errors, of the log A-norm
error reduction per iteration of ``steps`` PCG iterations with the learned cycle
(:func:`~sciml.solvers.multigrid.loss.pcg_log_factor`): minimising it minimises the
convergence factor PCG will see. No solution is ever computed.

Validation (``"val"``, selects ``model.pt``): the mean number of MG-PCG iterations to a true
relative residual of ``1e-6`` on fixed validation problems (never the benchmark's ``blobs``
family), made fractional by interpolating the last step's residual reduction in log scale, so
small improvements show.

Resume is exact: the pool is a function of the task's RNG state (stored in the checkpoint) and
of the model after the last epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sciml.physics.fields.cosine_fields import low_frequency_fields
from sciml.solvers.krylov.stencil import StencilOperator
from sciml.solvers.multigrid.cycle import VCycle
from sciml.solvers.multigrid.hierarchy import Hierarchy
from sciml.solvers.multigrid.loss import leftover_errors, pcg_log_factor
from sciml.solvers.multigrid.model_file import save_model
from sciml.solvers.multigrid.pcg import mg_pcg
from sciml.solvers.poisson_problems import TRAIN_FAMILIES
from sciml.solvers.problem_task import PoissonPoolTask, check_distribution, recipe_dict

__all__ = ["MGRecipe", "MGTask", "train_learned_cycle", "fractional_iterations"]


@dataclass
class MGRecipe:
    """What the learned cycle is trained on (stored in the model file).

    Attributes:
        ndim: 2 or 3.
        sizes: grid sizes per side; problem ``i`` of a pool uses ``sizes[i % len(sizes)]``.
        families, walls, density_fraction, density_ratio_max: the problem distribution (as in
            :class:`~sciml.solvers.dcdm.task.DCDMRecipe`; never the held-out ``blobs``).
        problems: problems per pool (one pool per epoch).
        rhs: errors per problem; ``chunk``: errors per item.
        leftover: steepest-descent steps with the current cycle before measuring.
        steps: PCG iterations of the loss.
        val_size, val_problems: validation problems.
        seed: seeds problems, errors and validation problems.
    """

    ndim: int = 3
    sizes: tuple[int, ...] = (32, 48)
    families: tuple[str, ...] = TRAIN_FAMILIES
    walls: tuple[str, ...] = ("open-top", "dirichlet", "random")
    density_fraction: float = 0.5
    density_ratio_max: float = 1000.0
    problems: int = 4
    rhs: int = 4
    chunk: int = 2
    leftover: int = 2
    steps: int = 6
    val_size: int = 48
    val_problems: int = 4
    seed: int = 0
    card: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_distribution(self, ("problems", "rhs", "chunk", "steps", "val_size", "val_problems"))
        if self.leftover < 0:
            raise ValueError(f"leftover must be >= 0, got {self.leftover}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-like dict (lists for tuples)."""
        return recipe_dict(self)


@dataclass
class _Problem:
    hierarchy: Hierarchy
    errors: torch.Tensor  # [R, *S] float64
    label: str


def fractional_iterations(residuals: torch.Tensor, rtol: float) -> float:
    """Iterations to ``rtol`` with the last step interpolated in log scale (``residuals``:
    ``[k + 1]`` relative residuals, the last one ``<= rtol``)."""
    h = residuals.double().clamp_min(1e-300).log10()
    k = len(h) - 1
    if k == 0:
        return 0.0
    lo, hi, t = float(h[-1]), float(h[-2]), math.log10(rtol)
    frac = (hi - t) / (hi - lo) if hi > lo else 1.0
    return k - 1 + min(max(frac, 0.0), 1.0)


class MGTask(PoissonPoolTask):
    """Training of :class:`~sciml.solvers.multigrid.learned.LearnedCycle` (module docstring).

    Args:
        recipe: :class:`MGRecipe`.
    """

    val_seed = 20_000
    save_function = staticmethod(save_model)

    def __init__(self, recipe: MGRecipe | None = None) -> None:
        super().__init__(recipe if recipe is not None else MGRecipe())

    def _per_problem(self) -> int:
        return math.ceil(self.recipe.rhs / self.recipe.chunk)

    def num_train(self) -> int:
        return self.recipe.problems * self._per_problem()

    def loss(self, net: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        if self._dirty:
            self._build_pool()
        r = self.recipe
        per = self._per_problem()
        total = torch.zeros((), device=self.device, dtype=torch.float64)
        logs = {"factor": 0.0}
        for item in idx.tolist():
            prob = self._pool[(item // per) % len(self._pool)]
            c = item % per
            e0 = prob.errors[c * r.chunk : (c + 1) * r.chunk]
            weights, alphas = net(prob.hierarchy.depth)
            log_rho = pcg_log_factor(prob.hierarchy, weights, alphas, e0, r.steps)
            total = total + log_rho.mean()
            logs["factor"] += float(log_rho.detach().mean().exp())
        if torch.is_grad_enabled():
            self.steps += 1
        return total, logs

    @torch.no_grad()
    def validate(self, module: nn.Module) -> dict[str, float]:
        iters = []
        for op, hierarchy, b in self._val:
            M = VCycle(hierarchy, module.cycle_parameters(hierarchy.depth), op=op)
            res = mg_pcg(op, b, M, rtol=1e-6, maxiter=200, fallback=False)
            it = fractional_iterations(res.residuals[:, 0], 1e-6) if res.converged else 400.0
            iters.append(it)
        out = {"val": float(np.mean(iters))}
        out.update({f"val_iters_{i}": float(v) for i, v in enumerate(iters)})
        return out

    # ------------------------------------------------------------------ pieces
    def _val_problem(self, i: int):
        prob = super()._val_problem(i)
        op = StencilOperator.from_system(prob.system, device=self.device)
        return op, Hierarchy.from_operator(op), prob.b.to(self.device)

    @torch.no_grad()
    def _build_pool(self) -> None:
        """Draw :attr:`MGRecipe.problems` problems and the errors the current cycle leaves."""
        r = self.recipe
        self._replay_or_record_rng()
        pool = []
        for i in range(r.problems):
            n = r.sizes[i % len(r.sizes)]
            prob, label = self._draw_problem(n)
            op = StencilOperator.from_system(prob.system, device=self.device)
            hierarchy = Hierarchy.from_operator(op)
            f = low_frequency_fields(prob.shape, r.rhs, rng=self._rng, k0=(1.0, 8.0),
                                     power=(1.0, 4.0), noise=(0.0, 1.0))  # fmt: skip
            e0 = torch.from_numpy(f).to(self.device) * op.active
            weights, alphas = self.module(hierarchy.depth)
            e = leftover_errors(hierarchy, weights, alphas, e0, r.leftover)
            pool.append(_Problem(hierarchy, e, label))
        self._pool = pool
        self._dirty = False


def train_learned_cycle(
    recipe: MGRecipe,
    config,
    *,
    out_dir: str | Path | None = None,
    model: nn.Module | None = None,
    resume: bool = False,
    device: str | torch.device = "cpu",
    cycle: dict[str, Any] | None = None,
) -> tuple[nn.Module, list[dict]]:
    """Train a :class:`~sciml.solvers.multigrid.learned.LearnedCycle` with the package's Trainer.

    Args:
        recipe: the problem recipe (its ``card`` goes into the model file, e.g. the command).
        config: :class:`sciml.train.TrainConfig` (``batch_size`` counts items).
        out_dir: run folder (``last.pt``, ``model.pt`` = best validation model, logs).
        model: continue from this module (default: a new one with ``cycle`` options).
        resume: continue the run in ``out_dir``.
        device: training device.
        cycle: keyword arguments of :class:`LearnedCycle` for a new model.

    Returns:
        ``(trained module, history)``.
    """
    from sciml.solvers.multigrid.learned import LearnedCycle
    from sciml.train import Trainer

    torch.manual_seed(config.seed)
    net = model if model is not None else LearnedCycle(ndim=recipe.ndim, **(cycle or {}))
    trainer = Trainer(net, config, task=MGTask(recipe), out_dir=out_dir, device=device)
    history = trainer.fit(resume=resume)
    return trainer.module, history
