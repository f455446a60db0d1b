"""Inputs that cannot all hold: capacity holds, the lowest priority gives way first, the status says so."""

from __future__ import annotations

import pytest

from optimizer import Group, Status, solve
from tests.optimizer.helpers import override, problem, session
from tests.optimizer.invariants import check


def test_fixed_overrides_above_site_capacity_relax_lowest_priority_first() -> None:
    prob = problem(
        [25.0] * 2,
        [session(s, 0, 2, 40.0, 11.0, priority=k) for k, s in enumerate(["low", "mid", "high"])],
        overrides=[override(s, "fixed", 10.0) for s in ("low", "mid", "high")],
    )
    result = solve(prob)
    check(prob, result)
    assert result.status is Status.FEASIBLE_RELAXED
    assert result.schedules["high"].power_kw == pytest.approx((10.0, 10.0))
    assert result.schedules["mid"].power_kw == pytest.approx((10.0, 10.0))
    assert result.schedules["low"].power_kw == pytest.approx((5.0, 5.0))
    assert [(r.session, r.kind, r.intervals) for r in result.relaxations] == [("low", "fixed", (0, 1))]
    assert "capacity of the site" in result.relaxations[0].reason


def test_fixed_overrides_above_group_capacity() -> None:
    prob = problem(
        [100.0],
        [session("a", 0, 1, 40, 22, group="F", priority=1), session("b", 0, 1, 40, 22, group="F")],
        groups=[Group("F", 15.0)],
        overrides=[override("a", "fixed", 11.0), override("b", "fixed", 11.0)],
    )
    result = solve(prob)
    check(prob, result)
    assert result.schedules["a"].power_kw == pytest.approx((11.0,))
    assert result.schedules["b"].power_kw == pytest.approx((4.0,))
    assert "group 'F'" in result.relaxations[0].reason


def test_fixed_above_max_kw_or_beyond_demand_is_relaxed() -> None:
    prob = problem(
        [100.0] * 4,
        [session("a", 0, 4, 40, 7.4), session("b", 0, 4, 1.0, 11.0)],
        overrides=[override("a", "fixed", 11.0), override("b", "fixed", 4.0)],
    )
    result = solve(prob)
    check(prob, result)
    assert result.status is Status.FEASIBLE_RELAXED
    assert result.schedules["a"].power_kw == pytest.approx((7.4,) * 4)
    assert result.schedules["b"].delivered_kwh == pytest.approx(1.0)
    reasons = {r.session: r.reason for r in result.relaxations}
    assert "max_kw" in reasons["a"]
    assert "energy" in reasons["b"]


def test_minimum_rates_that_cannot_all_fit_pause_the_lowest_priority() -> None:
    # 12 kW for three sessions with a 6 kW minimum: the high priority one charges; the LP splits the rest
    # fairly (3 + 3 kW), the repair gives one of them its minimum and pauses the other
    prob = problem(
        [12.0],
        [
            session("low1", 0, 1, 1.5, 11.0, min_kw=6.0),
            session("low2", 0, 1, 1.5, 11.0, min_kw=6.0),
            session("high", 0, 1, 1.5, 11.0, min_kw=6.0, priority=2),
        ],
    )
    result = solve(prob)
    check(prob, result)
    assert result.status is Status.FEASIBLE_RELAXED
    assert result.schedules["high"].power_kw == pytest.approx((6.0,))
    lows = sorted(result.schedules[s].power_kw[0] for s in ("low1", "low2"))
    assert lows == pytest.approx([0.0, 6.0])
    paused = [s for s in ("low1", "low2") if result.schedules[s].power_kw[0] == 0]
    assert [(r.session, r.kind, r.intervals) for r in result.relaxations] == [(paused[0], "min_kw", (0,))]
    assert "did not all fit" in result.relaxations[0].reason


def test_pause_beats_fixed() -> None:
    prob = problem(
        [50.0] * 2,
        [session("a", 0, 2, 40, 11)],
        overrides=[override("a", "fixed", 5.0), override("a", "pause", start=1)],
    )
    result = solve(prob)
    check(prob, result)
    assert result.schedules["a"].power_kw == pytest.approx((5.0, 0.0))


def test_fixed_below_min_under_a_cap_below_min_becomes_zero() -> None:
    # found by Hypothesis: fixed 2 kW, cap 2 kW, min 3.7 kW -- raising to the minimum would break the cap
    prob = problem(
        [0.0, 0.0, 5.0],
        [session("a", 2, 3, 1.0, 3.7, min_kw=3.7)],
        overrides=[override("a", "cap", 2.0), override("a", "fixed", 2.0)],
    )
    result = solve(prob)
    check(prob, result)
    assert result.schedules["a"].power_kw == (0.0, 0.0, 0.0)
    assert "min_kw above the cap" in result.relaxations[-1].reason
