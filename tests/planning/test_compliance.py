"""Over-drawing charge points as plain data: found, planned at what they draw, compliant again."""

from datetime import UTC, datetime, timedelta

import pytest

import optimizer
from app.domain.events import MeterSample
from app.domain.ports import DispatchResult, TxSchedule
from app.services.planning.compliance import DrawTrace, OverDrawRule, check_draw
from app.services.planning.policy import DispatchState
from app.services.planning.problem import ASSUMED_PRIORITY, Observations, build_plan
from tests.planning.test_problem import H, session, snapshot

START = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def sample(minutes: float, kw: float) -> MeterSample:
    return MeterSample(START + minutes * MINUTE, power_w=kw * 1000)


def test_the_tolerance_is_a_kilowatt_or_a_tenth_of_the_limit() -> None:
    rule = OverDrawRule()
    assert rule.allowed_kw(0.0) == 1.0  # paused: an EV drawing over 1 kW ignores it
    assert rule.allowed_kw(7.4) == pytest.approx(8.4)
    assert rule.allowed_kw(22.0) == pytest.approx(24.2)


def test_two_samples_over_make_it_non_compliant_and_two_within_compliant_again() -> None:
    rule, trace = OverDrawRule(), DrawTrace()
    assert check_draw(trace, rule, 1, 3.7, sample(0, 11.0)) == (False, None)  # one is not enough
    assert check_draw(trace, rule, 1, 3.7, sample(1, 3.9)) == (False, None)  # within: starts afresh
    assert check_draw(trace, rule, 1, 3.7, sample(2, 11.0)) == (False, None)
    news, change = check_draw(trace, rule, 1, 3.7, sample(3, 11.0))
    assert news
    assert change is not None
    assert (change.non_compliant, change.reason, change.limit_kw, change.measured_kw) == (
        True,
        "over_draw",
        3.7,
        11.0,
    )
    assert change.at == START + 3 * MINUTE
    assert (trace.since, trace.draw_kw) == (START + 3 * MINUTE, 11.0)
    assert check_draw(trace, rule, 1, 3.7, sample(4, 10.8)) == (False, None)  # about the same draw
    assert check_draw(trace, rule, 1, 3.7, sample(5, 7.0)) == (True, None)  # less: replanned at it
    assert trace.draw_kw == 7.0
    assert check_draw(trace, rule, 1, 3.7, sample(6, 4.5)) == (False, None)  # within 3.7 + 1 kW, once
    news, change = check_draw(trace, rule, 1, 3.7, sample(7, 3.6))
    assert news
    assert change is not None
    assert not change.non_compliant
    assert trace.since is None
    assert check_draw(trace, rule, 1, 3.7, MeterSample(START, power_w=None)) == (False, None)


def accepted(state: DispatchState, limit_kw: float, at: datetime) -> None:
    schedule = TxSchedule("CP1", 1, 1, START, 15, (limit_kw,) * 4, 3, 230.0)
    state.dispatched(schedule, DispatchResult("accepted"), at)


def test_only_samples_once_the_limit_is_in_force_and_settled_count() -> None:
    state = DispatchState()
    accepted(state, 11.0, START)
    accepted(state, 3.7, START + 2 * MINUTE)  # lowered at 08:02
    early = [sample(1, 11.0), sample(2, 11.0), MeterSample(START + 2 * MINUTE + timedelta(seconds=5), 11000)]
    state.observe(1, early)  # before it, or while the EV ramps down: not held against it
    assert state.take_compliance() == []
    assert 1 not in state.observations(START).non_compliant
    assert state.observe(1, [sample(3, 11.0), sample(4, 11.0)])
    [change] = state.take_compliance()
    assert change.non_compliant
    assert change.limit_kw == 3.7
    assert state.take_compliance() == []  # taken once
    observed = state.observations(START + 4 * MINUTE)
    assert observed.non_compliant == frozenset({1})
    assert observed.draw_kw == {1: 11.0}

    assert state.observe(1, [sample(5, 3.7), sample(6, 3.7)])  # it follows its limit again
    [change] = state.take_compliance()
    assert not change.non_compliant
    assert state.observations(START + 6 * MINUTE).non_compliant == frozenset()


def test_a_step_down_within_the_profile_is_held_to_the_higher_limit_while_the_ev_settles() -> None:
    state = DispatchState()
    schedule = TxSchedule("CP1", 1, 1, START, 15, (11.0, 3.7, 3.7, 3.7), 3, 230.0)
    state.dispatched(schedule, DispatchResult("accepted"), START)
    step = START + 15 * MINUTE
    state.observe(1, [MeterSample(step + timedelta(seconds=s), 11000) for s in (1, 5)])
    assert state.take_compliance() == []
    state.observe(1, [sample(16, 11.0), sample(17, 11.0)])
    assert [c.non_compliant for c in state.take_compliance()] == [True]


def test_a_reset_or_the_end_of_the_transaction_forgets_it() -> None:
    state = DispatchState()
    state.charge_point_of[1] = "CP1"
    accepted(state, 3.7, START)
    state.observe(1, [sample(1, 11.0), sample(2, 11.0)])
    assert len(state.take_compliance()) == 1
    state.charge_point_reset("CP1", START + 3 * MINUTE)  # profiles sent again: judged afresh
    [change] = state.take_compliance()
    assert (change.non_compliant, change.reason) == (False, "charge point reset")
    assert change.at == START + 3 * MINUTE
    assert state.observations(START).non_compliant == frozenset()
    accepted(state, 3.7, START + 3 * MINUTE)
    state.observe(1, [sample(4, 11.0), sample(5, 11.0)])
    state.transaction_ended(1)
    assert state.draw == {}
    assert state.observations(START).draw_kw == {}


def test_an_over_drawing_session_is_fixed_at_what_it_draws_not_its_maximum() -> None:
    observed = Observations(non_compliant=frozenset({12}), draw_kw={12: 5.5})
    plan = build_plan(snapshot(), horizon=H, observations=observed)
    assert plan.sessions["12"].assumption == "non_compliant"
    assert plan.sessions["12"].max_kw == 5.5  # not 7.4 kW, its connector's
    fixed = {o.session: o for o in plan.problem.overrides}
    assert fixed["12"].kind is optimizer.OverrideKind.FIXED
    assert fixed["12"].power_kw == 5.5
    assert session(plan.problem, "12").priority == ASSUMED_PRIORITY
    result = optimizer.solve(plan.problem)
    assert result.schedules["12"].power_kw[0] == pytest.approx(5.5)
