"""Penalty-weight sweeps: a regularizer that picks its own weight on validation data.

:func:`sweep` trains the unregularized model and, for each regularizer, a geometric ladder of
penalty weights (:func:`weight_ladder`: by default 5 weights a factor ``sqrt(10)`` apart,
centred on the problem's default), each from the same seeds. Every model is scored on the
problem's *validation* split (error, prediction NFE, prediction wall time); the selection rule
(:func:`sciml.nde.selection.select_weight`) then takes the weight that cuts the prediction NFE
most while the mean validation error stays within ``tolerance`` (1.05x) of the unregularized
model's, or keeps the unregularized model when no weight does. Only then is the *test* split
looked at, for the baseline and the chosen weight only; the summary gives test numbers as
mean +- sd over seeds with per-seed paired ratios to the baseline, next to the NFE the true
dynamics need where they are known (the floor).

:func:`sweep_report` renders the validation ladder and the test summary as markdown and
:func:`plot_pareto` draws the Pareto front (validation error against prediction NFE and
prediction time). Weights are the *start* weights of the problem's exponentially decaying
schedule (the end weight keeps the default's end/start ratio).

    >>> from sciml.nde.registry import make_problem
    >>> plan = plan_sweep(make_problem("van-der-pol"), ["local-error"], points=3)
    >>> [round(w, 4) for w in plan["local-error"]]
    [0.0316, 0.1, 0.3162]
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sciml.nde.problems import RegularizationProblem
from sciml.nde.selection import Candidate, pareto_front, select_weight, within_tolerance
from sciml.workflows.nde_experiment import train_model
from sciml.workflows.tables import markdown_table

__all__ = [
    "SweepPoint",
    "SweepResult",
    "weight_ladder",
    "plan_sweep",
    "sweep",
    "sweep_report",
    "summary_table",
    "plot_pareto",
]

#: the default ladder: 5 weights, a factor sqrt(10) apart (two decades around the default)
DEFAULT_POINTS = 5
DEFAULT_FACTOR = math.sqrt(10.0)


def weight_ladder(
    center: float, points: int = DEFAULT_POINTS, factor: float = DEFAULT_FACTOR
) -> list[float]:
    """``points`` weights ``center * factor**k``, ``k`` symmetric around 0 (so ``center`` is on
    the ladder for an odd ``points``).

    >>> [round(w, 3) for w in weight_ladder(1.0, 3, 10.0)]
    [0.1, 1.0, 10.0]
    """
    if not center > 0:
        raise ValueError(f"the ladder's centre weight must be > 0, got {center}")
    if not isinstance(points, int) or points < 2:
        raise ValueError(f"a sweep needs at least 2 weights (points >= 2), got {points}")
    if not factor > 1:
        raise ValueError(f"factor must be > 1, got {factor}")
    return [center * factor ** (k - (points - 1) / 2) for k in range(points)]


def plan_sweep(
    problem: RegularizationProblem,
    names: Sequence[str],
    weights: Sequence[float] | None = None,
    *,
    points: int = DEFAULT_POINTS,
    factor: float = DEFAULT_FACTOR,
) -> dict[str, list[float]]:
    """The weights each regularizer ``name`` will be trained with: ``weights`` (sorted, the
    same for every regularizer) or the :func:`weight_ladder` around the problem's default.
    Raises ``ValueError`` naming the valid choices for a regularizer without a penalty weight
    on this problem, a non-positive weight, or fewer than 2 weights; checked before any
    training."""
    valid = problem.weighted()
    if not names:
        raise ValueError(f"{problem.name}: name at least one regularizer to sweep, from {valid}")
    for name in names:
        if name not in valid:
            raise ValueError(
                f"{problem.name}: a sweep varies the penalty weight of one of {valid}, got {name!r}"
            )
    if weights is not None:
        ws = sorted({float(w) for w in weights})
        if not all(w > 0 and math.isfinite(w) for w in ws):
            raise ValueError(f"weights must be finite and > 0, got {list(weights)}")
        if len(ws) < 2:
            raise ValueError(
                f"a sweep needs at least 2 different weights, got {list(weights)} "
                "(pass two or more --weights, or --points >= 2)"
            )
        return {name: list(ws) for name in dict.fromkeys(names)}
    return {
        name: weight_ladder(problem.default_weight(name), points, factor)
        for name in dict.fromkeys(names)
    }


#: the training statistics of a run (:class:`~sciml.workflows.nde_experiment.TrainedModel`)
TRAIN_KEYS = ("train_time_s", "train_cpu_s", "train_nfe", "iters")


def _mean(xs: Sequence[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return statistics.fmean(vals) if vals else None


def _sd(xs: Sequence[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return statistics.stdev(vals) if len(vals) > 1 else None


@dataclass
class SweepPoint:
    """One ``(method, weight)`` of a sweep over its seeds: per-seed validation rows (from
    :meth:`RegularizationProblem.evaluate`) and training statistics. ``weight`` is 0 for the
    unregularized model."""

    method: str
    weight: float
    seeds: list[int] = field(default_factory=list)
    val: list[dict[str, Any]] = field(default_factory=list)
    train: list[dict[str, Any]] = field(default_factory=list)

    def _rows(self, key: str) -> list[dict[str, Any]]:
        return self.train if key in TRAIN_KEYS else self.val

    def mean(self, key: str) -> float | None:
        """Mean over seeds of a validation quantity (or a training one, :data:`TRAIN_KEYS`)."""
        return _mean([r.get(key) for r in self._rows(key)])

    def sd(self, key: str) -> float | None:
        """Standard deviation over seeds (``None`` for one seed)."""
        return _sd([r.get(key) for r in self._rows(key)])

    def candidate(self) -> Candidate:
        """The point as the selection rule sees it (means over seeds)."""
        return Candidate(
            self.weight, self.mean("error"), self.mean("predict_nfe"), self.mean("predict_time_s")
        )


@dataclass
class SweepResult:
    """What :func:`sweep` returns.

    Attributes:
        task, metric: the problem's name and metric; tolerance: the selection factor.
        steps, seeds: the training budget and seeds of every model.
        baseline: the unregularized :class:`SweepPoint`; points: the regularized ones.
        selected: regularizer name -> chosen weight, or ``None`` (unregularized kept).
        test: per-seed test rows of the baseline and of each chosen weight.
        summary: per method, test numbers as mean +- sd over seeds and paired ratios to the
            baseline (see :func:`sweep`).
    """

    task: str
    metric: str
    tolerance: float
    steps: int
    seeds: list[int]
    baseline: SweepPoint
    points: list[SweepPoint]
    selected: dict[str, float | None]
    test: list[dict[str, Any]]
    summary: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""

        def point(p: SweepPoint) -> dict[str, Any]:
            c = p.candidate()
            return {
                "method": p.method,
                "weight": p.weight,
                "val_error": c.val_error,
                "val_error_sd": p.sd("error"),
                "val_predict_nfe": c.predict_nfe,
                "val_predict_time_s": c.predict_time_s,
                "train_cpu_s": p.mean("train_cpu_s"),
                "within_tolerance": within_tolerance(c, self.baseline.candidate(), self.tolerance),
                "per_seed": {"seeds": p.seeds, "val": p.val, "train": p.train},
            }

        return {
            "task": self.task,
            "metric": self.metric,
            "tolerance": self.tolerance,
            "steps": self.steps,
            "seeds": self.seeds,
            "ladder": [point(self.baseline), *[point(p) for p in self.points]],
            "selected": self.selected,
            "summary": self.summary,
            "test": self.test,
        }


def _paired(rows: list[dict], base: list[dict], key: str) -> list[float | None]:
    out: list[float | None] = []
    for r, b in zip(rows, base, strict=True):
        v, v0 = r.get(key), b.get(key)
        out.append(v / v0 if v is not None and v0 else None)
    return out


def _summarise(
    method: str,
    weight: float | None,
    rows: list[dict],
    base: list[dict],
    ladder_cpu: float | None,
) -> dict[str, Any]:
    s: dict[str, Any] = {"method": method, "weight": weight, "n_seeds": len(rows)}
    for key in ("value", "error", "predict_nfe", "predict_time_s", "train_cpu_s", "train_time_s"):
        s[key] = _mean([r[key] for r in rows])
        s[f"{key}_sd"] = _sd([r[key] for r in rows])
    s["true_field_predict_nfe"] = rows[0].get("true_field_predict_nfe")
    for key, name in (
        ("predict_nfe", "predict_nfe_ratio"),
        ("predict_time_s", "predict_time_ratio"),
        ("error", "error_ratio"),
        ("train_cpu_s", "train_cpu_ratio"),
    ):
        ratios = _paired(rows, base, key)
        s[name], s[f"{name}_sd"] = _mean(ratios), _sd(ratios)
    s["ladder_train_cpu_ratio"] = ladder_cpu
    return s


def sweep(
    problem: RegularizationProblem,
    regularizers: Sequence[Any],
    *,
    steps: int,
    weights: Sequence[float] | None = None,
    points: int = DEFAULT_POINTS,
    factor: float = DEFAULT_FACTOR,
    seeds: Sequence[int] = (0,),
    tolerance: float = 1.05,
    repeats: int = 5,
    device: str = "cpu",
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> SweepResult:
    """Sweep the penalty weight of each of ``regularizers`` on ``problem``; choose on
    validation data, report test numbers for the choice only.

    Args:
        problem: the experiment. regularizers: regularizer objects (e.g.
            ``problem.make_regularizer("local-error")``), each with a penalty weight on this
            problem (:meth:`RegularizationProblem.weighted`); the unregularized baseline is
            always trained.
        steps: optimiser steps of every model. weights, points, factor: the ladder (see
            :func:`plan_sweep`). seeds: every weight is trained from each seed; the selection
            uses the means over seeds.
        tolerance: the chosen weight's mean validation error is at most ``tolerance`` times
            the baseline's. repeats: prediction-time repeats (the fastest is kept).
        log: called with one line after every trained model (progress for long sweeps).

    Returns:
        :class:`SweepResult`. Its ``summary`` has one row per method (``"none"`` first) with
        the test ``value``/``error``/``predict_nfe``/``predict_time_s``/``train_cpu_s`` means
        and ``_sd``s, the true field's NFE, and per-seed paired ratios to the baseline
        (``predict_nfe_ratio``, ``predict_time_ratio``, ``error_ratio``, ``train_cpu_ratio``,
        each with ``_sd``); ``ladder_train_cpu_ratio`` is the regularizer's training CPU,
        the median over its ladder of weights, relative to the baseline. A regularizer with no acceptable weight
        reports the baseline's numbers with ``weight`` ``None``.
    """
    if not regularizers:
        raise ValueError(f"{problem.name}: name at least one regularizer from {problem.weighted()}")
    by_name = {reg.name: reg for reg in regularizers}
    plan = plan_sweep(problem, list(by_name), weights, points=points, factor=factor)
    seeds = list(dict.fromkeys(int(s) for s in seeds))
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    if not tolerance >= 1.0:
        raise ValueError(f"tolerance must be >= 1, got {tolerance}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"iters must be >= 1, got {steps}")
    models: dict[tuple[str, float, int], Any] = {}

    def train(reg: Any, weight: float) -> SweepPoint:
        default = problem.default_weight(reg.name)
        scale = weight / default if default else 1.0
        point = SweepPoint(reg.name, weight if default else 0.0)
        for seed in seeds:
            trained = train_model(
                problem, reg, steps=steps, weight_scale=scale, seed=seed, device=device,
                progress=progress,
            )  # fmt: skip
            row = problem.evaluate(trained.model, "val", repeats=repeats)
            point.seeds.append(seed)
            point.val.append(row)
            point.train.append(trained.stats)
            models[(point.method, point.weight, seed)] = trained.model
            if log is not None:
                log(
                    f"{problem.name} {point.method:>12} w={point.weight:<9.3g} seed {seed}: "
                    f"val error {row['error']:.4g}, predict NFE {row['predict_nfe']}, "
                    f"train CPU {trained.stats['train_cpu_s']:.1f} s"
                )
        return point

    baseline = train(problem.make_regularizer("none"), 0.0)
    swept = [train(by_name[name], w) for name, ws in plan.items() for w in ws]
    base_c = baseline.candidate()
    selected: dict[str, float | None] = {}
    for name in plan:
        cands = [p.candidate() for p in swept if p.method == name]
        choice = select_weight(cands, base_c, tolerance=tolerance)
        selected[name] = None if choice is None else choice.weight

    def test_rows(method: str, weight: float) -> list[dict[str, Any]]:
        point = baseline if method == "none" else next(
            p for p in swept if p.method == method and p.weight == weight
        )  # fmt: skip
        rows = []
        for seed, stats in zip(point.seeds, point.train, strict=True):
            ev = problem.evaluate(models[(method, weight, seed)], "test", repeats=repeats)
            rows.append(
                {"task": problem.name, "method": method, "weight": weight, "seed": seed,
                 "metric": problem.metric, **ev, **stats}
            )  # fmt: skip
        return rows

    base_rows = test_rows("none", 0.0)
    test = list(base_rows)
    summary = [_summarise("none", 0.0, base_rows, base_rows, None)]
    base_cpu = baseline.mean("train_cpu_s")
    for name, weight in selected.items():
        ladder = [p.mean("train_cpu_s") for p in swept if p.method == name]
        ladder = [c for c in ladder if c is not None]
        # the median weight's cost: a weight strong enough to collapse the model trains fast
        # and would flatter a mean
        ladder_cpu = statistics.median(ladder) / base_cpu if base_cpu and ladder else None
        if weight is None:  # no weight kept the error and saved NFE: the baseline stays
            row = _summarise(name, None, base_rows, base_rows, ladder_cpu)
        else:
            rows = test_rows(name, weight)
            test += rows
            row = _summarise(name, weight, rows, base_rows, ladder_cpu)
        summary.append(row)
    models.clear()
    return SweepResult(
        task=problem.name,
        metric=problem.metric,
        tolerance=tolerance,
        steps=steps,
        seeds=seeds,
        baseline=baseline,
        points=swept,
        selected=selected,
        test=test,
        summary=summary,
    )


def _pm(mean: float | None, sd: float | None, fmt: str) -> str | None:
    if mean is None:
        return None
    return format(mean, fmt) if sd is None else f"{format(mean, fmt)} ± {format(sd, fmt)}"


#: the columns of the validation ladder table
LADDER_COLUMNS = [
    ("method", "method", ""),
    ("weight", "weight w0", ".3g"),
    ("val_error", "val error", ""),
    ("val_predict_nfe", "val predict NFE", ".1f"),
    ("val_predict_time_s", "val predict time (s)", ".4f"),
    ("train_cpu_s", "train CPU (s)", ".1f"),
    ("within", "within tol.", ""),
    ("pareto", "Pareto", ""),
    ("chosen", "chosen", ""),
]

#: the columns of the test summary table
SUMMARY_COLUMNS = [
    ("method", "method", ""),
    ("weight", "weight w0", ""),
    ("value", "test value", ""),
    ("predict_nfe", "predict NFE", ""),
    ("true_field_predict_nfe", "true-field NFE (floor)", ".0f"),
    ("predict_time_s", "predict time (s)", ""),
    ("train_cpu_s", "train CPU (s)", ""),
    ("predict_nfe_ratio", "NFE / none", ""),
    ("predict_time_ratio", "time / none", ""),
    ("error_ratio", "test error / none", ""),
    ("train_cpu_ratio", "train CPU / none", ""),
    ("ladder_train_cpu_ratio", "ladder median train CPU / none", ".2f"),
]


def sweep_report(result: SweepResult) -> str:
    """Markdown: the validation ladder (every trained weight; ``within tol.``, ``Pareto`` and
    the ``chosen`` weight marked) and the test summary of the baseline and the chosen weights
    (mean ± sd over seeds, paired ratios; "none kept": no weight qualified, the row is the
    unregularized model's, and only the ladder's training CPU shows what the regularizer
    cost)."""
    base = result.baseline.candidate()
    all_points = [result.baseline, *result.points]
    front = {(c.weight, c.val_error) for c in pareto_front([p.candidate() for p in all_points])}
    ladder = []
    for p in all_points:
        c = p.candidate()
        chosen = p.method != "none" and result.selected.get(p.method) == p.weight
        ladder.append(
            {
                "method": p.method,
                "weight": p.weight,
                "val_error": _pm(c.val_error, p.sd("error"), ".4g"),
                "val_predict_nfe": c.predict_nfe,
                "val_predict_time_s": c.predict_time_s,
                "train_cpu_s": p.mean("train_cpu_s"),
                "within": "yes" if within_tolerance(c, base, result.tolerance) else "no",
                "pareto": "yes" if (c.weight, c.val_error) in front else "",
                "chosen": "**chosen**" if chosen else "",
            }
        )
    n = len(result.seeds)
    return "\n".join(
        [
            f"### {result.task}: validation ladder ({n} seed{'s' * (n > 1)}, {result.steps} "
            f"steps; chosen: fewest NFE within {result.tolerance:g}x the unregularized "
            "validation error)",
            "",
            markdown_table(ladder, LADDER_COLUMNS),
            "",
            f"### {result.task}: test, chosen weights only ({result.metric}; mean ± sd over "
            "seeds, ratios paired per seed)",
            "",
            summary_table([result], task_column=False),
        ]
    )


def summary_table(results: Sequence[SweepResult], *, task_column: bool = True) -> str:
    """Markdown: the test summaries of one or more sweeps (one row per method and task: the
    chosen weight, mean ± sd over seeds, the true field's NFE, paired ratios to ``none``)."""
    rows = []
    for result in results:
        for s in result.summary:
            weight = "—" if s["method"] == "none" else "none kept"
            if s["method"] != "none" and s["weight"] is not None:
                weight = format(s["weight"], ".3g")
            rows.append(
                {
                    "task": result.task,
                    "method": s["method"],
                    "weight": weight,
                    "value": _pm(s["value"], s["value_sd"], ".4g"),
                    "predict_nfe": _pm(s["predict_nfe"], s["predict_nfe_sd"], ".1f"),
                    "true_field_predict_nfe": s["true_field_predict_nfe"],
                    "predict_time_s": _pm(s["predict_time_s"], s["predict_time_s_sd"], ".4f"),
                    "train_cpu_s": _pm(s["train_cpu_s"], s["train_cpu_s_sd"], ".1f"),
                    **{
                        k: _pm(s[k], s[f"{k}_sd"], ".2f")
                        for k in (
                            "predict_nfe_ratio",
                            "predict_time_ratio",
                            "error_ratio",
                            "train_cpu_ratio",
                        )
                    },
                    "ladder_train_cpu_ratio": s["ladder_train_cpu_ratio"],
                }
            )
    columns = ([("task", "task", "")] if task_column else []) + SUMMARY_COLUMNS
    return markdown_table(rows, columns)


def plot_pareto(result: SweepResult, path: str | Path) -> Path:
    """Two panels, validation error (log scale when it spans > 5x) against prediction NFE and
    against prediction wall time: every trained weight (labelled), the unregularized model, the
    tolerance line, the Pareto front and the chosen weights; the true field's NFE on the
    validation batch as a dotted line where known. Writes a PNG at ``path``."""
    # heavy optional dependency (matplotlib): loaded when a figure is drawn
    import matplotlib

    matplotlib.use("Agg")
    # heavy optional dependency (matplotlib): loaded when a figure is drawn
    import matplotlib.pyplot as plt

    path = Path(path)
    base = result.baseline.candidate()
    methods = list(dict.fromkeys(p.method for p in result.points))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    floor = result.baseline.val[0].get("true_field_predict_nfe")
    front = pareto_front([p.candidate() for p in [result.baseline, *result.points]])
    for ax, key, label in (
        (axes[0], "predict_nfe", "prediction NFE (validation batch)"),
        (axes[1], "predict_time_s", "prediction wall time (s, fastest of repeats)"),
    ):
        for i, m in enumerate(methods):
            pts = [p.candidate() for p in result.points if p.method == m]
            xs = [c.val_error for c in pts]
            ys = [getattr(c, key) for c in pts]
            ax.plot(xs, ys, "o-", color=f"C{i}", label=m, alpha=0.8)
            for c, x, y in zip(pts, xs, ys, strict=True):
                ax.annotate(f"{c.weight:.2g}", (x, y), textcoords="offset points",
                            xytext=(4, 4), fontsize=7, color=f"C{i}")  # fmt: skip
            w = result.selected.get(m)
            if w is not None:
                c = next(c for c in pts if c.weight == w)
                ax.plot([c.val_error], [getattr(c, key)], "o", ms=14, mfc="none", mec="red",
                        mew=2, label=f"chosen {m} (w0={w:.2g})")  # fmt: skip
        ax.plot([base.val_error], [getattr(base, key)], "k*", ms=14, label="unregularized")
        if key == "predict_nfe":
            fx = [c.val_error for c in front]
            fy = [c.predict_nfe for c in front]
            ax.step(fx, fy, where="post", color="gray", ls="--", lw=1, label="Pareto front")
            if floor is not None:
                ax.axhline(floor, color="k", ls=":", lw=1, label=f"true field ({floor} NFE)")
        ax.axvline(result.tolerance * base.val_error, color="red", ls="--", lw=1,
                   label=f"{result.tolerance:g}x unregularized error")  # fmt: skip
        errs = [c.val_error for c in front] + [p.candidate().val_error for p in result.points]
        errs = [e for e in errs if e > 0 and math.isfinite(e)]
        if errs and max(errs) > 5 * min(errs):  # spans a decade or so: log scale
            ax.set_xscale("log")
        ax.set_xlabel("validation error (lower is better)")
        ax.set_ylabel(label)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{result.task}: penalty-weight sweep ({len(result.seeds)} seed(s))")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
