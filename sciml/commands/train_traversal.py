"""``sciml train-traversal``: the latent-traversal run that ``sciml traverse`` reads.

Two stages through the one Trainer, each checkpointed every epoch and resumable: a VAE on the
procedural dSprites-style set (``OUT/vae/``; or ``--vae FILE`` to reuse a trained one), then
``K`` traversals of its latent space by potential flows under a PDE of the engine (wave, heat,
Fokker-Planck, Hamilton-Jacobi), learned linear directions, or closed-form directions (SeFa,
the VAE's own axes). ``OUT/model.pt`` is the traversal model file; ``OUT/scores.json`` its MIG,
DCI and traversal quality on held-out sprites.
"""

from __future__ import annotations

import argparse

from sciml.commands._types import describe, nonnegative_int, positive_float, positive_int

#: traversal methods (plain data; a test checks them against
#: :data:`sciml.workflows.traversal_experiments.METHODS`)
METHODS = ("wave", "heat", "fokker-planck", "hamilton-jacobi", "linear", "sefa", "vae-axes")


def _train_traversal(args: argparse.Namespace) -> int:
    import dataclasses
    import shutil
    from pathlib import Path

    from sciml.io import check_out_dir
    from sciml.workflows.traversal_experiments import SpriteBudget, fit_traversal_run

    out = check_out_dir(args.out)
    existing = out.is_dir() and any(out.iterdir())
    if existing and not (args.resume or args.overwrite):
        raise FileExistsError(
            f"--out {str(out)!r} holds a run; pass --resume to continue it or --overwrite to "
            "replace it"
        )
    if args.resume and not existing:
        raise FileNotFoundError(f"--resume: {str(out)!r} holds no run to continue")
    if args.vae is not None and not Path(args.vae).is_file():
        raise FileNotFoundError(f"--vae {args.vae!r} does not exist")
    base = {"quick": SpriteBudget.quick(), "smoke": SpriteBudget.smoke()}.get(
        args.budget, SpriteBudget()
    )
    changes = {k: v for k, v in (("latent", args.latent), ("vae_epochs", args.vae_epochs),
                                 ("trav_epochs", args.epochs), ("directions", args.directions))
               if v is not None}  # fmt: skip
    budget = dataclasses.replace(base, **changes)
    if args.overwrite and existing:
        shutil.rmtree(out)
    scores = fit_traversal_run(
        out, args.method, budget, seed=args.seed, beta=args.beta, vae=args.vae,
        device=args.device or "cpu", resume=args.resume, progress=not args.no_progress,
    )  # fmt: skip
    print(
        f"{args.method}: MIG {scores['mig']:.3f}, DCI-D {scores['dci_d']:.3f}, quality "
        f"{scores['quality']:.3f}; run folder {out} (sciml traverse {out} --out DIR)"
    )
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sciml train-traversal`` (VAE + latent traversal run) on ``sub``."""
    p = sub.add_parser(
        "train-traversal",
        help="train the latent-traversal run that `sciml traverse` reads (VAE + flows)",
        description=describe(__doc__),
    )
    p.add_argument("--out", required=True, help="run folder (vae/, model.pt, scores.json)")
    p.add_argument(
        "--method", default="wave", choices=METHODS,
        help="PDE of the potential flows, or a baseline (linear, sefa, vae-axes)",
    )  # fmt: skip
    p.add_argument(
        "--budget", default="default", choices=["default", "quick", "smoke"],
        help="data and epoch sizes (smoke: seconds, for a try)",
    )  # fmt: skip
    p.add_argument("--latent", type=positive_int, help="VAE latent size (default 8)")
    p.add_argument(
        "--beta", type=positive_float, help="VAE KL weight (beta-VAE; default the budget's)"
    )
    p.add_argument("--vae-epochs", type=positive_int, help="VAE epochs (default by --budget)")
    p.add_argument("--epochs", type=positive_int, help="traversal epochs (default by --budget)")
    p.add_argument("--directions", type=positive_int, help="number of traversals K")
    p.add_argument("--vae", help="a trained VAE model file to traverse (skips stage 1)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of data and weights")
    p.add_argument("--device", help="cpu or cuda (default cpu)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--overwrite", action="store_true", help="replace the run in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_train_traversal)
