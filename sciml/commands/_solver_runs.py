"""What ``sciml train-dcdm`` and ``sciml train-lmg`` share: the run folder and ``--model-out``
checked before any work, the command line recorded in the model card, and the copy of the
best model to ``--model-out`` at the end."""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from pathlib import Path


def prepare(args: argparse.Namespace) -> tuple[Path, str]:
    """``(run folder, the command line)``; refuses an occupied ``--out`` (without --resume or
    --overwrite) and an existing ``--model-out`` (without --overwrite); sets the threads."""
    from sciml.io import check_out_path

    if args.model_out:
        check_out_path(args.model_out, overwrite=args.overwrite, what="--model-out")
    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not (args.resume or args.overwrite):
        raise FileExistsError(f"--out {str(out)!r} is not empty; pass --resume or --overwrite")
    if args.threads > 0:
        import torch

        torch.set_num_threads(args.threads)
    return out, "sciml " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def finish(args: argparse.Namespace, out: Path) -> None:
    """Copy the run's best model to ``--model-out`` (when given)."""
    if args.model_out:
        shutil.copyfile(out / "model.pt", args.model_out)
        print(f"wrote {args.model_out}")
