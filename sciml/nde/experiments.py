"""The four regularization experiments, each trainable with any regularizer, one row per run.

``run(task, method, ...)`` trains a model from a fixed seed and returns a dict with the papers'
columns: the task metric (accuracy or loss), training time, prediction time, training NFE (mean
per iteration, forward evaluations, regularizer included) and prediction NFE (one adaptive
``dopri5`` solve of the whole test set, or the mean per test batch for the SDE). Prediction always
uses the plain torchdiffeq / torchsde solve, so every method is judged by the solver a user runs.

Tasks: ``spiral-ode``, ``spiral-sde``, ``digits``, ``latent-ode``. Methods: ``none``, ``steer``,
``rnode``, ``error``, ``stiffness``, ``local-error`` (and ``local-stiffness``); the SDE task
supports ``none``, ``steer`` and ``local-error``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

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
from sciml.nde.regularizers import (
    RNODE,
    STEER,
    GlobalError,
    GlobalStiffness,
    LocalRegularizer,
    Unregularized,
)
from sciml.nde.schedules import ExponentialDecay

__all__ = ["TASKS", "METHODS", "SDE_METHODS", "TaskConfig", "CONFIGS", "make_regularizer", "run"]

TASKS = ("spiral-ode", "spiral-sde", "digits", "latent-ode")
METHODS = ("none", "steer", "rnode", "error", "stiffness", "local-error")
SDE_METHODS = ("none", "steer", "local-error")


@dataclass(frozen=True)
class TaskConfig:
    """Training budget and regularization weights of one task.

    ``weights[method] = (start, end)``: exponential decay of the penalty weight over training.
    """

    iters: int
    quick_iters: int
    lr: float
    rtol: float
    atol: float
    steer_b: float
    weights: dict[str, tuple[float, float]]


CONFIGS: dict[str, TaskConfig] = {
    "digits": TaskConfig(
        iters=400,
        quick_iters=120,
        lr=1e-2,
        rtol=1e-5,
        atol=1e-5,
        steer_b=0.5,
        weights={
            "rnode": (0.01, 0.01),
            "error": (1.0, 0.1),
            "stiffness": (0.1, 0.01),
            "local-error": (1.0, 0.1),
            "local-stiffness": (0.1, 0.01),
        },
    ),
    "spiral-ode": TaskConfig(
        iters=300,
        quick_iters=80,
        lr=1e-2,
        rtol=1e-5,
        atol=1e-5,
        steer_b=0.025,
        weights={
            "rnode": (0.01, 0.01),
            "error": (0.01, 0.001),
            "stiffness": (0.001, 0.0001),
            "local-error": (0.1, 0.01),
            "local-stiffness": (0.01, 0.001),
        },
    ),
    "latent-ode": TaskConfig(
        iters=200,
        quick_iters=60,
        lr=1e-2,
        rtol=1e-4,
        atol=1e-4,
        steer_b=0.05,
        weights={
            "rnode": (0.01, 0.01),
            "error": (0.01, 0.001),
            "stiffness": (0.001, 0.0001),
            "local-error": (0.1, 0.01),
            "local-stiffness": (0.01, 0.001),
        },
    ),
    "spiral-sde": TaskConfig(
        iters=120,
        quick_iters=40,
        lr=1e-2,
        rtol=1e-2,
        atol=1e-2,
        steer_b=0.015,
        weights={"local-error": (10.0, 1.0)},
    ),
}


def make_regularizer(method: str, *, steer_b: float, generator: torch.Generator | None = None):
    """Registry from CLI names to regularizer objects (the edge of the library)."""
    if method == "none":
        return Unregularized()
    if method == "steer":
        return STEER(steer_b, generator=generator)
    if method == "rnode":
        return RNODE(generator=generator)
    if method == "error":
        return GlobalError()
    if method == "stiffness":
        return GlobalStiffness()
    if method in ("local-error", "local-stiffness"):
        return LocalRegularizer(kind=method.split("-")[1], generator=generator)
    raise ValueError(f"method must be one of {METHODS + ('local-stiffness',)}, got {method!r}")


def _weight(cfg: TaskConfig, method: str, iters: int, scale: float) -> ExponentialDecay | None:
    if method not in cfg.weights:
        return None
    w0, w1 = cfg.weights[method]
    return ExponentialDecay(w0 * scale, w1 * scale, max(iters, 1))


def _progress(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, leave=False, mininterval=1.0)


def _row(task, method, metric, value, t_train, t_pred, nfe_train, nfe_pred, iters, **extra):
    return {
        "task": task,
        "method": method,
        "metric": metric,
        "value": float(value),
        "train_time_s": float(t_train),
        "predict_time_s": float(t_pred),
        "train_nfe": float(nfe_train),
        "predict_nfe": float(nfe_pred),
        "iters": int(iters),
        **extra,
    }


def _run_digits(method, iters, cfg, device, progress, weight_scale) -> dict[str, Any]:
    xtr, ytr, xte, yte = (v.to(device) for v in digits_data())
    reg = make_regularizer(method, steer_b=cfg.steer_b)
    model = ODEClassifier(64, 10, dim=32, hidden=64, rtol=cfg.rtol, atol=cfg.atol, regularizer=reg)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, iters)
    w = _weight(cfg, method, iters, weight_scale)
    nfe = 0
    bs = 128
    t0, c0 = time.perf_counter(), time.process_time()
    with _progress(iters, f"digits/{method}", progress) as bar:
        for it in range(iters):
            idx = torch.randint(len(xtr), (bs,), device=device)
            model.ode.reset_nfe()
            logits, pen = model.forward_regularized(xtr[idx])
            loss = nn.functional.cross_entropy(logits, ytr[idx])
            if w is not None:
                loss = loss + w(it) * pen
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            nfe += model.ode.nfe
            bar.set_postfix(loss=f"{loss.item():.3f}", nfe=model.ode.nfe)
            bar.update()
    t_train = time.perf_counter() - t0
    c_train = time.process_time() - c0
    model.eval()
    with torch.no_grad():
        model.ode.reset_nfe()
        t0 = time.perf_counter()
        acc = (model(xte).argmax(-1) == yte).float().mean().item()
        t_pred = time.perf_counter() - t0
    return _row(
        "digits",
        method,
        "test accuracy",
        acc,
        t_train,
        t_pred,
        nfe / iters,
        model.ode.nfe,
        iters,
        train_cpu_s=c_train,
    )


class _TrueSpiral(nn.Module):
    def forward(self, t, y):
        return (y**3) @ torch.tensor(SPIRAL_A, dtype=y.dtype, device=y.device)


def _run_spiral_ode(method, iters, cfg, device, progress, weight_scale) -> dict[str, Any]:
    # torchdiffeq's demo recipe: windows of 10 observations from the true trajectory on [0, 5]
    # (100 times); scored on all windows at once (one batched solve, whose NFE is reported).
    t, y = spiral_ode_data(n_times=100, t_end=5.0)
    t, y = t.to(device), y.to(device)
    batch_time, batch_size = 10, 32
    reg = make_regularizer(method, steer_b=cfg.steer_b)
    field = MLPField(2, 50, depth=1, time=False, cubic=True)
    model = NeuralODE(field, rtol=cfg.rtol, atol=cfg.atol, regularizer=reg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    w = _weight(cfg, method, iters, weight_scale)
    nfe = 0
    t0, c0 = time.perf_counter(), time.process_time()
    with _progress(iters, f"spiral-ode/{method}", progress) as bar:
        for it in range(iters):
            s = torch.randint(len(t) - batch_time, (batch_size,), device=device)
            y0 = y[s]
            ys = torch.stack([y[s + i] for i in range(batch_time)])  # [batch_time, B, 2]
            model.reset_nfe()
            sol = model.solve_regularized(y0, t[:batch_time])
            loss = (sol.ys - ys).abs().mean()
            if w is not None:
                loss = loss + w(it) * sol.penalty
            opt.zero_grad()
            loss.backward()
            opt.step()
            nfe += model.nfe
            bar.set_postfix(loss=f"{loss.item():.4f}", nfe=model.nfe)
            bar.update()
    t_train = time.perf_counter() - t0
    c_train = time.process_time() - c0
    with torch.no_grad():  # every window of the trajectory, solved as one batch
        s = torch.arange(len(t) - batch_time + 1, device=device)
        ys = torch.stack([y[s + i] for i in range(batch_time)])
        model.reset_nfe()
        t0 = time.perf_counter()
        pred = model(y[s], t[:batch_time])
        t_pred = time.perf_counter() - t0
        mse = (pred - ys).pow(2).mean().item()
        # reference: what the true vector field costs the same solver on the same batch
        true_f = NFECounter(_TrueSpiral().to(device))
        odeint(true_f, y[s], t[:batch_time], rtol=cfg.rtol, atol=cfg.atol)
    return _row(
        "spiral-ode",
        method,
        "window MSE",
        mse,
        t_train,
        t_pred,
        nfe / iters,
        model.nfe,
        iters,
        train_cpu_s=c_train,
        true_field_predict_nfe=true_f.nfe,
    )


class _Diffusion(nn.Module):
    """Diagonal diffusion ``g(t, y) = y * s(y)`` with a small learned positive scale."""

    def __init__(self, dim: int):
        super().__init__()
        self.lin = nn.Linear(dim, dim)

    def forward(self, t, y):
        return y * 0.2 * torch.sigmoid(self.lin(y))


def _run_spiral_sde(method, iters, cfg, device, progress, weight_scale) -> dict[str, Any]:
    if method not in SDE_METHODS:
        raise ValueError(f"spiral-sde supports methods {SDE_METHODS}, got {method!r}")
    data = spiral_sde_data()
    t, mean, var, y0 = (v.to(device) for v in (data.t, data.mean, data.var, data.y0))
    n_paths = 100
    model = NeuralSDE(
        MLPField(2, 50, time=False, cubic=True),
        _Diffusion(2),
        rtol=cfg.rtol,
        atol=cfg.atol,
        dt0=0.01,
        regularize="local-error" if method == "local-error" else None,
    ).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    w = _weight(cfg, method, iters, weight_scale)
    gen = torch.Generator().manual_seed(1)
    nfe = 0

    def moments_loss(ys):
        return (ys.mean(1) - mean).pow(2).mean() + (ys.var(1) - var).pow(2).mean()

    t0, c0 = time.perf_counter(), time.process_time()
    with _progress(iters, f"spiral-sde/{method}", progress) as bar:
        for it in range(iters):
            z0 = y0.expand(n_paths, 2)
            tt = t
            if method == "steer":
                tt = t.clone()
                tt[-1] = tt[-1] + (2 * torch.rand((), generator=gen).item() - 1) * cfg.steer_b
            bm = model.brownian(z0, tt, seed=int(torch.randint(2**31, (), generator=gen)))
            model.reset_nfe()
            sol = model.solve_regularized(z0, tt, bm)
            loss = moments_loss(sol.ys)
            if w is not None:
                loss = loss + w(it) * sol.penalty
            opt.zero_grad()
            loss.backward()
            opt.step()
            nfe += model.nfe
            bar.set_postfix(loss=f"{loss.item():.4f}", nfe=model.nfe)
            bar.update()
    t_train = time.perf_counter() - t0
    c_train = time.process_time() - c0
    with torch.no_grad():
        z0 = y0.expand(1000, 2)
        model.reset_nfe()
        t0 = time.perf_counter()
        ys = model(z0, t, model.brownian(z0, t, seed=12345))
        t_pred = time.perf_counter() - t0
        loss = moments_loss(ys).item()
    return _row(
        "spiral-sde",
        method,
        "moment loss",
        loss,
        t_train,
        t_pred,
        nfe / iters,
        model.nfe,
        iters,
        train_cpu_s=c_train,
    )


def _run_latent_ode(method, iters, cfg, device, progress, weight_scale) -> dict[str, Any]:
    t, x, mask, full = irregular_series_data(n_series=640)
    t, x, mask, full = (v.to(device) for v in (t, x, mask, full))
    ntr = 512
    reg = make_regularizer(method, steer_b=cfg.steer_b)
    model = LatentODE(1, latent=4, hidden=32, rec_hidden=32, rtol=cfg.rtol, atol=cfg.atol)
    model.ode.regularizer = reg
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    w = _weight(cfg, method, iters, weight_scale)
    nfe = 0
    bs = 64
    t0, c0 = time.perf_counter(), time.process_time()
    with _progress(iters, f"latent-ode/{method}", progress) as bar:
        for it in range(iters):
            idx = torch.randint(ntr, (bs,), device=device)
            model.ode.reset_nfe()
            xh, kl, pen = model.forward_regularized(x[idx], mask[idx], t)
            m = mask[idx]
            if method == "steer":  # STEER moved the last output time; drop it from the fit
                m = m.clone()
                m[:, -1] = 0
            rec = ((xh - x[idx]).pow(2) * m).sum() / m.sum()
            loss = rec + 1e-3 * kl.mean()
            if w is not None:
                loss = loss + w(it) * pen
            opt.zero_grad()
            loss.backward()
            opt.step()
            nfe += model.ode.nfe
            bar.set_postfix(loss=f"{loss.item():.4f}", nfe=model.ode.nfe)
            bar.update()
    t_train = time.perf_counter() - t0
    c_train = time.process_time() - c0
    model.eval()
    with torch.no_grad():
        model.ode.reset_nfe()
        t0 = time.perf_counter()
        xh, _ = model(x[ntr:], mask[ntr:], t)
        t_pred = time.perf_counter() - t0
        mse = (xh - full[ntr:]).pow(2).mean().item()
    return _row(
        "latent-ode",
        method,
        "test MSE (all times)",
        mse,
        t_train,
        t_pred,
        nfe / iters,
        model.ode.nfe,
        iters,
        train_cpu_s=c_train,
    )


_RUNNERS = {
    "digits": _run_digits,
    "spiral-ode": _run_spiral_ode,
    "spiral-sde": _run_spiral_sde,
    "latent-ode": _run_latent_ode,
}


def run(
    task: str,
    method: str,
    *,
    quick: bool = False,
    iters: int | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = True,
    weight_scale: float = 1.0,
) -> dict[str, Any]:
    """Train ``task`` with regularization ``method`` from ``seed``; return one table row.

    Args:
        task: one of :data:`TASKS`. method: one of :data:`METHODS` (``spiral-sde``:
            :data:`SDE_METHODS`).
        quick: the small budget (``TaskConfig.quick_iters``); iters: override the budget.
        weight_scale: multiply the task's regularization weights (for sweeps).
    """
    if task not in _RUNNERS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    if method not in METHODS + ("local-stiffness",):
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    cfg = CONFIGS[task]
    n = iters if iters is not None else (cfg.quick_iters if quick else cfg.iters)
    if n < 1:
        raise ValueError(f"iters must be >= 1, got {n}")
    torch.manual_seed(seed)
    return _RUNNERS[task](method, n, cfg, torch.device(device), progress, weight_scale)
