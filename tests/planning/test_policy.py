"""The dispatch policy as plain data: what a plan means for the charge points, without any I/O."""

from datetime import UTC, datetime, timedelta

import pytest

import optimizer
from app.domain.events import MeterSample
from app.domain.ports import DispatchResult, TxSchedule
from app.domain.snapshot import ActiveTransaction, SiteChargePoint, SiteConnector, SiteSnapshot
from app.services.planning.learning import EvTrace
from app.services.planning.policy import (
    DispatchState,
    SentProfile,
    Verdict,
    default_limit_kw,
    needs_sending,
)
from app.services.planning.problem import Plan, build_plan
from tests.planning.test_problem import site

START = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)
STEP = timedelta(minutes=15)


def profile(*power_kw: float, start: datetime = START) -> SentProfile:
    return SentProfile(start, 15, tuple(power_kw))


def test_a_profile_is_sent_when_new_changed_or_running_out() -> None:
    plan = profile(7, 7, 7, 7)
    assert needs_sending(None, plan, START)
    assert not needs_sending(plan, plan, START)
    assert needs_sending(plan, profile(7, 6, 7, 7), START)
    # one interval later on the same grid: only the overlap counts
    assert not needs_sending(profile(1, 7, 7, 7, 7), profile(7, 7, 7, 7, start=START + STEP), START + STEP)
    # what the charge point has ends in under half the new plan's horizon
    assert needs_sending(profile(7, 7), profile(7, 7, 7, 7, 7, 7), START)
    # another grid (30-minute intervals) compared instant by instant
    assert not needs_sending(SentProfile(START, 30, (7, 7)), plan, START)
    assert needs_sending(SentProfile(START, 30, (7, 6)), plan, START)


def plan_of(*tx_ids: int, connected: bool = True) -> tuple[Plan, optimizer.ScheduleResult]:
    snapshot = SiteSnapshot(
        site=site(),
        start=START,
        end=START + 4 * STEP,
        charge_points=(SiteChargePoint("CP1", connected, None),),
        connectors=(SiteConnector("CP1", 1, 3, 230.0, 16.0),),
        transactions=tuple(ActiveTransaction(tx, "CP1", 1, "T", START - STEP, 0) for tx in tx_ids),
    )
    plan = build_plan(snapshot, horizon=4)
    return plan, optimizer.solve(plan.problem)


def test_planned_sends_changed_schedules_to_connected_planned_sessions_only() -> None:
    state = DispatchState()
    plan, result = plan_of(1, 2)
    sent = state.planned(plan, result, lambda cp: cp == "CP1", START)
    assert [s.transaction_id for s in sent] == [1, 2]
    assert sent[0].power_kw == tuple(result.schedules["1"].power_kw)
    assert (sent[0].phases, sent[0].voltage_v, sent[0].interval_min) == (3, 230.0, 15)
    for schedule in sent:
        state.dispatched(schedule, DispatchResult("accepted"), START)
    assert state.planned(plan, result, lambda cp: True, START) == []  # nothing changed
    assert state.charge_point_of == {1: "CP1", 2: "CP1"}

    state.charge_point_reset("CP1")  # a reconnect: it may have lost its profiles
    assert len(state.planned(plan, result, lambda cp: True, START)) == 2
    assert state.planned(plan, result, lambda cp: False, START) == []  # not connected: nothing to send


def test_offline_sessions_get_an_allocation_but_no_profile() -> None:
    state = DispatchState()
    plan, result = plan_of(1, connected=False)
    assert state.planned(plan, result, lambda cp: True, START) == []
    assert 1 in state.allocation


def test_the_limits_a_charge_point_accepted_are_what_planning_assumes_while_it_is_offline() -> None:
    state = DispatchState()
    state.dispatched(schedule(power_kw=(7.0, 4.0)), DispatchResult("accepted", limits_kw=(6.9, 3.9)), START)
    state.default_dispatched("CP1", 2.1, DispatchResult("accepted"))
    seen = state.observations(START)
    assert seen.installed[1].power_kw == (6.9, 3.9)  # as read back from the charge point
    assert seen.default_kw == {"CP1": 2.1}
    state.default_dispatched("CP1", 3.0, DispatchResult("rejected"))
    assert state.observations(START).default_kw == {}  # what it holds is not known
    state.transaction_ended(1)
    assert state.observations(START).installed == {}


def schedule(tx: int = 1, power_kw: tuple[float, ...] = (7.0,) * 4) -> TxSchedule:
    return TxSchedule("CP1", 1, tx, START, 15, power_kw, 3, 230.0)


def test_a_refused_profile_is_retried_then_the_transaction_is_non_compliant() -> None:
    state = DispatchState(allocation={1: profile(7, 7, 7, 7)})
    rejected = DispatchResult("rejected")
    state.dispatched(schedule(), rejected, START)
    assert state.sent == {}
    assert state.verdict(schedule(), rejected, attempt=1, attempts=3, connected=True) is Verdict.RETRY
    assert state.still_planned(schedule())
    assert not state.still_planned(schedule(power_kw=(1.0,) * 4))
    assert state.verdict(schedule(), rejected, attempt=3, attempts=3, connected=True) is Verdict.NON_COMPLIANT
    assert state.non_compliant == {1}
    assert state.observations(START).non_compliant == frozenset({1})


def test_a_profile_not_sent_is_dropped_when_offline_and_given_up_when_online() -> None:
    state = DispatchState(allocation={1: profile(7)})
    not_sent = DispatchResult("not_sent", reason="not_connected")
    assert state.verdict(schedule(), not_sent, attempt=1, attempts=3, connected=False) is Verdict.DROP
    assert state.verdict(schedule(), not_sent, attempt=1, attempts=3, connected=True) is Verdict.NON_COMPLIANT
    ended = DispatchState()
    rejected = DispatchResult("rejected")
    assert ended.verdict(schedule(), rejected, attempt=3, attempts=3, connected=True) is Verdict.DROP


def samples(*power_w: float) -> list[MeterSample]:
    return [MeterSample(START + timedelta(minutes=k), power_w=w) for k, w in enumerate(power_w)]


def test_what_an_ev_shows_reaches_the_next_plan_and_is_forgotten_with_its_transaction() -> None:
    state = DispatchState(allocation={1: profile(11, 11, 11, 11)})
    assert not state.observe(1, [MeterSample(START, power_w=3700, phases=1)])  # no profile known in force
    state.dispatched(schedule(power_kw=(11.0,) * 4), DispatchResult("accepted", limits_kw=(11.0,) * 4), START)
    earlier = MeterSample(START - timedelta(minutes=1), power_w=0)
    assert not state.observe(1, [earlier])  # drawn under the limits before: says nothing of these
    assert state.observe(1, [MeterSample(START, power_w=3700, phases=1)])  # one phase, 3.7 kW of 11
    observed = state.observations(START)
    assert observed.phases == {1: 1}
    assert observed.max_kw == {1: pytest.approx(3.885)}  # what it draws, +5 %
    assert not state.observe(2, samples(0, 0))  # no allocation: nothing to compare
    state.transaction_ended(1)
    assert (state.allocation, state.sent, state.ev) == ({}, {}, {})


def test_a_sample_taken_before_a_new_profile_but_received_after_counts_under_its_own_limits() -> None:
    state = DispatchState()
    state.dispatched(schedule(power_kw=(11.0,) * 4), DispatchResult("accepted"), START)
    later = START + timedelta(minutes=3)
    state.dispatched(schedule(power_kw=(7.0,) * 4), DispatchResult("accepted"), later)  # a replan meanwhile
    taken = MeterSample(START + timedelta(minutes=2), power_w=4000)  # 4 kW under 11: its own ceiling
    assert state.observe(1, [taken])
    assert state.observations(later).max_kw == {1: pytest.approx(4.2)}
    before = MeterSample(START - timedelta(minutes=1), power_w=4000)  # before any limit we know of
    assert not state.observe(2, [before])


def test_the_default_limit_shares_the_safe_capacity_among_the_connectors() -> None:
    assert default_limit_kw(site(), 4, 1.0) == pytest.approx(13.75)  # (min(60, 100) - 5) / 4
    assert default_limit_kw(site(), 0, 0.5) == pytest.approx(27.5)
    assert default_limit_kw(site(safety_margin_kw=80.0), 2, 1.0) == 0.0


def test_a_default_limit_under_the_minimum_is_zero() -> None:
    three_phase_min_kw = 3 * 230 * 6 / 1000
    assert default_limit_kw(site(), 4, 1.0, three_phase_min_kw) == pytest.approx(13.75)
    assert default_limit_kw(site(), 40, 1.0, three_phase_min_kw) == 0.0  # 1.4 kW each: a pause, honestly


def test_a_reading_is_wanted_for_a_new_ev_and_after_a_raise_only() -> None:
    state = DispatchState(allocation={1: profile(7, 7, 7, 7)})
    accepted = DispatchResult("accepted")
    assert state.dispatched(schedule(power_kw=(7.0,) * 4), accepted, START)  # new to us
    state.ev[1] = EvTrace(ceiling_kw=7.0)
    assert not state.dispatched(schedule(power_kw=(6.0,) * 4), accepted, START + STEP)  # lowered
    assert state.dispatched(schedule(power_kw=(9.0,) * 4), accepted, START + STEP)  # raised
    assert not state.dispatched(schedule(power_kw=(0.0,) * 4), accepted, START + STEP)  # paused


def test_the_charge_points_of_non_compliant_transactions_are_counted_until_they_end() -> None:
    state = DispatchState(allocation={1: profile(7), 2: profile(7)}, charge_point_of={1: "CP1", 2: "CP2"})
    assert state.non_compliant_charge_points() == set()
    rejected = DispatchResult("rejected")
    assert state.verdict(schedule(), rejected, attempt=3, attempts=3, connected=True) is Verdict.NON_COMPLIANT
    assert state.non_compliant_charge_points() == {"CP1"}
    state.transaction_ended(1)
    assert state.non_compliant_charge_points() == set()
