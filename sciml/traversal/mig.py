"""Mutual information gap (Chen et al., NeurIPS 2018) against known discrete factors."""

from __future__ import annotations

import math

import torch

__all__ = ["discretize", "mutual_information", "entropy", "mig"]


def discretize(codes: torch.Tensor, bins: int = 20) -> torch.Tensor:
    """Equal-width histogram bins of each column: ``[N, L]`` float -> ``LongTensor [N, L]``."""
    if codes.ndim != 2:
        raise ValueError(f"codes must be [N, L], got {list(codes.shape)}")
    lo, hi = codes.min(0).values, codes.max(0).values
    width = (hi - lo).clamp_min(1e-12) / bins
    return ((codes - lo) / width).long().clamp(0, bins - 1)


def entropy(a: torch.Tensor) -> float:
    """Empirical entropy (nats) of the discrete values ``a: LongTensor [N]``."""
    p = torch.bincount(a - a.min()).double()
    p = p[p > 0] / a.numel()
    return float(-(p * p.log()).sum())


def mutual_information(a: torch.Tensor, b: torch.Tensor) -> float:
    """Empirical mutual information (nats) of two discrete ``LongTensor [N]``."""
    a, b = a - a.min(), b - b.min()
    nb = int(b.max()) + 1
    joint = torch.bincount(a * nb + b, minlength=(int(a.max()) + 1) * nb).double()
    joint = joint.reshape(-1, nb) / a.numel()
    pa, pb = joint.sum(1, keepdim=True), joint.sum(0, keepdim=True)
    nz = joint > 0
    return float((joint[nz] * (joint[nz] / (pa * pb)[nz]).log()).sum())


def mig(
    codes: torch.Tensor, factors: torch.Tensor, *, bins: int = 20
) -> tuple[float, torch.Tensor]:
    """MIG of a representation: ``mean_j (I(c_a; v_j) - I(c_b; v_j)) / H(v_j)``.

    ``c_a, c_b`` are the two code dimensions most informative about factor ``v_j``. Codes are
    discretised into ``bins`` equal-width bins (the estimator of disentanglement_lib).
    Factors with a single level (``H = 0``) are skipped.

    Args:
        codes: ``[N, L]`` representation (``L >= 2``).
        factors: ``LongTensor [N, F]`` ground-truth factor levels.

    Returns:
        ``(mig, gaps)``: the score in ``[0, 1]`` and the normalised gap of each factor ``[F]``
        (NaN for skipped factors).

    >>> v = torch.arange(1000)[:, None] % torch.tensor([4, 5])   # two independent factors
    >>> round(mig(v.float(), v)[0], 3)                            # one code per factor
    1.0
    """
    if codes.ndim != 2 or codes.shape[1] < 2:
        raise ValueError(f"codes must be [N, L] with L >= 2, got {list(codes.shape)}")
    if factors.ndim != 2 or factors.shape[0] != codes.shape[0] or factors.dtype != torch.long:
        raise ValueError(f"factors must be a LongTensor [{codes.shape[0]}, F]")
    c = discretize(codes, bins)
    gaps = torch.full((factors.shape[1],), math.nan, dtype=torch.float64)
    for j in range(factors.shape[1]):
        h = entropy(factors[:, j])
        if h <= 0:
            continue
        mi = sorted(
            (mutual_information(c[:, i], factors[:, j]) for i in range(c.shape[1])), reverse=True
        )
        gaps[j] = (mi[0] - mi[1]) / h
    valid = gaps[~gaps.isnan()]
    return (float(valid.mean()) if valid.numel() else math.nan), gaps
