"""DCI disentanglement, completeness and informativeness (Eastwood & Williams, ICLR 2018)."""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["dci", "dci_from_importance", "importance_matrix"]


def dci_from_importance(importance: torch.Tensor) -> tuple[float, float]:
    """Disentanglement and completeness of an importance matrix ``R: [L codes, F factors]``.

    ``D = sum_i rho_i (1 - H_F(P_i.))`` with ``P_ij = R_ij / sum_k R_ik`` and weights
    ``rho_i = sum_j R_ij / sum R``; ``C = mean_j (1 - H_L(P~_.j))`` with
    ``P~_ij = R_ij / sum_k R_kj``; entropies in base ``F`` and ``L`` (so both lie in
    ``[0, 1]``; 1 = each code informs one factor / each factor lives in one code).

    >>> round(dci_from_importance(torch.eye(3))[0], 3), round(dci_from_importance(torch.ones(3, 3))[0], 3)
    (1.0, 0.0)
    """
    r = importance.double().clamp_min(0)
    if r.ndim != 2 or r.shape[0] < 2 or r.shape[1] < 2:
        raise ValueError(f"importance must be [L, F] with L, F >= 2, got {list(r.shape)}")
    total = r.sum()
    if total <= 0:
        return 0.0, 0.0
    n_codes, n_factors = r.shape

    def one_minus_entropy(p: torch.Tensor, base: int, dim: int) -> torch.Tensor:
        p = p / p.sum(dim, keepdim=True).clamp_min(1e-300)
        h = -(p * p.clamp_min(1e-300).log()).sum(dim) / math.log(base)
        return 1.0 - h

    rho = r.sum(1) / total
    d = float((rho * one_minus_entropy(r, n_factors, 1)).sum())
    c = float(one_minus_entropy(r, n_codes, 0).mean())
    return d, c


def importance_matrix(
    codes: np.ndarray,
    factors: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    seed: int = 0,
) -> tuple[np.ndarray, float]:
    """Importance ``[L, F]`` of each code for predicting each factor, and the mean test accuracy.

    One ensemble of 50 bagged trees per factor (scikit-learn's random forest with every code
    considered at each split, so an uninformative code is never used just because the
    informative one was not drawn; impurity importances, summing to 1 per factor).
    disentanglement_lib uses gradient-boosted trees; bagged trees give the same kind of
    impurity importances at a fraction of the cost.
    """
    # heavy optional dependency (scikit-learn): loaded when first used
    from sklearn.ensemble import RandomForestClassifier

    n_codes, n_factors = codes.shape[1], factors.shape[1]
    imp = np.zeros((n_codes, n_factors))
    acc = []
    for j in range(n_factors):
        if np.unique(factors[:, j]).size < 2:
            continue
        clf = RandomForestClassifier(
            n_estimators=50, max_features=None, min_samples_leaf=5, random_state=seed, n_jobs=1
        ).fit(codes, factors[:, j])
        imp[:, j] = clf.feature_importances_
        acc.append(float((clf.predict(codes_test) == factors_test[:, j]).mean()))
    return imp, float(np.mean(acc)) if acc else math.nan


def dci(
    codes: torch.Tensor,
    factors: torch.Tensor,
    *,
    test_fraction: float = 0.3,
    seed: int = 0,
) -> dict[str, float]:
    """DCI scores of a representation against known discrete factors.

    Args:
        codes: ``[N, L]`` representation.
        factors: ``LongTensor [N, F]`` factor levels.
        test_fraction: held-out share for the informativeness (classifier accuracy).
        seed: seed of the split and the forests.

    Returns:
        ``{"disentanglement", "completeness", "informativeness"}``.
    """
    if codes.ndim != 2 or factors.ndim != 2 or codes.shape[0] != factors.shape[0]:
        raise ValueError(
            f"codes [N, L] and factors [N, F] must have the same N, got {list(codes.shape)} "
            f"and {list(factors.shape)}"
        )
    n = codes.shape[0]
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).numpy()
    n_test = max(1, int(round(test_fraction * n)))
    te, tr = perm[:n_test], perm[n_test:]
    c, f = codes.detach().double().cpu().numpy(), factors.cpu().numpy()
    imp, acc = importance_matrix(c[tr], f[tr], c[te], f[te], seed=seed)
    d, comp = dci_from_importance(torch.from_numpy(imp))
    return {"disentanglement": d, "completeness": comp, "informativeness": acc}
