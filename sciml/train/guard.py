"""The divergence guard: a non-finite training loss ends the run with one clear error (the
last good checkpoint stays in the run folder)."""

from __future__ import annotations

import math
from pathlib import Path

__all__ = ["check_training_loss"]


def check_training_loss(loss: float, epoch: int, out_dir: Path | None) -> None:
    """``ValueError`` when ``loss`` (the mean training loss of epoch ``epoch``, 0-based) is NaN
    or infinite, naming the checkpoint that still holds the previous epoch.

    >>> check_training_loss(0.5, 3, None)
    """
    if math.isfinite(loss):
        return
    kept = f"; {out_dir / 'last.pt'} still holds epoch {epoch}" if out_dir and epoch > 0 else ""
    raise ValueError(
        f"training diverged: the training loss is {loss} in epoch {epoch + 1} "
        "(check the data for NaN/inf values or lower the learning rate)" + kept
    )
