"""The weight-selection rule on synthetic ladders (pure functions, no training), and the sweep
plan's refusals (before any training)."""

import math

import pytest

from sciml.nde.registry import make_problem
from sciml.nde.selection import Candidate, pareto_front, select_weight, within_tolerance
from sciml.workflows.nde_sweep import plan_sweep, weight_ladder

BASE = Candidate(weight=0.0, val_error=0.100, predict_nfe=40, predict_time_s=0.010)


def ladder(*rows):
    return [Candidate(w, e, n) for w, e, n in rows]


def test_picks_the_fewest_nfe_within_tolerance():
    cands = ladder((0.1, 0.099, 38), (0.3, 0.102, 32), (1.0, 0.105, 26), (3.0, 0.13, 14))
    # 3.0 is cheapest but 1.3x worse; 1.0 sits exactly on 1.05x (inclusive)
    assert select_weight(cands, BASE).weight == 1.0
    assert select_weight(cands, BASE, tolerance=1.02).weight == 0.3
    assert select_weight(cands, BASE, tolerance=1.5).weight == 3.0


def test_keeps_the_baseline_when_no_weight_saves_nfe_at_equal_error():
    assert select_weight(ladder((0.1, 0.09, 40), (1.0, 0.095, 44)), BASE) is None  # no saving
    assert select_weight(ladder((1.0, 0.2, 20), (3.0, 0.5, 14)), BASE) is None  # all too bad
    assert select_weight([], BASE) is None


def test_ties_go_to_the_lower_error_then_the_smaller_weight():
    cands = ladder((3.0, 0.104, 26), (1.0, 0.101, 26), (0.3, 0.101, 26))
    assert select_weight(cands, BASE).weight == 0.3
    assert select_weight(ladder((3.0, 0.104, 26), (1.0, 0.101, 26)), BASE).weight == 1.0


def test_a_diverged_model_is_never_chosen_nor_on_the_front():
    cands = ladder((1.0, math.nan, 8), (0.3, 0.101, 30))
    assert select_weight(cands, BASE).weight == 0.3
    assert [c.weight for c in pareto_front([BASE, *cands])] == [0.0, 0.3]
    assert not within_tolerance(cands[0], BASE, 1.05)


def test_pareto_front_drops_dominated_points():
    cands = ladder((0.1, 0.12, 40), (0.3, 0.101, 30), (1.0, 0.11, 30), (3.0, 0.2, 12))
    # 0.1 is worse than the baseline on error at the same NFE; 1.0 is beaten by 0.3 on error
    assert [c.weight for c in pareto_front([BASE, *cands])] == [0.0, 0.3, 3.0]


def test_tolerance_below_one_is_refused():
    with pytest.raises(ValueError, match="tolerance must be >= 1"):
        select_weight(ladder((1.0, 0.1, 20)), BASE, tolerance=0.9)


def test_weight_ladder_is_geometric_around_the_centre():
    ws = weight_ladder(0.1, 5, 10**0.5)
    assert ws[2] == pytest.approx(0.1)
    assert all(b / a == pytest.approx(10**0.5) for a, b in zip(ws, ws[1:]))
    assert weight_ladder(1.0, 2, 4.0) == pytest.approx([0.5, 2.0])


@pytest.mark.parametrize(
    "task, names, weights, points, message",
    [
        ("digits", ["steer"], None, 5, "a sweep varies the penalty weight of one of"),
        ("digits", ["none"], None, 5, "a sweep varies the penalty weight of one of"),
        ("spiral-sde", ["error"], None, 5, "('local-error',), got 'error'"),
        ("digits", [], None, 5, "name at least one regularizer"),
        ("digits", ["local-error"], [1.0], 5, "at least 2 different weights"),
        ("digits", ["local-error"], [1.0, 1.0], 5, "at least 2 different weights"),
        ("digits", ["local-error"], [0.0, 1.0], 5, "weights must be finite and > 0"),
        ("digits", ["local-error"], [-1.0, 1.0], 5, "weights must be finite and > 0"),
        ("digits", ["local-error"], None, 1, "at least 2 weights (points >= 2)"),
    ],
)
def test_plan_refuses_bad_sweeps_naming_the_choices(task, names, weights, points, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan_sweep(make_problem(task), names, weights, points=points)


def test_plan_uses_the_given_weights_or_the_ladder_around_the_default():
    problem = make_problem("latent-ode")
    plan = plan_sweep(problem, ["local-error", "error"], [3.0, 0.3])
    assert plan == {"local-error": [0.3, 3.0], "error": [0.3, 3.0]}
    plan = plan_sweep(problem, ["local-error"], points=3, factor=10.0)
    assert plan["local-error"] == pytest.approx([0.01, 0.1, 1.0])  # default w0 = 0.1
