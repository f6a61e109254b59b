"""Physical systems with known vector fields as regularization problems.

A neural ODE is fitted to noisy trajectories of a system whose vector field is known
(:mod:`sciml.nde.systems`), so every table can say what the true dynamics cost the prediction's
solver at the same tolerances (``true_field_predict_nfe``, the floor):

* :class:`TrajectoryProblem` - the shared recipe: trajectories from random starts (training,
  validation and test trajectories are disjoint), the training items are windows of
  ``window`` noisy observations; each window is predicted from its first (noisy) observation
  and fitted by MSE. The validation split is scored against noisy windows (what a user has),
  the test split against the clean trajectories from their clean starts.
* :class:`VanDerPolProblem` - Van der Pol with ``mu = 3`` (relaxation oscillations).
* :class:`Lorenz63Problem` - Lorenz-63 over short windows (0.3 time units; chaos makes long
  windows unlearnable from a start state).
* :class:`LotkaVolterraSDE` - the per-time moments of a stochastic Lotka-Volterra system (a
  second SDE for the local step-doubling regularizer; see
  :class:`~sciml.nde.problems.MomentSDEProblem`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn
from torchdiffeq import odeint

from sciml.nde.data import SpiralSDEData, sde_moments
from sciml.nde.fields import MLPField
from sciml.nde.neural_ode import NeuralODE
from sciml.nde.nfe import NFECounter
from sciml.nde.problems import MomentSDEProblem, RegularizationProblem
from sciml.nde.systems import (
    Lorenz63,
    StochasticLotkaVolterra,
    VanDerPol,
    noisy_trajectories,
)

__all__ = ["TrajectoryProblem", "VanDerPolProblem", "Lorenz63Problem", "LotkaVolterraSDE"]

_SEEDS = {"train": 0, "val": 1, "test": 2}


class TrajectoryProblem(RegularizationProblem):
    """Base class: fit ``dy/dt = MLP(y)`` to noisy windows of a known system's trajectories.

    Subclasses set :meth:`make_system` and the class attributes below. Data: ``n_traj[split]``
    trajectories at ``n_times`` equally spaced times on ``[0, t_end]`` with Gaussian noise of
    standard deviation ``noise``; training item ``i`` is the window of trajectory
    ``i // n_starts`` starting at observation ``i % n_starts``. Evaluation solves every window
    of the split in one batch (its NFE is the prediction NFE).
    """

    metric = "test MSE (clean windows)"
    scheduler = "cosine"
    #: trajectories per split
    n_traj: ClassVar[dict[str, int]] = {"train": 32, "val": 8, "test": 8}
    n_times: ClassVar[int]
    t_end: ClassVar[float]
    #: observations per window (the first one is the window's initial state)
    window: ClassVar[int]
    #: standard deviation of the observation noise
    noise: ClassVar[float]
    #: the vector field network: width and hidden layers
    hidden: ClassVar[int] = 64
    depth: ClassVar[int] = 2

    def make_system(self) -> nn.Module:
        """The true system: an ``nn.Module`` ``f(t, y)`` with ``dim`` and ``initial_states``."""
        raise NotImplementedError

    def __init__(self) -> None:
        super().__init__()
        self.system = self.make_system()

    @property
    def n_starts(self) -> int:
        """Window starts per trajectory."""
        return self.n_times - self.window + 1

    def load(self, device: torch.device) -> None:
        t = torch.linspace(0.0, self.t_end, self.n_times, dtype=torch.float64)
        self.data = {}
        for split, seed in _SEEDS.items():
            y0 = self.system.initial_states(
                self.n_traj[split], torch.Generator().manual_seed(100 + seed)
            )
            tr = noisy_trajectories(self.system, y0, t, noise=self.noise, seed=seed)
            self.data[split] = (tr.clean.to(device), tr.noisy.to(device))
        self.t = tr.t.to(device)
        self.tw = self.t[: self.window]
        self.offsets = torch.arange(self.window, device=device)
        self.eval_data = {}
        for split, which in (("val", 1), ("test", 0)):  # val: noisy windows; test: clean ones
            ys = self.data[split][which]
            n = self.n_traj[split] * self.n_starts
            traj, start = self._items(torch.arange(n, device=device))
            self.eval_data[split] = (ys[start, traj], self._windows(ys, traj, start))
        self._floor: dict[str, int] = {}

    def _items(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return idx // self.n_starts, idx % self.n_starts

    def _windows(self, ys: torch.Tensor, traj: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
        """``[window, B, D]``: the windows of ``ys: [T, N, D]`` at ``(traj, start): [B]``."""
        return ys[start[None, :] + self.offsets[:, None], traj[None, :]]

    def num_train(self) -> int:
        return self.n_traj["train"] * self.n_starts

    def build(self, regularizer: Any) -> nn.Module:
        field = MLPField(self.system.dim, self.hidden, depth=self.depth, time=False)
        return NeuralODE(field, rtol=self.rtol, atol=self.atol, regularizer=regularizer)

    def fit_loss(self, model: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        noisy = self.data["train"][1]
        traj, start = self._items(idx)
        sol = model.solve_regularized(noisy[start, traj], self.tw)
        return (sol.ys - self._windows(noisy, traj, start)).pow(2).mean(), sol.penalty

    def predict(self, model: nn.Module, split: str = "test") -> Any:
        y0, target = self.eval_data[split]
        return model(y0, self.tw), target

    def score(self, prediction: Any, split: str = "test") -> float:
        pred, target = prediction
        return (pred - target).pow(2).mean().item()

    def true_field_nfe(self, split: str) -> int | None:
        if split not in self._floor:
            true_f = NFECounter(self.system)
            with torch.no_grad():
                odeint(true_f, self.eval_data[split][0], self.tw, rtol=self.rtol, atol=self.atol)
            self._floor[split] = true_f.nfe
        return self._floor[split]


class VanDerPolProblem(TrajectoryProblem):
    """Van der Pol, ``mu = 3``: 32 / 8 / 8 trajectories from starts in ``[-3, 3]^2``, 81 times
    on ``[0, 8]``, noise 0.05; windows of 16 observations (1.5 time units, a batch of them
    covers slow drifts and fast jumps). ``dopri5`` at ``rtol = atol = 1e-4``."""

    name = "van-der-pol"
    iters, quick_iters, batch_size = 600, 150, 64
    rtol = atol = 1e-4
    n_times, t_end, window, noise = 81, 8.0, 16, 0.05
    options = {"steer": {"b": 0.05}}
    weights = {
        "rnode": (0.01, 0.01),
        "error": (0.01, 0.001),
        "stiffness": (0.001, 0.0001),
        "local-error": (0.1, 0.01),
        "local-stiffness": (0.01, 0.001),
    }

    def make_system(self) -> nn.Module:
        return VanDerPol(mu=3.0)


class Lorenz63Problem(TrajectoryProblem):
    """Lorenz-63 (scaled, centred coordinates; :class:`~sciml.nde.systems.Lorenz63`): 32 / 8 /
    8 trajectories on the attractor, 201 times on ``[0, 4]``, noise 0.02 (in units of 10);
    windows of 16 observations (0.3 time units). ``dopri5`` at ``rtol = atol = 1e-4``."""

    name = "lorenz63"
    iters, quick_iters, batch_size = 400, 100, 64
    rtol = atol = 1e-4
    n_times, t_end, window, noise = 201, 4.0, 16, 0.02
    options = {"steer": {"b": 0.01}}
    weights = {
        "rnode": (0.01, 0.01),
        "error": (0.01, 0.001),
        "stiffness": (0.001, 0.0001),
        "local-error": (0.1, 0.01),
        "local-stiffness": (0.01, 0.001),
    }

    def make_system(self) -> nn.Module:
        return Lorenz63()


class LotkaVolterraSDE(MomentSDEProblem):
    """Stochastic Lotka-Volterra (:class:`~sciml.nde.systems.StochasticLotkaVolterra`, noise
    0.1) from ``(1, 0.5)``: fit the per-time mean and variance of 2000 reference paths at 40
    times on ``[0, 4]`` (about two thirds of a cycle); drift ``MLP(z)``, diagonal diffusion
    (see :class:`~sciml.nde.problems.MomentSDEProblem`)."""

    name = "lotka-volterra-sde"
    iters, quick_iters = 300, 80
    options = {"steer": {"b": 0.05}}
    weights = {"local-error": (1.0, 0.1)}

    def moments(self, seed: int) -> SpiralSDEData:
        t = torch.linspace(0.0, 4.0, 40, dtype=torch.float64)
        y0 = torch.tensor([1.0, 0.5], dtype=torch.float64)
        return sde_moments(StochasticLotkaVolterra(), y0, t, seed=seed, dt=2e-3)

    def true_sde(self) -> Any:
        return StochasticLotkaVolterra()
