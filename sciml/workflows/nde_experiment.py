"""One regularization experiment: train through the one Trainer, evaluate, return a table row.

:func:`run_experiment` takes objects -- a :class:`~sciml.nde.problems.RegularizationProblem`
and a regularizer -- builds the model from a fixed seed, trains it with a
:class:`~sciml.nde.task.RegularizedTask` under an iteration budget (the problem's optimiser
settings and penalty-weight schedule), and returns the papers' columns: the metric, training
time (wall clock and process CPU), prediction time, training NFE (mean per step, regularizer
included), prediction NFE (the plain torchdiffeq / torchsde solve) and, where the dynamics are
known, the NFE the true vector field needs on the same batch (the floor).
:func:`train_model` is the training half alone (the weight sweep,
:mod:`sciml.workflows.nde_sweep`, scores its models on validation data first). Names are resolved at the
edge (``sciml nde``, ``benchmarks/nde_regularization.py``) through :mod:`sciml.nde.registry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sciml.nde.problems import RegularizationProblem
from sciml.nde.task import RegularizedTask
from sciml.train.trainer import TrainConfig, Trainer
from sciml.workflows.tables import markdown_table

__all__ = [
    "NDE_COLUMNS",
    "TrainedModel",
    "add_ratios",
    "nde_table",
    "run_experiment",
    "train_config",
    "train_model",
]


def train_config(
    problem: RegularizationProblem, steps: int, *, seed: int = 0, progress: bool = True
) -> TrainConfig:
    """The Trainer settings of ``problem`` for a run of ``steps`` optimiser steps: Adam without
    weight decay at ``problem.lr``, ``problem.scheduler`` over the run, ``problem.batch_size``,
    fp32 (the adaptive solvers' error control wants full precision)."""
    return TrainConfig(
        epochs=steps,  # an upper bound: max_steps ends the run
        max_steps=steps,
        batch_size=problem.batch_size,
        lr=problem.lr,
        optimizer="adam",
        weight_decay=0.0,
        scheduler=problem.scheduler,
        amp="none",
        seed=seed,
        progress=progress,
        extra={"experiment": problem.name},
    )


@dataclass
class TrainedModel:
    """A model trained by :func:`train_model` and its training statistics: ``train_time_s``
    (wall clock), ``train_cpu_s`` (process CPU), ``train_nfe`` (mean per step, regularizer
    included) and ``iters``."""

    model: nn.Module
    stats: dict[str, Any]


def train_model(
    problem: RegularizationProblem,
    regularizer: Any,
    *,
    steps: int,
    weight_scale: float = 1.0,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = True,
    out_dir: str | Path | None = None,
    resume: bool = False,
    stop_after_epoch: int | None = None,
) -> TrainedModel:
    """Train ``problem``'s model with ``regularizer`` for ``steps`` steps from ``seed`` (the
    arguments of :func:`run_experiment`); no evaluation."""
    if not isinstance(problem, RegularizationProblem):
        raise TypeError(f"problem must be a RegularizationProblem, got {type(problem).__name__}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"iters must be >= 1, got {steps}")
    if not weight_scale > 0:
        raise ValueError(f"weight_scale must be > 0, got {weight_scale}")
    problem.check_supported(regularizer.name)
    torch.manual_seed(seed)
    model = problem.build(regularizer)
    task = RegularizedTask(problem, problem.weight(regularizer.name, steps, weight_scale))
    cfg = train_config(problem, steps, seed=seed, progress=progress)
    trainer = Trainer(model, cfg, task=task, out_dir=out_dir, device=device)
    hist = trainer.fit(resume=resume, stop_after_epoch=stop_after_epoch)
    done = sum(h["steps"] for h in hist)
    stats = {
        "train_time_s": hist[-1]["train_time"],
        "train_cpu_s": hist[-1]["train_cpu_time"],
        "train_nfe": sum(h["nfe"] * h["steps"] for h in hist) / max(done, 1),
        "iters": done,
    }
    return TrainedModel(trainer.module, stats)


def run_experiment(
    problem: RegularizationProblem,
    regularizer: Any,
    *,
    steps: int,
    weight_scale: float = 1.0,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = True,
    out_dir: str | Path | None = None,
    resume: bool = False,
    stop_after_epoch: int | None = None,
) -> dict[str, Any]:
    """Train ``problem``'s model with ``regularizer`` for ``steps`` steps from ``seed``; return
    one table row (test split).

    Args:
        problem: the experiment (data, model, fit loss, metric).
        regularizer: a regularizer object (e.g. ``problem.make_regularizer("local-error")``);
            its ``name`` selects the problem's penalty-weight schedule.
        steps: optimiser steps (``problem.iters`` / ``problem.quick_iters`` are the defaults
            of the full and quick runs).
        weight_scale: multiply the problem's penalty weights (for sweeps).
        out_dir: write checkpoints and logs there (``resume`` continues from its ``last.pt``;
            ``stop_after_epoch`` ends early, simulating an interruption).

    Returns:
        ``{"task", "method", "metric", "value", "error", "train_time_s", "train_cpu_s",
        "predict_time_s", "train_nfe", "predict_nfe", "true_field_predict_nfe", "iters",
        ...}`` (``true_field_predict_nfe``: the true dynamics' NFE on the same batch, ``None``
        where they are unknown).
    """
    trained = train_model(
        problem, regularizer, steps=steps, weight_scale=weight_scale, seed=seed,
        device=device, progress=progress, out_dir=out_dir, resume=resume,
        stop_after_epoch=stop_after_epoch,
    )  # fmt: skip
    return {
        "task": problem.name,
        "method": regularizer.name,
        "metric": problem.metric,
        **problem.evaluate(trained.model, "test"),
        **trained.stats,
    }


def add_ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``predict_nfe_ratio``, ``predict_time_ratio``, ``train_time_ratio`` (wall clock),
    ``train_cpu_ratio`` (process CPU time; robust on a shared machine), ``error_ratio`` and
    ``value_delta`` relative to the ``method == "none"`` row of the same task (``None`` when
    that row is missing)."""
    base = {r["task"]: r for r in rows if r["method"] == "none"}

    def ratio(r: dict[str, Any], b: dict[str, Any] | None, key: str) -> float | None:
        v, v0 = r.get(key), b.get(key) if b else None
        return v / v0 if v is not None and v0 else None

    out = []
    for r in rows:
        b = base.get(r["task"])
        r = dict(r)
        r["predict_nfe_ratio"] = ratio(r, b, "predict_nfe")
        r["predict_time_ratio"] = ratio(r, b, "predict_time_s")
        r["train_time_ratio"] = ratio(r, b, "train_time_s")
        r["train_cpu_ratio"] = ratio(r, b, "train_cpu_s")
        r["error_ratio"] = ratio(r, b, "error")
        r["value_delta"] = r["value"] - b["value"] if b else None
        out.append(r)
    return out


#: the columns of :func:`nde_table`: cost (NFE, prediction time, training CPU) beside the metric
NDE_COLUMNS = [
    ("task", "task", ""),
    ("method", "method", ""),
    ("metric", "metric", ""),
    ("value", "value", ".4g"),
    ("predict_nfe", "predict NFE", ".0f"),
    ("true_field_predict_nfe", "true-field NFE (floor)", ".0f"),
    ("predict_time_s", "predict time (s)", ".4f"),
    ("train_cpu_s", "train CPU (s)", ".1f"),
    ("train_time_s", "train time (s)", ".1f"),
    ("train_nfe", "train NFE/iter", ".1f"),
    ("predict_nfe_ratio", "predict NFE / none", ".2f"),
    ("predict_time_ratio", "predict time / none", ".2f"),
    ("train_cpu_ratio", "train CPU / none", ".2f"),
    ("train_time_ratio", "train time / none", ".2f"),
]


def nde_table(rows: list[dict[str, Any]]) -> str:
    """Markdown table: task, method, metric, value, prediction NFE beside the true field's
    (``n/a`` where unknown), prediction time, training CPU and wall time, ratios to ``none``."""
    return markdown_table(add_ratios(rows), NDE_COLUMNS)
