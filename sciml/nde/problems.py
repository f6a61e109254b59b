"""The regularization papers' experiments as problems: data, a model, its fit loss, its metric.

A :class:`RegularizationProblem` is what differs between the experiments; the training itself
is one :class:`~sciml.nde.task.RegularizedTask` in the one :class:`~sciml.train.Trainer`
(``loss = fit + w(step) * penalty``). Each problem declares, as class attributes, its training
budget, optimiser settings, solver tolerances, per-regularizer constructor options (STEER's
half-width depends on the time grid) and penalty weights; the registry
(:mod:`sciml.nde.registry`) maps experiment names to these classes.

* :class:`Digits` - 8x8 digits classified by an ODE classifier (Pal et al.'s MNIST model, small);
* :class:`SpiralODE` - windows of the cubic spiral (torchdiffeq's demo), L1 fit;
* :class:`LatentODEProblem` - a latent ODE on irregularly sampled damped sinusoids;
* :class:`SpiralSDE` - the spiral SDE's per-time means and variances (Pal et al. 2021).

Prediction always uses the plain torchdiffeq / torchsde solve, so every method is judged by the
solver a user runs; :meth:`RegularizationProblem.evaluate` reports the metric, the prediction
time and the prediction NFE.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import torch
from torch import nn
from torchdiffeq import odeint

from sciml.nde.classifier import ODEClassifier
from sciml.nde.data import (
    SPIRAL_A,
    digits_data,
    irregular_series_data,
    spiral_ode_data,
    spiral_sde_data,
)
from sciml.nde.fields import MLPField
from sciml.nde.latent_ode import LatentODE
from sciml.nde.neural_ode import NeuralODE
from sciml.nde.neural_sde import NeuralSDE
from sciml.nde.nfe import NFECounter
from sciml.nde.registry import make_regularizer
from sciml.nde.regularizers import STEER
from sciml.nde.schedules import ExponentialDecay

__all__ = ["RegularizationProblem", "Digits", "SpiralODE", "SpiralSDE", "LatentODEProblem"]


class RegularizationProblem:
    """Base class: one experiment of the regularization papers.

    Subclasses declare the class attributes below and implement :meth:`load`, :meth:`build`,
    :meth:`fit_loss`, :meth:`predict` and :meth:`score`. Training items are indices
    ``0 .. num_train() - 1`` (images, windows, series, paths); the Trainer batches them.
    """

    #: registry name (see :data:`sciml.nde.registry.EXPERIMENTS`)
    name: ClassVar[str]
    #: what :meth:`score` measures (the table's "metric" column)
    metric: ClassVar[str]
    #: training steps of the full and the quick run
    iters: ClassVar[int]
    quick_iters: ClassVar[int]
    batch_size: int
    lr: ClassVar[float] = 1e-2
    #: learning-rate schedule of the Trainer over the run ("cosine" or "none"); optimiser Adam
    scheduler: ClassVar[str] = "none"
    rtol: ClassVar[float]
    atol: ClassVar[float]
    #: regularizer name -> constructor options (on top of the registry's fixed ones)
    options: ClassVar[dict[str, dict[str, Any]]] = {}
    #: regularizer name -> (start, end) penalty weight, decayed exponentially over the run;
    #: a regularizer without an entry trains on the fit loss alone
    weights: ClassVar[dict[str, tuple[float, float]]] = {}
    #: regularizer names this problem supports (``None``: every registered one)
    regularizers: ClassVar[tuple[str, ...] | None] = None

    def __init__(self) -> None:
        self._device: torch.device | None = None

    # ---------------------------------------------------------------- what a problem supplies
    def load(self, device: torch.device) -> None:
        """Create the data on ``device`` (called once per device)."""
        raise NotImplementedError

    def num_train(self) -> int:
        """Number of training items."""
        raise NotImplementedError

    def build(self, regularizer: Any) -> nn.Module:
        """The model, training through ``regularizer`` (built from the current torch seed)."""
        raise NotImplementedError

    def fit_loss(self, model: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(fit, penalty)``: the batch's mean fit loss ``[]`` and the regularizer's penalty
        ``[]`` for the training items ``idx: LongTensor[b]`` (one regularized solve)."""
        raise NotImplementedError

    def solver(self, model: nn.Module) -> Any:
        """The model's :class:`NeuralODE` / :class:`NeuralSDE` (its ``nfe`` counts evaluations)."""
        return model

    def predict(self, model: nn.Module) -> Any:
        """Prediction on the test data with the plain solver (timed by :meth:`evaluate`)."""
        raise NotImplementedError

    def score(self, prediction: Any) -> float:
        """The metric of :meth:`predict`'s output."""
        raise NotImplementedError

    def reference(self) -> dict[str, Any]:
        """Extra columns for the result row (e.g. what the true dynamics cost)."""
        return {}

    def start(self) -> None:
        """Reset per-run state (random streams the problem owns) before training."""

    def state_dict(self) -> dict[str, Any]:
        """Per-run state a resumed training run must restore (tensors and plain data)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""

    # ---------------------------------------------------------------- shared by every problem
    def setup(self, device: torch.device) -> None:
        """Load the data on ``device`` (cached) and reset the per-run state."""
        device = torch.device(device)
        if self._device != device:
            self.load(device)
            self._device = device
        self.start()

    def make_regularizer(self, name: str) -> Any:
        """The registered regularizer ``name`` with this problem's options for it."""

        self.check_supported(name)
        return make_regularizer(name, **self.options.get(name, {}))

    def check_supported(self, name: str) -> None:
        """Raise ``ValueError`` when this problem does not train with regularizer ``name``."""
        if self.regularizers is not None and name not in self.regularizers:
            raise ValueError(f"{self.name} supports regularizers {self.regularizers}, got {name!r}")

    def weight(self, name: str, steps: int, scale: float = 1.0) -> ExponentialDecay | None:
        """The penalty weight schedule of regularizer ``name`` over ``steps`` steps (``None``:
        no penalty term), multiplied by ``scale``."""
        if name not in self.weights:
            return None
        w0, w1 = self.weights[name]
        return ExponentialDecay(w0 * scale, w1 * scale, max(steps, 1))

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, Any]:
        """``{"value", "predict_time_s", "predict_nfe", **reference()}`` with the plain solver."""
        model.eval()
        solver = self.solver(model)
        solver.reset_nfe()
        t0 = time.perf_counter()
        prediction = self.predict(model)
        elapsed = time.perf_counter() - t0
        return {
            "value": float(self.score(prediction)),
            "predict_time_s": elapsed,
            "predict_nfe": solver.nfe,
            **self.reference(),
        }


class Digits(RegularizationProblem):
    """8x8 digits (scikit-learn, 1437 train / 360 test): ``tanh`` encoder to ``dim`` states,
    neural ODE on ``[0, 1]`` with an MLP field (width ``hidden``), linear read-out;
    cross-entropy fit, test accuracy; prediction is one ``dopri5`` solve of the whole test set.
    ``n_train`` keeps the first training images only (small tests, the tutorial's smoke run).
    """

    name = "digits"
    metric = "test accuracy"
    iters, quick_iters, batch_size = 400, 120, 128
    scheduler = "cosine"
    rtol = atol = 1e-5
    options = {"steer": {"b": 0.5}}
    weights = {
        "rnode": (0.01, 0.01),
        "error": (1.0, 0.1),
        "stiffness": (0.1, 0.01),
        "local-error": (1.0, 0.1),
        "local-stiffness": (0.1, 0.01),
    }

    def __init__(
        self, dim: int = 32, hidden: int = 64, n_train: int | None = None, batch_size: int = 128
    ) -> None:
        super().__init__()
        if n_train is not None and not 1 <= n_train <= 1437:
            raise ValueError(f"n_train must be in [1, 1437] or None, got {n_train}")
        self.dim, self.hidden, self.n_train, self.batch_size = dim, hidden, n_train, batch_size

    def load(self, device: torch.device) -> None:
        self.xtr, self.ytr, self.xte, self.yte = (v.to(device) for v in digits_data())
        if self.n_train is not None:  # the first n_train training images
            self.xtr, self.ytr = self.xtr[: self.n_train], self.ytr[: self.n_train]

    def num_train(self) -> int:
        return len(self.xtr)

    def build(self, regularizer: Any) -> nn.Module:
        return ODEClassifier(
            64, 10, dim=self.dim, hidden=self.hidden, rtol=self.rtol, atol=self.atol,
            regularizer=regularizer,
        )  # fmt: skip

    def solver(self, model: nn.Module) -> Any:
        return model.ode

    def fit_loss(self, model: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, penalty = model.forward_regularized(self.xtr[idx])
        return nn.functional.cross_entropy(logits, self.ytr[idx]), penalty

    def predict(self, model: nn.Module) -> Any:
        return model(self.xte).argmax(-1)

    def score(self, prediction: Any) -> float:
        return (prediction == self.yte).float().mean().item()


class _TrueSpiral(nn.Module):
    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (y**3) @ torch.tensor(SPIRAL_A, dtype=y.dtype, device=y.device)


class SpiralODE(RegularizationProblem):
    """torchdiffeq's demo: windows of ``window`` observations of the cubic spiral on ``[0, 5]``
    (100 times); the model is ``f(z) = MLP(z^3)``; L1 fit of each window from its first
    state. Scored on every window at once (one batched solve, whose NFE is reported) by MSE;
    the row also reports what the true vector field costs the same solver on that batch."""

    name = "spiral-ode"
    metric = "window MSE"
    iters, quick_iters, batch_size = 300, 80, 32
    rtol = atol = 1e-5
    options = {"steer": {"b": 0.025}}
    weights = {
        "rnode": (0.01, 0.01),
        "error": (0.01, 0.001),
        "stiffness": (0.001, 0.0001),
        "local-error": (0.1, 0.01),
        "local-stiffness": (0.01, 0.001),
    }
    window = 10

    def load(self, device: torch.device) -> None:
        t, y = spiral_ode_data(n_times=100, t_end=5.0)
        self.t, self.y = t.to(device), y.to(device)
        self.offsets = torch.arange(self.window, device=device)

    def num_train(self) -> int:
        return len(self.t) - self.window  # window starts 0 .. 89

    def build(self, regularizer: Any) -> nn.Module:
        field = MLPField(2, 50, depth=1, time=False, cubic=True)
        return NeuralODE(field, rtol=self.rtol, atol=self.atol, regularizer=regularizer)

    def _windows(self, starts: torch.Tensor) -> torch.Tensor:
        """``[window, B, 2]``: the observations of the windows starting at ``starts: [B]``."""
        return self.y[starts[None, :] + self.offsets[:, None]]

    def fit_loss(self, model: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        sol = model.solve_regularized(self.y[idx], self.t[: self.window])
        return (sol.ys - self._windows(idx)).abs().mean(), sol.penalty

    def predict(self, model: nn.Module) -> Any:
        starts = torch.arange(len(self.t) - self.window + 1, device=self.t.device)
        return model(self.y[starts], self.t[: self.window]), self._windows(starts)

    def score(self, prediction: Any) -> float:
        pred, target = prediction
        return (pred - target).pow(2).mean().item()

    def reference(self) -> dict[str, Any]:
        starts = torch.arange(len(self.t) - self.window + 1, device=self.t.device)
        true_f = NFECounter(_TrueSpiral())
        odeint(true_f, self.y[starts], self.t[: self.window], rtol=self.rtol, atol=self.atol)
        return {"true_field_predict_nfe": true_f.nfe}


class _Diffusion(nn.Module):
    """Diagonal diffusion ``g(t, y) = y * 0.2 sigmoid(W y + b)`` (a small positive scale)."""

    def __init__(self, dim: int):
        super().__init__()
        self.lin = nn.Linear(dim, dim)

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return y * 0.2 * torch.sigmoid(self.lin(y))


class SpiralSDE(RegularizationProblem):
    """The spiral SDE (Pal et al. 2021): fit the per-time mean and variance of 2000 reference
    paths at 30 times on ``[0, 1]`` with ``n_paths`` simulated paths per step (the training
    items: one batch is all of them, on a fresh Brownian path). Drift ``MLP(z^3)``, diagonal
    diffusion; torchsde's adaptive Milstein solve. Regularizers: none, STEER (end time moved),
    local error (the differentiable step-doubling estimate). Scored by the moment loss of 1000
    paths."""

    name = "spiral-sde"
    metric = "moment loss"
    iters, quick_iters = 120, 40
    rtol = atol = 1e-2
    options = {"steer": {"b": 0.015}}
    weights = {"local-error": (10.0, 1.0)}
    regularizers = ("none", "steer", "local-error")

    def __init__(self, n_paths: int = 100) -> None:
        super().__init__()
        self.n_paths = n_paths
        self.batch_size = n_paths  # every path in every step

    def load(self, device: torch.device) -> None:
        data = spiral_sde_data()
        self.t, self.mean, self.var, self.y0 = (
            v.to(device) for v in (data.t, data.mean, data.var, data.y0)
        )

    def start(self) -> None:
        # Brownian seeds come from the problem's own stream: every method sees the same paths
        self.gen = torch.Generator().manual_seed(1)

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.gen.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.gen.set_state(state["generator"])

    def num_train(self) -> int:
        return self.n_paths

    def build(self, regularizer: Any) -> nn.Module:
        self.check_supported(regularizer.name)
        self.steer = regularizer if isinstance(regularizer, STEER) else None
        return NeuralSDE(
            MLPField(2, 50, time=False, cubic=True),
            _Diffusion(2),
            rtol=self.rtol,
            atol=self.atol,
            dt0=0.01,
            regularize="local-error" if regularizer.name == "local-error" else None,
        )

    def _moments_loss(self, ys: torch.Tensor) -> torch.Tensor:
        return (ys.mean(1) - self.mean).pow(2).mean() + (ys.var(1) - self.var).pow(2).mean()

    def fit_loss(self, model: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z0 = self.y0.expand(idx.numel(), 2)
        t = self.steer.perturb(self.t) if self.steer is not None else self.t
        bm = model.brownian(z0, t, seed=int(torch.randint(2**31, (), generator=self.gen)))
        sol = model.solve_regularized(z0, t, bm)
        return self._moments_loss(sol.ys), sol.penalty

    def predict(self, model: nn.Module) -> Any:
        z0 = self.y0.expand(1000, 2)
        return model(z0, self.t, model.brownian(z0, self.t, seed=12345))

    def score(self, prediction: Any) -> float:
        return self._moments_loss(prediction).item()


class LatentODEProblem(RegularizationProblem):
    """A latent ODE (GRU encoder, ODE in a 4-d latent space, linear decoder) on 640 damped
    sinusoids, each seen at ~40 % of 50 irregular times (512 train / 128 test). Fit: masked
    reconstruction MSE + 1e-3 KL; scored by the test MSE at all times (interpolation)."""

    name = "latent-ode"
    metric = "test MSE (all times)"
    iters, quick_iters, batch_size = 200, 60, 64
    rtol = atol = 1e-4
    options = {"steer": {"b": 0.05}}
    weights = {
        "rnode": (0.01, 0.01),
        "error": (0.01, 0.001),
        "stiffness": (0.001, 0.0001),
        "local-error": (0.1, 0.01),
        "local-stiffness": (0.01, 0.001),
    }
    n_series, n_train = 640, 512

    def load(self, device: torch.device) -> None:
        data = irregular_series_data(n_series=self.n_series)
        self.t, self.x, self.mask, self.full = (v.to(device) for v in data)

    def num_train(self) -> int:
        return self.n_train

    def build(self, regularizer: Any) -> nn.Module:
        return LatentODE(
            1, latent=4, hidden=32, rec_hidden=32, rtol=self.rtol, atol=self.atol,
            regularizer=regularizer,
        )  # fmt: skip

    def solver(self, model: nn.Module) -> Any:
        return model.ode

    def fit_loss(self, model: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, mask = self.x[idx], self.mask[idx]
        xh, kl, penalty = model.forward_regularized(x, mask, self.t)
        if isinstance(model.ode.regularizer, STEER):  # the last output time moved: not fitted
            mask = mask.clone()
            mask[:, -1] = 0
        rec = ((xh - x).pow(2) * mask).sum() / mask.sum()
        return rec + 1e-3 * kl.mean(), penalty

    def predict(self, model: nn.Module) -> Any:
        xh, _ = model(self.x[self.n_train :], self.mask[self.n_train :], self.t)
        return xh

    def score(self, prediction: Any) -> float:
        return (prediction - self.full[self.n_train :]).pow(2).mean().item()
