"""Each tableau declares ``order`` / ``error_order``; these tests measure them."""

import pytest
import torch

from sciml.nde.step import rk_step
from sciml.nde.tableau import TABLEAUS
from sciml.testing.convergence import observed_order

TABS = list(TABLEAUS.values())


@pytest.mark.parametrize("tab", TABS, ids=lambda t: t.name)
def test_order_conditions(tab):
    d = tab.tensors(torch.float64)
    a, b, c = d["a"], d["b"], d["c"]
    b_hat = b - d["b_err"]
    # row sums equal the abscissae; tolerance: coefficients are stored to ~16 digits
    assert torch.allclose(a.sum(1), c, atol=1e-14)
    # bushy-tree conditions sum b c^(q-1) = 1/q up to the declared order
    for q in range(1, tab.order + 1):
        assert abs(float(b @ c ** (q - 1)) - 1 / q) < 1e-13, q
    for q in range(1, tab.error_order + 1):
        assert abs(float(b_hat @ c ** (q - 1)) - 1 / q) < 1e-13, q
    # the embedded method is not of one order higher than declared
    assert abs(float(b_hat @ c**tab.error_order) - 1 / (tab.error_order + 1)) > 1e-5
    # dense output at theta = 1/2 is consistent
    assert abs(float(d["mid"].sum()) - 0.5) < 1e-12


@pytest.mark.parametrize("tab", TABS, ids=lambda t: t.name)
def test_convergence_order_and_error_estimate_order(tab):
    """Global error of fixed steps ~ dt^order; local error estimate ~ dt^(error_order+1)."""
    f = lambda t, y: torch.stack([y[1], -torch.sin(y[0])])  # noqa: E731  (pendulum)
    y0 = torch.tensor([1.0, 0.0], dtype=torch.float64)
    ref = y0
    n_ref = 2048
    for i in range(n_ref):
        ref = rk_step(f, i * 2.0 / n_ref, ref, 2.0 / n_ref, tableau=tab).y1
    errs, ests, hs = [], [], []
    for n in (16, 32, 64, 128):
        y = y0
        for i in range(n):
            y = rk_step(f, i * 2.0 / n, y, 2.0 / n, tableau=tab).y1
        errs.append(float((y - ref).abs().max()))
        r = rk_step(f, 0.0, y0, 2.0 / n, tableau=tab)
        ests.append(float(r.error.abs().max()))
        hs.append(2.0 / n)
    slope, est_slope = observed_order(errs, hs), observed_order(ests, hs)
    # asymptotic slopes; 0.3 allows the pre-asymptotic bend at the coarsest step
    assert abs(slope - tab.order) < 0.3, slope
    assert abs(est_slope - (tab.error_order + 1)) < 0.3, est_slope
