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
* :class:`SpiralSDE` - the spiral SDE's per-time means and variances (Pal et al. 2021), one
  :class:`MomentSDEProblem`.

The physical systems with known vector fields (Van der Pol, Lorenz-63, stochastic
Lotka-Volterra) are problems of :mod:`sciml.nde.system_problems`.

Every problem has a validation split next to its test split (disjoint from the test data), so
a penalty weight can be chosen on validation error and judged on the test set once
(:func:`sciml.workflows.nde_sweep.sweep`). Prediction always uses the plain torchdiffeq /
torchsde solve, so every method is judged by the solver a user runs;
:meth:`RegularizationProblem.evaluate` reports the metric, its error form (lower is better),
the prediction time (fastest of repeats) and the prediction NFE, and where the true dynamics are
known what they cost the same solver (``true_field_predict_nfe``, the floor).
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
    SpiralSDEData,
    digits_data,
    irregular_series_data,
    spiral_ode_data,
    spiral_sde,
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

__all__ = [
    "SPLITS",
    "RegularizationProblem",
    "Digits",
    "SpiralODE",
    "MomentSDEProblem",
    "SpiralSDE",
    "LatentODEProblem",
]

#: the evaluation splits every problem has (training items are separate)
SPLITS = ("val", "test")


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


class RegularizationProblem:
    """Base class: one experiment of the regularization papers.

    Subclasses declare the class attributes below and implement :meth:`load`, :meth:`build`,
    :meth:`fit_loss`, :meth:`predict` and :meth:`score`. Training items are indices
    ``0 .. num_train() - 1`` (images, windows, series, paths); the Trainer batches them.
    Prediction and scoring take a ``split``: ``"val"`` (for choosing a penalty weight) or
    ``"test"`` (reported once, for the chosen weight).
    """

    #: registry name (see :data:`sciml.nde.registry.EXPERIMENTS`)
    name: ClassVar[str]
    #: what :meth:`score` measures (the table's "metric" column)
    metric: ClassVar[str]
    #: the metric is an accuracy (higher is better; its error is ``1 - value``), not a loss
    higher_is_better: ClassVar[bool] = False
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

    def predict(self, model: nn.Module, split: str = "test") -> Any:
        """Prediction on ``split`` (``"val"`` or ``"test"``) with the plain solver (timed by
        :meth:`evaluate`)."""
        raise NotImplementedError

    def score(self, prediction: Any, split: str = "test") -> float:
        """The metric of :meth:`predict`'s output on ``split``."""
        raise NotImplementedError

    def true_field_nfe(self, split: str) -> int | None:
        """NFE of the true dynamics on ``split``'s prediction batch with the prediction's
        solver and tolerances (the floor), or ``None`` where the dynamics are unknown."""
        return None

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

    def default_weight(self, name: str) -> float | None:
        """The start weight of regularizer ``name``'s penalty schedule (``None``: no penalty)."""
        return self.weights[name][0] if name in self.weights else None

    def weighted(self) -> tuple[str, ...]:
        """The regularizers this problem trains with a penalty weight (what a sweep varies)."""
        return tuple(n for n in self.weights if self.regularizers is None or n in self.regularizers)

    def error_of(self, value: float) -> float:
        """The metric ``value`` as an error (lower is better): ``1 - value`` for an accuracy."""
        return 1.0 - value if self.higher_is_better else value

    def weight(self, name: str, steps: int, scale: float = 1.0) -> ExponentialDecay | None:
        """The penalty weight schedule of regularizer ``name`` over ``steps`` steps (``None``:
        no penalty term), multiplied by ``scale``."""
        if name not in self.weights:
            return None
        w0, w1 = self.weights[name]
        return ExponentialDecay(w0 * scale, w1 * scale, max(steps, 1))

    @torch.no_grad()
    def evaluate(self, model: nn.Module, split: str = "test", repeats: int = 5) -> dict[str, Any]:
        """``{"split", "value", "error", "predict_time_s", "predict_nfe",
        "true_field_predict_nfe"}`` of the plain solve on ``split``. The prediction runs
        ``repeats`` times and the fastest wall time is reported (timeit's rule: other load only
        ever adds time; the NFE is the same each time)."""
        _check_split(split)
        if repeats < 1:
            raise ValueError(f"repeats must be >= 1, got {repeats}")
        model.eval()
        solver = self.solver(model)
        times = []
        for _ in range(repeats):
            solver.reset_nfe()
            t0 = time.perf_counter()
            prediction = self.predict(model, split)
            times.append(time.perf_counter() - t0)
        value = float(self.score(prediction, split))
        return {
            "split": split,
            "value": value,
            "error": self.error_of(value),
            "predict_time_s": min(times),
            "predict_nfe": solver.nfe,
            "true_field_predict_nfe": self.true_field_nfe(split),
        }


class Digits(RegularizationProblem):
    """8x8 digits (scikit-learn; 1149 train / 288 validation / 360 test): ``tanh`` encoder to
    ``dim`` states, neural ODE on ``[0, 1]`` with an MLP field (width ``hidden``), linear
    read-out; cross-entropy fit, accuracy; prediction is one ``dopri5`` solve of the whole split.
    The validation images are the last 288 of scikit-learn's stratified training split (the
    test split is unchanged). ``n_train`` keeps the first training images only (small tests,
    the tutorial's smoke run).
    """

    name = "digits"
    metric = "test accuracy"
    higher_is_better = True
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
    n_val = 288

    def __init__(
        self, dim: int = 32, hidden: int = 64, n_train: int | None = None, batch_size: int = 128
    ) -> None:
        super().__init__()
        if n_train is not None and not 1 <= n_train <= 1437 - self.n_val:
            raise ValueError(f"n_train must be in [1, {1437 - self.n_val}] or None, got {n_train}")
        self.dim, self.hidden, self.n_train, self.batch_size = dim, hidden, n_train, batch_size

    def load(self, device: torch.device) -> None:
        xtr, ytr, xte, yte = (v.to(device) for v in digits_data())
        self.xtr, self.ytr = xtr[: -self.n_val], ytr[: -self.n_val]
        self.eval_data = {"val": (xtr[-self.n_val :], ytr[-self.n_val :]), "test": (xte, yte)}
        self.xte, self.yte = xte, yte
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

    def predict(self, model: nn.Module, split: str = "test") -> Any:
        return model(self.eval_data[split][0]).argmax(-1)

    def score(self, prediction: Any, split: str = "test") -> float:
        return (prediction == self.eval_data[split][1]).float().mean().item()


class _TrueSpiral(nn.Module):
    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (y**3) @ torch.tensor(SPIRAL_A, dtype=y.dtype, device=y.device)


class SpiralODE(RegularizationProblem):
    """torchdiffeq's demo: windows of ``window`` observations of the cubic spiral on ``[0, 5]``
    (100 times); the model is ``f(z) = MLP(z^3)``; L1 fit of each window from its first
    state. Scored on every window at once (one batched solve, whose NFE is reported) by MSE.
    The validation windows start halfway between the observation times (same spacing, states
    the training never saw). The true vector field's NFE on the same batch is the floor."""

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
        # 199 times on [0, 5]: the odd ones lie halfway between the observations
        _, dense = spiral_ode_data(n_times=199, t_end=5.0)
        dense = dense.to(device)
        starts = torch.arange(len(self.t) - self.window + 1, device=device)
        mids = torch.arange(1, 199 - 2 * (self.window - 1), 2, device=device)
        self.eval_data = {
            "test": (self.y[starts], self._windows(starts)),
            "val": (dense[mids], dense[mids[None, :] + 2 * self.offsets[:, None]]),
        }
        self._floor: dict[str, int] = {}

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

    def predict(self, model: nn.Module, split: str = "test") -> Any:
        y0, target = self.eval_data[split]
        return model(y0, self.t[: self.window]), target

    def score(self, prediction: Any, split: str = "test") -> float:
        pred, target = prediction
        return (pred - target).pow(2).mean().item()

    def true_field_nfe(self, split: str) -> int | None:
        if split not in self._floor:
            true_f = NFECounter(_TrueSpiral())
            y0 = self.eval_data[split][0]
            odeint(true_f, y0, self.t[: self.window], rtol=self.rtol, atol=self.atol)
            self._floor[split] = true_f.nfe
        return self._floor[split]


class _Diffusion(nn.Module):
    """Diagonal diffusion ``g(t, y) = y * 0.2 sigmoid(W y + b)`` (a small positive scale)."""

    def __init__(self, dim: int):
        super().__init__()
        self.lin = nn.Linear(dim, dim)

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return y * 0.2 * torch.sigmoid(self.lin(y))


class MomentSDEProblem(RegularizationProblem):
    """Base class: fit a neural SDE to the per-time means and variances of a reference SDE.

    ``n_paths`` simulated paths per step (the training items: one batch is all of them, on a
    fresh Brownian path); drift ``MLP``, diagonal diffusion; torchsde's adaptive Milstein
    solve. Regularizers: none, STEER (end time moved), local error (the differentiable
    step-doubling estimate). Scored by the moment loss of ``n_eval_paths`` paths against the
    reference moments: the test split against the training moments (``seed 0`` reference
    paths) on one Brownian path, the validation split against an independent reference
    (``seed 1``) on another. Where the true SDE is known (:meth:`true_sde`), its own adaptive
    solve on the test Brownian path is the floor.

    Subclasses implement :meth:`moments` and may override :meth:`make_drift` and
    :meth:`true_sde`.
    """

    metric = "moment loss"
    rtol = atol = 1e-2
    regularizers = ("none", "steer", "local-error")
    dt0: ClassVar[float] = 0.01
    #: state dimension
    dim: ClassVar[int] = 2
    #: Brownian seeds of the validation and test predictions
    eval_seeds: ClassVar[dict[str, int]] = {"val": 54321, "test": 12345}

    def __init__(self, n_paths: int = 100, n_eval_paths: int = 1000) -> None:
        super().__init__()
        if n_paths < 2 or n_eval_paths < 2:
            raise ValueError(f"need n_paths, n_eval_paths >= 2, got {n_paths}, {n_eval_paths}")
        self.n_paths, self.n_eval_paths = n_paths, n_eval_paths
        self.batch_size = n_paths  # every path in every step

    def moments(self, seed: int) -> SpiralSDEData:
        """Reference moments (``t``, ``mean``, ``var``, ``y0``) from reference paths ``seed``."""
        raise NotImplementedError

    def make_drift(self) -> nn.Module:
        """The drift network (default: 50 tanh units, no time input)."""
        return MLPField(self.dim, 50, time=False)

    def true_sde(self) -> Any:
        """The reference SDE (torchsde interface, ``f`` and ``g``), or ``None`` if unknown."""
        return None

    def load(self, device: torch.device) -> None:
        data = self.moments(seed=0)
        self.t, self.mean, self.var, self.y0 = (
            v.to(device) for v in (data.t, data.mean, data.var, data.y0)
        )
        val = self.moments(seed=1)
        self.targets = {
            "test": (self.mean, self.var),
            "val": (val.mean.to(device), val.var.to(device)),
        }
        self._floor: dict[str, int | None] = {}

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
            self.make_drift(),
            _Diffusion(self.dim),
            rtol=self.rtol,
            atol=self.atol,
            dt0=self.dt0,
            regularize="local-error" if regularizer.name == "local-error" else None,
        )

    def _moments_loss(self, ys: torch.Tensor, split: str = "test") -> torch.Tensor:
        mean, var = self.targets[split]
        return (ys.mean(1) - mean).pow(2).mean() + (ys.var(1) - var).pow(2).mean()

    def fit_loss(self, model: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z0 = self.y0.expand(idx.numel(), self.dim)
        t = self.steer.perturb(self.t) if self.steer is not None else self.t
        bm = model.brownian(z0, t, seed=int(torch.randint(2**31, (), generator=self.gen)))
        sol = model.solve_regularized(z0, t, bm)
        return self._moments_loss(sol.ys), sol.penalty

    def predict(self, model: nn.Module, split: str = "test") -> Any:
        z0 = self.y0.expand(self.n_eval_paths, self.dim)
        return model(z0, self.t, model.brownian(z0, self.t, seed=self.eval_seeds[split]))

    def score(self, prediction: Any, split: str = "test") -> float:
        return self._moments_loss(prediction, split).item()

    def true_field_nfe(self, split: str) -> int | None:
        if split not in self._floor:
            sde = self.true_sde()
            if sde is None:
                self._floor[split] = None
            else:
                true = NeuralSDE(
                    _Drift(sde), _Noise(sde), rtol=self.rtol, atol=self.atol, dt0=self.dt0
                ).to(self.y0.device)
                with torch.no_grad():
                    self.predict(true, split)
                self._floor[split] = true.nfe
        return self._floor[split]


class _Drift(nn.Module):
    def __init__(self, sde: Any) -> None:
        super().__init__()
        self.sde = sde

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.sde.f(t, y)


class _Noise(_Drift):
    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.sde.g(t, y)


class SpiralSDE(MomentSDEProblem):
    """The spiral SDE (Pal et al. 2021): fit the per-time mean and variance of 2000 reference
    paths at 30 times on ``[0, 1]``; drift ``MLP(z^3)`` (see :class:`MomentSDEProblem`)."""

    name = "spiral-sde"
    iters, quick_iters = 120, 40
    options = {"steer": {"b": 0.015}}
    weights = {"local-error": (10.0, 1.0)}

    def moments(self, seed: int) -> SpiralSDEData:
        return spiral_sde_data(seed=seed)

    def make_drift(self) -> nn.Module:
        return MLPField(2, 50, time=False, cubic=True)

    def true_sde(self) -> Any:
        return spiral_sde()


class LatentODEProblem(RegularizationProblem):
    """A latent ODE (GRU encoder, ODE in a 4-d latent space, linear decoder) on 640 damped
    sinusoids, each seen at ~40 % of 50 irregular times (512 train / 128 test), plus 128
    validation series drawn independently (seed 1). Fit: masked reconstruction MSE + 1e-3 KL;
    scored by the MSE at all times (interpolation)."""

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
    n_series, n_train, n_val = 640, 512, 128

    def load(self, device: torch.device) -> None:
        data = irregular_series_data(n_series=self.n_series)
        self.t, self.x, self.mask, self.full = (v.to(device) for v in data)
        _, xv, mv, fv = (v.to(device) for v in irregular_series_data(n_series=self.n_val, seed=1))
        n = self.n_train
        self.eval_data = {
            "test": (self.x[n:], self.mask[n:], self.full[n:]),
            "val": (xv, mv, fv),
        }

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

    def predict(self, model: nn.Module, split: str = "test") -> Any:
        x, mask, _ = self.eval_data[split]
        xh, _ = model(x, mask, self.t)
        return xh

    def score(self, prediction: Any, split: str = "test") -> float:
        return (prediction - self.eval_data[split][2]).pow(2).mean().item()
