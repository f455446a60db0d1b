"""Baselines: capacity held (also by the uncapped comparison's capped form), and each one's own rule."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer import Group, Status, solve
from optimizer.baselines import uncontrolled
from optimizer.prepare import prepare
from tests.optimizer.helpers import problem, session
from tests.optimizer.invariants import check


def test_equal_share_splits_evenly_and_lowers_only_inside_a_binding_group() -> None:
    prob = problem(
        [30.0],
        [
            session("a", 0, 1, 40, 22, group="F"),
            session("b", 0, 1, 40, 22, group="F"),
            session("c", 0, 1, 40, 22),
            session("d", 0, 1, 40, 22),
        ],
        groups=[Group("F", 6.0)],
    )
    result = solve(prob, strategy="equal-share")
    check(prob, result)
    assert result.status is Status.HEURISTIC
    power = {sid: s.power_kw[0] for sid, s in result.schedules.items()}
    assert power["a"] == pytest.approx(3.0)
    assert power["b"] == pytest.approx(3.0)
    assert power["c"] == pytest.approx(12.0)
    assert power["d"] == pytest.approx(12.0)


def test_edf_serves_the_earliest_departure_first() -> None:
    prob = problem([11.0] * 4, [session("late", 0, 4, 40, 11), session("soon", 0, 2, 40, 11)])
    result = solve(prob, strategy="edf")
    check(prob, result)
    assert result.schedules["soon"].power_kw == pytest.approx((11.0, 11.0, 0.0, 0.0))
    assert result.schedules["late"].power_kw == pytest.approx((0.0, 0.0, 11.0, 11.0))


def test_uncontrolled_is_capped_in_solve_but_not_in_the_comparison_profile() -> None:
    prob = problem([15.0] * 2, [session("a", 0, 2, 40, 11), session("b", 0, 2, 40, 11)])
    result = solve(prob, strategy="uncontrolled")
    check(prob, result)
    assert result.schedules["a"].power_kw == pytest.approx((11.0, 11.0))  # first come, first served
    assert result.schedules["b"].power_kw == pytest.approx((4.0, 4.0))
    raw = uncontrolled(prepare(prob), capped=False)
    assert np.allclose(raw.sum(axis=0), 22.0)  # above capacity: for comparison figures only


@pytest.mark.parametrize("strategy", ["edf", "equal-share", "uncontrolled"])
def test_baselines_stop_at_the_demand_and_respect_min_rates(strategy: str) -> None:
    prob = problem(
        [20.0] * 4,
        [
            session("a", 0, 4, 3.0, 11, min_kw=6.0),
            session("b", 0, 4, 10.0, 11, min_kw=6.0),
            session("c", 0, 4, 1, 3),
        ],
    )
    result = solve(prob, strategy=strategy)
    check(prob, result)
    assert result.schedules["a"].delivered_kwh <= 3.0 + 1e-9
