"""Write (or refresh) the model cards of the zoo from what is known about each model and what
`sciml.zoo.evaluate` measures now. Run from the repository root:

    python training/zoo_cards.py dcdm-3d lmg-3d lmg-2d      # measure and write these cards

Each card's `training` section comes from the model file's own card (command, recipe, steps,
seconds) and the `TRAINING` table below (machine, load); `metrics` from a fresh evaluation.
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
import time

import torch

from sciml.zoo import ZOO, write_card
from sciml.zoo.evaluate import evaluate
from sciml.zoo.families import load_family

# the files' own cards name where the files were first written
OLD_PATHS = ("solvers/dcdm/models/dcdm3d.pt", "sciml/zoo/dcdm-3d.pt",
             "solvers/multigrid/models/lmg3d.pt", "sciml/zoo/lmg-3d.pt",
             "solvers/multigrid/models/lmg2d.pt", "sciml/zoo/lmg-2d.pt")  # fmt: skip
MACHINE = f"{platform.machine()} {os.cpu_count()}-core CPU (the shared development VM), 1 thread"

SOLVER_PROBLEMS = [
    {"n": 24, "ndim": 3, "family": "blobs", "seed": 0},
    {"n": 32, "ndim": 3, "family": "blobs", "seed": 0},
    {"n": 32, "ndim": 3, "family": "blobs", "seed": 0, "density_ratio": 1000.0},
]
SOLVER_PROBLEMS_2D = [
    {"n": 64, "ndim": 2, "family": "blobs", "seed": 0},
    {"n": 128, "ndim": 2, "family": "blobs", "seed": 0},
    {"n": 128, "ndim": 2, "family": "blobs", "seed": 0, "density_ratio": 1000.0},
]

BASE = {
    "dcdm-3d": {
        "family": "dcdm",
        "description": "Deep conjugate direction method (DCDM): the 3-D multi-level network "
        "(76,305 parameters, linear in the residual, Jacobi-scaled stencil gate) with the "
        "never-stall safeguard; `sciml solve --method dcdm dcdm-fpcg`, `DCDM()`.",
        "paper": "Kaneda et al., A deep conjugate direction method for iteratively solving "
        "linear systems, ICML 2023",
        "eval": {
            "kind": "solver-iterations",
            "method": "dcdm",
            "rtol": 1e-6,
            "problems": SOLVER_PROBLEMS,
        },
        "notes": "sciml/zoo/dcdm-3d.md: recipe, curriculum, what a GPU run would add.",
        "machine": MACHINE + " (load average 11-15: six sessions)",
    },
    "lmg-3d": {
        "family": "lmg",
        "description": "Learned multigrid cycle for 3-D cell-centred grid systems: per-level "
        "Chebyshev intervals and coarse-correction scales of the Galerkin aggregation V-cycle "
        "(6 numbers, SPD for every value); `sciml solve --method lmg-pcg`, `LearnedMGPCG()`.",
        "paper": "geometric multigrid with learned parts (sciml, issue 23)",
        "eval": {
            "kind": "solver-iterations",
            "method": "lmg-pcg",
            "rtol": 1e-6,
            "problems": SOLVER_PROBLEMS,
        },
        "notes": "sciml/zoo/lmg.md: recipe and what learning bought (2 % fewer iterations).",
        "machine": MACHINE + " (load average ~2)",
    },
    "lmg-2d": {
        "family": "lmg",
        "description": "Learned multigrid cycle for 2-D cell-centred grid systems (6 numbers, "
        "SPD for every value); `sciml solve system --method lmg-pcg` on a 2-D mask.",
        "paper": "geometric multigrid with learned parts (sciml, issue 23)",
        "eval": {
            "kind": "solver-iterations",
            "method": "lmg-pcg",
            "rtol": 1e-6,
            "problems": SOLVER_PROBLEMS_2D,
        },
        "notes": "sciml/zoo/lmg.md: recipe and what learning bought (6 % fewer iterations).",
        "machine": MACHINE + " (load average ~2)",
    },
}


def main(names: list[str]) -> int:
    torch.set_num_threads(1)
    for name in names:
        base = dict(BASE[name])
        model = load_family(base["family"], ZOO / f"{name}.pt")
        own = dict(getattr(model, "card", {}) or {})
        training = {
            "seed": (own.get("recipe") or {}).get("seed", own.get("seed", 0)),
            "steps": own.get("steps"),
            "wall_time_s": own.get("train_seconds"),
            "threads": own.get("threads", 1),
            "device": own.get("device", "cpu"),
            "machine": base.pop("machine"),
            "torch": own.get("torch"),
        }
        card = {
            "name": name,
            "family": base["family"],
            "description": base["description"],
            "paper": base["paper"],
            "command": own.get("command", "")
            .replace(OLD_PATHS[0], OLD_PATHS[1])
            .replace(OLD_PATHS[2], OLD_PATHS[3])
            .replace(OLD_PATHS[4], OLD_PATHS[5]),
            "recipe": own.get("recipe", {}),
            "training": training,
            "eval": base["eval"],
            "notes": base["notes"],
        }
        write_card({**card, "metrics": {}, "measured": ""})  # names() sees it from now on
        t0 = time.perf_counter()
        metrics = evaluate(name)
        card["metrics"] = metrics
        card["measured"] = (
            f"{datetime.date.today().isoformat()}, {MACHINE}, load average "
            f"{os.getloadavg()[0]:.1f}, {time.perf_counter() - t0:.0f} s"
        )
        print(name, metrics, flush=True)
        write_card(card)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(BASE)))
