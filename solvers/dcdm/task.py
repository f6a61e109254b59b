"""Training the DCDM network as a :class:`sciml.train.Task`: its own residuals as a curriculum.

No solutions are ever computed. For each training problem (random obstacles of the training
families, random wall setups, density jumps up to 1:1000, random grid size) the task draws
smooth random *errors* ``x*`` (cosine-mode fields, :func:`~sciml.physics.fields.cosine_fields.
low_frequency_fields`), sets ``b = A x*`` and runs the safeguarded DCDM with the **current**
model for a few iterations. The residuals it meets on the way, ``r_k = b - A x_k``, with their
exact errors ``e_k = x* - x_k``, are the training samples (``k`` in :attr:`DCDMRecipe.
snapshots`): early on they are what Jacobi-PCG leaves, later what the model itself cannot yet
remove -- an on-the-fly curriculum. The pool of problems is regenerated after every epoch with
the model of that moment.

Loss: :func:`~sciml.solvers.dcdm.loss.energy_loss`, the A-norm error fraction left after the
best step in ``span{q, D^-1 r}``, averaged over the samples of an item. An *item* is a chunk of
:attr:`DCDMRecipe.chunk` samples of one problem (many right-hand sides per assembled problem:
the geometry branch and the matrix are shared by the chunk).

Validation (``"val"``, selects ``model.pt``): mean DCDM iterations to ``rtol = 1e-6`` on fixed
validation problems of the training families (never the benchmark's ``blobs``).

Resume is exact: the pool is a function of the model after the last epoch and the task's RNG
state, which the checkpoint stores; it is rebuilt on the first step after a resume.
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
from sciml.solvers.dcdm.direction import LearnedDirection
from sciml.solvers.dcdm.features import stencil_features
from sciml.solvers.dcdm.loss import energy_loss
from sciml.solvers.dcdm.method import dcdm
from sciml.solvers.dcdm.model_file import save_model
from sciml.solvers.dcdm.network import DCDMNet
from sciml.solvers.poisson_problems import TRAIN_FAMILIES
from sciml.solvers.problem_task import PoissonPoolTask, check_distribution, recipe_dict
from sciml.train import Trainer

__all__ = ["DCDMRecipe", "DCDMTask"]


@dataclass
class DCDMRecipe:
    """What the DCDM network is trained on (stored in the model file).

    Attributes:
        ndim: 2 or 3.
        sizes: grid sizes per side; epoch ``i`` uses ``sizes[i % len(sizes)]``.
        families: obstacle families (never the held-out ``blobs``).
        walls: wall setups drawn uniformly (``open-top``, ``dirichlet``, ``random``).
        density_fraction: share of problems with a density jump.
        density_ratio_max: largest heavy/light ratio; half the jumps use it, the others a
            log-uniform ratio in ``[10, max]``.
        problems: problems per pool (one pool per epoch).
        rhs: errors ``x*`` drawn per problem.
        snapshots: DCDM iterations whose residuals become samples (0 = the right-hand side).
        chunk: samples per item (one forward pass).
        passes: passes over the pool per epoch.
        error_k0, error_power: spectrum ranges of ``x*`` (see ``low_frequency_fields``).
        val_size, val_problems: validation grid size and number of problems.
        seed: seeds problems, errors and validation problems.
    """

    ndim: int = 3
    sizes: tuple[int, ...] = (24, 32, 40)
    families: tuple[str, ...] = TRAIN_FAMILIES
    walls: tuple[str, ...] = ("open-top", "dirichlet", "random")
    density_fraction: float = 0.5
    density_ratio_max: float = 1000.0
    problems: int = 8
    rhs: int = 4
    snapshots: tuple[int, ...] = (0, 1, 2, 4, 8, 16)
    chunk: int = 8
    passes: int = 1
    error_k0: tuple[float, float] = (1.0, 8.0)
    error_power: tuple[float, float] = (2.0, 5.0)
    val_size: int = 32
    val_problems: int = 3
    seed: int = 0
    card: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_distribution(self, ("problems", "rhs", "chunk", "passes", "val_size", "val_problems"))
        if not self.snapshots or min(self.snapshots) < 0:
            raise ValueError(f"snapshots must be iterations >= 0, got {self.snapshots}")
        self.snapshots = tuple(sorted(set(int(s) for s in self.snapshots)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-like dict (lists for tuples)."""
        return recipe_dict(self)


@dataclass
class _Problem:
    system: Any
    features: torch.Tensor  # [C, *shape] float32
    isd: torch.Tensor  # [n] float64, D^-1/2
    r: torch.Tensor  # [S, n] float32 residual samples (unit norm)
    e: torch.Tensor  # [S, n] float32 errors (same scaling)
    label: str = ""


class DCDMTask(PoissonPoolTask):
    """Self-supervised DCDM training (see the module docstring).

    Args:
        recipe: :class:`DCDMRecipe`.
        maxiter_val: iteration cap of the validation solves.
    """

    val_seed = 10_000
    save_function = staticmethod(save_model)

    def __init__(self, recipe: DCDMRecipe | None = None, *, maxiter_val: int = 400) -> None:
        super().__init__(recipe if recipe is not None else DCDMRecipe())
        self.maxiter_val = int(maxiter_val)

    def num_train(self) -> int:
        r = self.recipe
        per_problem = math.ceil(r.rhs * len(r.snapshots) / r.chunk)
        return r.problems * per_problem * r.passes

    def loss(self, net: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        if self._dirty:
            self._build_pool()
        r = self.recipe
        per_problem = math.ceil(r.rhs * len(r.snapshots) / r.chunk)
        items = [int(i) % (r.problems * per_problem) for i in idx.tolist()]
        groups: dict[int, list[int]] = {}
        for it in items:
            groups.setdefault(it // per_problem, []).append(it % per_problem)
        total = torch.zeros((), device=self.device, dtype=torch.float64)
        logs = {"energy_left": 0.0}
        p_dtype = next(self.module.parameters()).dtype
        for j, chunks in groups.items():
            prob = self._pool[j]
            S = prob.r.shape[0]
            # a chunk wraps around when a DCDM run converged before its last snapshot
            rows = torch.cat([torch.arange(c * r.chunk, (c + 1) * r.chunk) for c in chunks]) % S
            rv = prob.r[rows].to(self.device, torch.float64)
            ev = prob.e[rows].to(self.device, torch.float64)
            isd = prob.isd.to(self.device)
            sysm = prob.system
            field = sysm.to_field((rv * isd).to(p_dtype))[:, None]
            feats = prob.features[None].to(self.device, p_dtype)
            if self.recipe.ndim == 3:
                field = field.contiguous(memory_format=torch.channels_last_3d)
                feats = feats.contiguous(memory_format=torch.channels_last_3d)
            out = net(field, feats)
            q = sysm.to_vector(out[:, 0]).double() * isd
            Aq = sysm.matvec(q)
            z = rv * isd.square()
            with torch.no_grad():
                Az = sysm.matvec(z)
            per_sample = energy_loss(q, Aq, rv, ev, z, Az)
            # an item's loss is the mean over its samples
            total = total + per_sample.sum() / r.chunk
            logs["energy_left"] += float(per_sample.detach().sum()) / r.chunk
        if torch.is_grad_enabled():
            self.steps += 1
        return total, logs

    @torch.no_grad()
    def validate(self, module: nn.Module) -> dict[str, float]:
        iters = []
        for prob in self._val:
            d = LearnedDirection(module, prob.system)
            res = dcdm(prob.system, prob.b, d, rtol=1e-6, maxiter=self.maxiter_val, check=False)
            iters.append(res.iterations if bool(res.converged) else 2 * self.maxiter_val)
        out = {"val": float(np.mean(iters))}
        out.update({f"val_iters_{i}": float(v) for i, v in enumerate(iters)})
        return out

    # ------------------------------------------------------------------ pieces
    @torch.no_grad()
    def _build_pool(self) -> None:
        """Draw :attr:`DCDMRecipe.problems` problems and their DCDM residual snapshots."""
        r = self.recipe
        self._replay_or_record_rng()
        n = r.sizes[self._pool_epoch % len(r.sizes)]
        was_training = self.module.training
        self.module.eval()
        pool = []
        for _ in range(r.problems):
            prob, label = self._draw_problem(n)
            sysm = prob.system
            feats = stencil_features(sysm.matrix, sysm.active)
            f = low_frequency_fields(
                prob.shape, r.rhs, rng=self._rng, k0=r.error_k0, power=r.error_power, noise=0.0
            )
            xstar = sysm.to_vector(torch.from_numpy(f))
            b = sysm.matvec(xstar)
            snaps = {}
            want = set(r.snapshots)
            if 0 in want:
                snaps[0] = torch.zeros_like(xstar)

            def keep(it, x, _res, snaps=snaps, want=want):
                if it in want:
                    snaps[it] = x.clone()

            last = max(r.snapshots)
            if last > 0:
                direction = LearnedDirection(self.module, sysm)
                dcdm(sysm, b, direction, rtol=1e-10, maxiter=last, check=False, callback=keep)
            xs = torch.stack([snaps[k] for k in sorted(snaps)])  # [K, R, n]
            e = (xstar[None] - xs).reshape(-1, sysm.n)
            res = sysm.matvec(e)
            scale = res.norm(dim=-1, keepdim=True).clamp_min(1e-300)
            pool.append(
                _Problem(
                    system=sysm,
                    features=feats.features,
                    isd=feats.inv_sqrt_diag,
                    r=(res / scale).float(),
                    e=(e / scale).float(),
                    label=label,
                )
            )
        self._pool = pool
        self._dirty = False
        self.module.train(was_training)


def train_dcdm(
    recipe: DCDMRecipe,
    config,
    *,
    out_dir: str | Path | None = None,
    model: nn.Module | None = None,
    resume: bool = False,
    device: str | torch.device = "cpu",
    network: dict[str, Any] | None = None,
):
    """Train a :class:`~sciml.solvers.dcdm.network.DCDMNet` with the package's Trainer.

    Args:
        recipe: the data recipe (its ``card`` is stored in the model file, e.g. the command).
        config: :class:`sciml.train.TrainConfig` (``batch_size`` counts items, i.e. chunks).
        out_dir: run folder (``last.pt``, ``model.pt`` = best validation model, logs).
        model: continue from this network (default: a new one with ``network`` options).
        resume: continue the run in ``out_dir``.
        device: training device.
        network: keyword arguments of :class:`DCDMNet` for a new model.

    Returns:
        ``(trained network, history)``.
    """

    torch.manual_seed(config.seed)
    net = model if model is not None else DCDMNet(ndim=recipe.ndim, **(network or {}))
    task = DCDMTask(recipe)
    trainer = Trainer(net, config, task=task, out_dir=out_dir, device=device)
    history = trainer.fit(resume=resume)
    return trainer.module, history
