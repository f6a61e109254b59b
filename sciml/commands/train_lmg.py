"""``sciml train-lmg``: train the learned multigrid cycle (the command that made the shipped
models ``solvers/multigrid/models/lmg{2,3}d.pt``).

It runs :func:`sciml.solvers.multigrid.task.train_learned_cycle` (the package's Trainer with
the multigrid task) into a run folder; the best-validation model (``RUN/model.pt``) records
this command line, the recipe, optimiser steps and wall time. ``--model-out`` copies it.
"""

from __future__ import annotations

import argparse

from sciml.commands._types import nonnegative_float, nonnegative_int, positive_float, positive_int


def _train_lmg(args: argparse.Namespace) -> int:
    import time

    from sciml.commands import _solver_runs
    from sciml.solvers.multigrid.task import MGRecipe, train_learned_cycle
    from sciml.train import TrainConfig

    out, command = _solver_runs.prepare(args)
    recipe = MGRecipe(
        ndim=args.ndim,
        sizes=tuple(args.sizes),
        problems=args.problems,
        rhs=args.rhs,
        chunk=args.chunk,
        steps=args.steps,
        leftover=args.leftover,
        density_fraction=args.density_fraction,
        val_size=args.val_size,
        val_problems=args.val_problems,
        seed=args.seed,
        card={"command": command},
    )
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=0.0,
        scheduler="cosine",
        seed=args.seed,
        time_budget=args.budget,
        amp="none",
        progress=not args.no_progress,
    )
    t0 = time.perf_counter()
    _, history = train_learned_cycle(
        recipe, config, out_dir=out, resume=args.resume, device=args.device,
        cycle={"levels": args.levels, "sweeps": args.sweeps},
    )  # fmt: skip
    best = min((h["val"] for h in history), default=float("nan"))
    first = history[0]["val"] if history else float("nan")
    print(
        f"trained {len(history)} epochs in {time.perf_counter() - t0:.0f} s; validation "
        f"MG-PCG iterations {first:.2f} after the first epoch, best {best:.2f}; "
        f"model: {out / 'model.pt'}"
    )
    _solver_runs.finish(args, out)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sciml train-lmg`` (train the learned multigrid cycle) on ``sub``."""

    p = sub.add_parser("train-lmg", help="train the learned multigrid cycle (CPU or GPU)")
    p.add_argument("--out", required=True, help="run folder (last.pt, model.pt, logs)")
    p.add_argument("--model-out", default=None, help="also copy the best model here")
    p.add_argument("--budget", type=positive_float, default=300.0, help="seconds of training")
    p.add_argument("--epochs", type=positive_int, default=10_000, help="upper bound on epochs")
    p.add_argument("--ndim", type=int, default=3, choices=[2, 3], help="2-D or 3-D grid systems")
    p.add_argument(
        "--sizes",
        type=positive_int,
        nargs="+",
        default=[32, 48],
        help="grid sizes (cells per side)",
    )
    p.add_argument("--problems", type=positive_int, default=4, help="problems per epoch")
    p.add_argument("--rhs", type=positive_int, default=4, help="errors per problem")
    p.add_argument("--chunk", type=positive_int, default=2, help="errors per item")
    p.add_argument("--steps", type=positive_int, default=6, help="PCG iterations of the loss")
    p.add_argument(
        "--leftover", type=nonnegative_int, default=2, help="cycle steps before measuring"
    )
    p.add_argument(
        "--levels", type=positive_int, default=3, help="parameter sets from the coarsest"
    )
    p.add_argument("--sweeps", type=positive_int, default=2, help="Chebyshev degree")
    p.add_argument("--batch-size", type=positive_int, default=2, help="items per optimiser step")
    p.add_argument(
        "--density-fraction",
        type=nonnegative_float,
        default=0.5,
        help="share of problems with a density jump",
    )
    p.add_argument(
        "--val-size", type=positive_int, default=48, help="grid size of the validation problems"
    )
    p.add_argument("--val-problems", type=positive_int, default=4, help="validation problems")
    p.add_argument("--lr", type=positive_float, default=0.05, help="learning rate")
    p.add_argument(
        "--seed", type=nonnegative_int, default=0, help="seed of the problems and parameters"
    )
    p.add_argument(
        "--threads", type=nonnegative_int, default=1, help="torch CPU threads (0: torch default)"
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--overwrite", action="store_true", help="replace --out / --model-out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_train_lmg)
