"""Measuring a zoo model again: the ``eval`` section of its card says how.

Kinds:

* ``operator-rel-l2`` -- a fresh sample of the card's recipe (``recipe``, ``seed``, ``n``;
  optionally ``ood_recipe`` / ``ood_seed``), generated here, and the model's relative L2 error
  on it (``test_rel_l2``, ``ood_rel_l2``);
* ``dgno-inverse`` -- latent-space inversion of fresh fields of an ``-inverse`` recipe from
  their stored observations (``counts``): relative L2 of the posterior-mean coefficient and
  the share of cells inside the 95% band (``inverse_rel_l2_<count>``, ``coverage_<count>``);
* ``solver-iterations`` -- iterations of the model's solver to ``rtol`` on generated
  pressure-Poisson problems (``iterations_<ndim>d_<n>_<family>[_jump]``);
* ``seismic-imaging`` -- GFI's MAE / RMSE / SSIM of each trained direction on a fresh sample
  of the card's seismic recipe.

:func:`evaluate` returns ``{metric: value}``; :func:`compare` puts them beside the card's.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import torch

from sciml.datasets import generate
from sciml.inverse.latent_inversion import invert_dgno
from sciml.inverse.observations import observations_from_dataset
from sciml.operators.model_file import load_operator
from sciml.operators.point.dgno_task import DGNOLoss, physics_std
from sciml.operators.seismic.evaluation import imaging_scores
from sciml.operators.seismic.imaging_task import load_imaging_model
from sciml.solvers.linear_solve import solve
from sciml.solvers.poisson_problems import make_problem
from sciml.train.data import load_dataset_file
from sciml.train.losses import relative_l2
from sciml.workflows.linear_solvers import build_method
from sciml.zoo import card as zoo_card
from sciml.zoo import load, path

__all__ = ["compare", "evaluate", "problem_key"]


def _sample(recipe: str, n: int, seed: int, folder: Path, params: dict | None = None):
    out = folder / f"{recipe}-{seed}-{n}.h5"
    if not out.exists():
        generate(recipe, n, out, seed=seed, params=params, progress=False)
    return load_dataset_file(out)


@torch.no_grad()
def _rel_l2(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, device) -> float:
    model = model.to(device).eval()
    pred = torch.cat([model(x[i : i + 50].to(device)).float().cpu() for i in range(0, len(x), 50)])
    return float(relative_l2(pred, y.float(), reduction="none").mean())


def problem_key(p: dict) -> str:
    """The metric name of a solver problem ``{"n", "ndim", "family", "density_ratio"}``."""
    jump = "_jump" if p.get("density_ratio") else ""
    return f"iterations_{p.get('ndim', 3)}d_{p['n']}_{p.get('family', 'blobs')}{jump}"


def evaluate(
    name: str,
    *,
    n: int | None = None,
    problems: list[dict] | None = None,
    device: str | torch.device = "cpu",
    workdir: str | Path | None = None,
    kinds: tuple[str, ...] | None = None,
) -> dict[str, float]:
    """Measure the card metrics of zoo model ``name`` again: every section of the card's
    ``eval`` (one dict, or a list of them; ``kinds`` keeps only those kinds). ``n``: fewer or
    more samples than the card's; ``problems``: other solver problems. Data go to ``workdir``
    (default a temporary folder)."""
    c = zoo_card(name)
    specs = c["eval"] if isinstance(c["eval"], list) else [c["eval"]]
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(workdir) if workdir is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for spec in specs:
            if kinds is None or spec.get("kind") in kinds:
                out.update(_evaluate(name, dict(spec), n, problems, device, folder))
    return out


def _evaluate(name: str, spec: dict, n, problems, device, folder: Path) -> dict[str, float]:
    kind = spec.get("kind")
    if kind == "operator-rel-l2":
        model, _ = load(name, device)
        count = n or spec["n"]
        x, y, _ = _sample(spec["recipe"], count, spec["seed"], folder, spec.get("params"))
        out = {"test_rel_l2": _rel_l2(model, x, y, device)}
        if spec.get("ood_recipe"):
            xo, yo, _ = _sample(spec["ood_recipe"], count, spec["ood_seed"], folder)
            out["ood_rel_l2"] = _rel_l2(model, xo, yo, device)
        return out
    if kind == "dgno-inverse":
        return _dgno_inverse(name, spec, n, folder, device)
    if kind == "solver-iterations":
        model_file = path(name)
        out = {}
        for p in problems or spec["problems"]:
            prob = make_problem(
                p["n"], ndim=p.get("ndim", 3), family=p.get("family", "blobs"),
                density_ratio=p.get("density_ratio"), seed=p.get("seed", 0),
            )  # fmt: skip
            if spec["method"] == "lmg-pcg":
                method = build_method("lmg-pcg", lmg_model=model_file)
            else:
                method = build_method(spec["method"], model=str(model_file))
            res = solve(prob.system, prob.b, method, rtol=spec.get("rtol", 1e-6), device=device)
            if not bool(torch.as_tensor(res.converged).all()):
                raise RuntimeError(f"{name}: the solve of {problem_key(p)} did not converge")
            out[problem_key(p)] = float(res.iterations)
        return out
    if kind == "seismic-imaging":
        model, norm, dirs = load_imaging_model(path(name), device)
        count = n or spec["n"]
        v, p, _ = _sample(spec["recipe"], count, spec["seed"], folder, spec.get("params"))
        return imaging_scores(model, norm, dirs, v, p, device=device)
    raise ValueError(f"model card of {name!r}: unknown eval kind {kind!r}")


def _dgno_inverse(name: str, spec: dict, n: int | None, folder: Path, device) -> dict[str, float]:
    model, extra = load_operator(path(name), device)  # the loss settings ride in its extras
    loss = DGNOLoss.from_dict(extra["dgno_loss"])
    count = n or spec["n"]
    data = folder / f"{spec['recipe']}-{spec['seed']}-{count}.h5"
    if not data.exists():
        generate(spec["recipe"], count, data, seed=spec["seed"], progress=False)
    out: dict[str, float] = {}
    settings = spec.get("settings", {})
    for k in spec.get("counts", [100, 25]):
        errs, covs = [], []
        for i in range(count):
            obs, truth, _ = observations_from_dataset(data, i, k)
            post = invert_dgno(model, obs, loss, physics_std=physics_std(extra), seed=i,
                               physics_weight=spec.get("physics_weight", 1.0), **settings)  # fmt: skip
            t = torch.as_tensor(truth)
            errs.append(post.relative_error(t))
            covs.append(post.coverage(t))
        out[f"inverse_rel_l2_{k}"] = float(sum(errs) / len(errs))
        out[f"coverage_{k}"] = float(sum(covs) / len(covs))
    return out


def compare(name: str, measured: dict[str, float]) -> list[dict[str, Any]]:
    """Rows ``{metric, card, measured, ratio}`` for the metrics both hold."""
    c = zoo_card(name)["metrics"]
    rows = []
    for key, value in measured.items():
        ref = c.get(key)
        ratio = value / ref if isinstance(ref, (int, float)) and ref else None
        rows.append({"metric": key, "card": ref, "measured": value, "ratio": ratio})
    return rows
