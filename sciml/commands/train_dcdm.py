"""``sciml train-dcdm``: train the DCDM network (the command that made the shipped model).

It runs :func:`sciml.solvers.dcdm.task.train_dcdm` (the package's Trainer with the DCDM task)
into a run folder; the best-validation model (``RUN/model.pt``) records this command line, the
data recipe, optimiser steps and wall time. ``--model-out`` copies it to a second path (e.g.
the zoo's ``dcdm-3d``).
"""

from __future__ import annotations

import argparse

from sciml.commands._types import nonnegative_float, nonnegative_int, positive_float, positive_int


def _train_dcdm(args: argparse.Namespace) -> int:
    import time

    from sciml.commands import _solver_runs
    from sciml.solvers.dcdm.task import DCDMRecipe, train_dcdm
    from sciml.train import TrainConfig

    out, command = _solver_runs.prepare(args)
    recipe = DCDMRecipe(
        ndim=args.ndim,
        sizes=tuple(args.sizes),
        problems=args.problems,
        rhs=args.rhs,
        snapshots=tuple(args.snapshots),
        chunk=args.chunk,
        passes=args.passes,
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
        grad_clip=1.0,
        seed=args.seed,
        time_budget=args.budget,
        amp="none",
        progress=not args.no_progress,
    )
    init = None
    if args.init:
        from sciml.solvers.dcdm import load_dcdm

        init = load_dcdm(args.init).train()
    t0 = time.perf_counter()
    net, history = train_dcdm(
        recipe, config, out_dir=out, model=init, resume=args.resume, device=args.device
    )
    best = min((h["val"] for h in history), default=float("nan"))
    print(
        f"trained {len(history)} epochs in {time.perf_counter() - t0:.0f} s; best validation "
        f"{best:.1f} DCDM iterations; model: {out / 'model.pt'}"
    )
    _solver_runs.finish(args, out)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sciml train-dcdm`` (train the DCDM learned-CG network) on ``sub``."""
    p = sub.add_parser("train-dcdm", help="train the DCDM learned-CG network (CPU or GPU)")
    p.add_argument("--out", required=True, help="run folder (last.pt, model.pt, logs)")
    p.add_argument("--model-out", default=None, help="also copy the best model here")
    p.add_argument("--budget", type=positive_float, default=3600.0, help="seconds of training")
    p.add_argument("--epochs", type=positive_int, default=10_000, help="upper bound on epochs")
    p.add_argument(
        "--ndim", type=int, default=3, choices=[2, 3], help="2-D or 3-D pressure-Poisson problems"
    )
    p.add_argument(
        "--sizes",
        type=positive_int,
        nargs="+",
        default=[32, 40, 48],
        help="grid sizes (cells per side) drawn for training",
    )
    p.add_argument("--problems", type=positive_int, default=6, help="problems per epoch")
    p.add_argument("--rhs", type=positive_int, default=4, help="errors x* per problem")
    p.add_argument(
        "--snapshots",
        type=nonnegative_int,
        nargs="+",
        default=[0, 1, 2, 4, 8, 16],
        help="DCDM iterations whose residuals are training inputs (the curriculum)",
    )
    p.add_argument("--chunk", type=positive_int, default=8, help="samples per item (one forward)")
    p.add_argument(
        "--passes", type=positive_int, default=1, help="passes over each epoch's problems"
    )
    p.add_argument("--batch-size", type=positive_int, default=1, help="items per optimiser step")
    p.add_argument(
        "--density-fraction",
        type=nonnegative_float,
        default=0.5,
        help="share of problems with a density jump",
    )
    p.add_argument(
        "--val-size", type=positive_int, default=32, help="grid size of the validation problems"
    )
    p.add_argument("--val-problems", type=positive_int, default=2, help="validation problems")
    p.add_argument("--lr", type=positive_float, default=3e-3, help="peak learning rate")
    p.add_argument(
        "--seed", type=nonnegative_int, default=0, help="seed of the problems and weights"
    )
    p.add_argument(
        "--threads", type=nonnegative_int, default=1, help="torch CPU threads (0: torch default)"
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--init", default=None, help="start from this model file")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--overwrite", action="store_true", help="replace --out / --model-out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_train_dcdm)
