"""``sciml solve gp``: solve a registered GP-HM test problem, print a summary, write a PNG.

The handler body of :mod:`sciml.commands.solve` (imported only when the command runs: torch
and the solver load here, never while the parser is built).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from sciml.io import check_out_dir, check_out_path
from sciml.solvers.gp import (
    Adam,
    AdamLBFGS,
    GaussNewton,
    SpectralMixturePrior,
    SpectrumInit,
    StudentT,
    UniformInit,
    choose_grid,
    get_problem,
    solve_gp,
)
from sciml.solvers.gp.densities import Gaussian
from sciml.workflows.gp_figures import plot_gp_solution

__all__ = ["solve_gp_command"]

#: the command line's names for the fit strategies and spectral densities
STRATEGIES = {
    "gauss-newton": lambda o: GaussNewton(newton_steps=o["newton_steps"], adam_steps=o["adam_steps"],
                                          lr=o["lr"]),
    "adam": lambda o: Adam(steps=o["adam_steps"], lr=o["lr"]),
    "adam+lbfgs": lambda o: AdamLBFGS(adam_steps=o["adam_steps"], lbfgs_steps=o["lbfgs_steps"],
                                      lr=o["lr"]),
}  # fmt: skip
DENSITY_NAMES = {"gaussian": Gaussian, "student_t": StudentT}


def solve_gp_command(
    *,
    problem: str,
    method: str = "gauss-newton",
    init: str = "spectrum",
    n: list[int] | None = None,
    adam_steps: int = 200,
    newton_steps: int = 3,
    lbfgs_steps: int = 0,
    lr: float = 1e-2,
    num_mixtures: int = 30,
    density: str = "gaussian",
    device: str | None = None,
    out: str | Path = "out/gp",
    overwrite: bool = False,
    progress: bool = True,
) -> dict:
    """Run one problem; returns (and writes to ``out/<problem>.json``) a summary dict, and
    writes ``out/<problem>.png`` (solution, error, learned spectrum). The collocation grid is
    chosen from the spectra of the forcing and the boundary data
    (:func:`~sciml.solvers.gp.auto_grid.choose_grid`) unless ``n`` (``--n``) gives it.
    Existing outputs are refused (before any work) unless ``overwrite``."""
    p = get_problem(problem)
    out = check_out_dir(out)
    for suffix in (".json", ".png"):
        check_out_path(out / f"{problem}{suffix}", overwrite=overwrite)
    grid = p.grid
    auto = None
    if n:  # the override
        if len(n) not in (1, grid.ndim):
            raise ValueError(f"--n needs 1 or {grid.ndim} values for {problem}, got {n}")
        grid = grid.with_shape(n * grid.ndim if len(n) == 1 else n)
    else:  # from the spectra of the forcing and the boundary data
        choice = choose_grid(p.pde, grid.bounds, boundary=p.boundary, faces=p.faces)
        grid, auto = choice.grid, choice.frequencies
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if method not in STRATEGIES:
        raise ValueError(f"--method must be one of {list(STRATEGIES)}, got {method!r}")
    if density not in DENSITY_NAMES:
        raise ValueError(f"--density must be one of {list(DENSITY_NAMES)}, got {density!r}")
    options = {"adam_steps": adam_steps, "newton_steps": newton_steps,
               "lbfgs_steps": lbfgs_steps, "lr": lr}  # fmt: skip
    sol = solve_gp(
        p.pde,
        grid,
        p.boundary,
        faces=p.faces,
        method=STRATEGIES[method](options),
        prior=SpectralMixturePrior(num_mixtures=num_mixtures, density=DENSITY_NAMES[density]()),
        init=UniformInit(max_frequency=p.max_frequency) if init == "uniform" else SpectrumInit(),
        exact=p.exact,
        test_points=grid.refine(2),
        progress=progress,
        device=device,
    )
    out.mkdir(parents=True, exist_ok=True)
    png = plot_gp_solution(
        sol.model,
        out / f"{problem}.png",
        exact=p.exact,
        true_frequencies=p.true_frequencies,
        title=f"{problem}: {method}, rel L2 {sol.final_rel_l2:.2e}",
    )
    summary = {
        "problem": problem,
        "description": p.description,
        "grid": list(grid.shape),
        "grid_choice": "automatic" if auto is not None else "--n",
        "highest_frequencies": auto,
        "method": method,
        "init": init,
        "rel_l2": sol.final_rel_l2,
        "steps": sol.steps,
        "evals": sol.evals,
        "wall_time_s": sol.wall_time,
        "time_to_1e-3_s": sol.time_to_target,
        "peaks_found": sol.peaks,
        "dominant_frequency": {
            c: float(sol.model.dominant_frequencies(d, 1)[0])
            for d, c in enumerate(sol.model.letters)
        },
        "true_frequencies": p.true_frequencies,
        "png": str(png),
    }
    (out / f"{problem}.json").write_text(json.dumps(summary, indent=2))
    print(
        f"{problem}: rel L2 {sol.final_rel_l2:.3e} ({method}, grid {list(grid.shape)}, "
        f"{sol.steps} steps, {sol.wall_time:.1f} s) -> {png}"
    )
    return summary
