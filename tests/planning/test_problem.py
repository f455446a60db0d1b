"""The plan builder as a pure function: a site snapshot of plain data in, the optimiser's problem out."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

import optimizer
from app.domain.planning import Override, OverrideKind, OverrideScope, SessionDemand, Site, SiteGroup
from app.domain.repositories.planning import PastSession
from app.domain.snapshot import ActiveTransaction, SiteChargePoint, SiteConnector, SiteSnapshot
from app.services.planning.problem import (
    ASSUMED_PRIORITY,
    PROMISE_MARGIN,
    Observations,
    Plan,
    SentProfile,
    build_plan,
    next_override_change,
)
from app.services.planning.revisions import promises_short, revision_of

START = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)
H = 8  # intervals of 15 minutes: two hours
STEP_3P = 3 * 230 * 6 / 1000 / 4  # kWh of a quarter hour at 6 A on three phases: 1.035
STEP_1P = 230 * 6 / 1000 / 4  # ... on one phase: 0.345


def site(**values: object) -> Site:
    fields: dict[str, object] = {
        "id": 1,
        "name": "depot",
        "timezone": "UTC",
        "grid_connection_limit_kw": 100.0,
        "fallback_limit_kw": 60.0,
        "safety_margin_kw": 5.0,
    }
    return Site(**(fields | values))  # type: ignore[arg-type]


def tx(tx_id: int, cp: str = "CP1", connector: int = 1, tag: str = "T1") -> ActiveTransaction:
    return ActiveTransaction(tx_id, cp, connector, tag, START - timedelta(minutes=30), 1000)


def snapshot(**values: object) -> SiteSnapshot:
    fields: dict[str, object] = {
        "site": site(),
        "start": START,
        "end": START + timedelta(minutes=15 * H),
        "charge_points": (SiteChargePoint("CP1", True, None), SiteChargePoint("CP2", True, None)),
        "connectors": (
            SiteConnector("CP1", 1, 3, 230.0, 16.0),
            SiteConnector("CP2", 1, 1, 230.0, 32.0),
        ),
        "transactions": (tx(11), tx(12, "CP2", tag="T2")),
    }
    return SiteSnapshot(**(fields | values))  # type: ignore[arg-type]


def override(
    kind: OverrideKind, scope: OverrideScope, value: float | None = None, **values: object
) -> Override:
    fields: dict[str, object] = {
        "id": 1,
        "scope": scope.value,
        "kind": kind.value,
        "value": value,
        "valid_from": START,
        "valid_until": None,
        "reason": "test",
    }
    return Override(**(fields | values))  # type: ignore[arg-type]


def session(problem: optimizer.ScheduleProblem, key: str) -> optimizer.Session:
    return next(s for s in problem.sessions if s.id == key)


def test_capacity_is_the_fallback_within_the_grid_less_the_margin_without_a_forecast() -> None:
    plan = build_plan(snapshot(), horizon=H)
    assert plan.problem.capacity_kw == (55.0,) * H
    assert plan.problem.start == START
    assert plan.site_id == 1


def test_a_forecast_row_lowers_the_intervals_it_covers() -> None:
    forecast = {7: (START - timedelta(hours=1), "f1")}
    rows = ((7, START + timedelta(minutes=30), START + timedelta(minutes=60), 20.0),)
    plan = build_plan(snapshot(forecasts=forecast, forecast_rows=rows), horizon=H)
    assert plan.problem.capacity_kw == (55.0, 55.0, 15.0, 15.0, 55.0, 55.0, 55.0, 55.0)


def test_sessions_take_their_connector_and_unknown_demand_fills_the_horizon() -> None:
    plan = build_plan(snapshot(), horizon=H)
    three_phase, one_phase = session(plan.problem, "11"), session(plan.problem, "12")
    assert three_phase.max_kw == pytest.approx(3 * 230 * 16 / 1000)
    assert one_phase.max_kw == pytest.approx(230 * 32 / 1000)
    assert three_phase.arrival == START  # plugged in now, though it started half an hour ago
    assert three_phase.departure == START + timedelta(minutes=15 * H)
    assert three_phase.energy_kwh == pytest.approx(three_phase.max_kw * 2)  # as much as it can take
    assert plan.sessions["12"].phases == 1
    assert plan.sessions["11"].demand_source == "energy:unknown,departure:unknown"


def test_an_unreported_connector_has_the_connector_defaults() -> None:
    plan = build_plan(snapshot(connectors=()), horizon=H)
    assert plan.sessions["11"].phases == 3
    assert plan.sessions["11"].voltage_v == 230.0
    assert plan.sessions["11"].max_kw == pytest.approx(3 * 230 * 32 / 1000)


def test_demand_less_what_was_delivered_and_the_departure_within_the_horizon() -> None:
    demand = SessionDemand(transaction_id=11, departure=START + timedelta(minutes=50), energy_kwh=10.0)
    plan = build_plan(snapshot(demands={11: demand}, delivered_wh={11: 4000.0}), horizon=H)
    s = session(plan.problem, "11")
    assert s.energy_kwh == pytest.approx(6 * STEP_3P)  # 6 kWh left, in whole steps at the minimum
    # a promise (energy and departure stated) is planned to be kept a quarter of the time left early
    assert s.departure == START + timedelta(minutes=50 - 50 / 4)
    assert plan.sessions["11"].departure == START + timedelta(minutes=50)  # what it is stored with
    assert plan.sessions["11"].delivered_kwh == 4.0
    assert plan.sessions["11"].demand_source == "energy:api,departure:api"
    past = build_plan(
        snapshot(demands={11: replace(demand, departure=START - timedelta(hours=1))}), horizon=H
    )
    assert session(past.problem, "11").departure == START + timedelta(minutes=15)  # at least one interval


def test_a_promise_is_planned_to_be_kept_before_its_departure() -> None:
    far = SessionDemand(transaction_id=11, departure=START + timedelta(hours=2), energy_kwh=10.0)
    open_ended = SessionDemand(transaction_id=12, departure=START + timedelta(hours=2))
    seen = Observations(phases={11: 3, 12: 3})  # both EVs have shown what they draw (`test_unseen_...`)
    plan = build_plan(snapshot(demands={11: far, 12: open_ended}), horizon=H, observations=seen)
    assert session(plan.problem, "11").departure == START + timedelta(hours=2) - PROMISE_MARGIN
    assert session(plan.problem, "12").departure == START + timedelta(hours=2)  # no promise: its departure
    near = replace(far, departure=START + timedelta(minutes=10))
    late = build_plan(
        snapshot(demands={11: near}), horizon=H, observations=seen, now=START + timedelta(minutes=5)
    )
    assert session(late.problem, "11").departure == START + timedelta(minutes=15)  # this interval at least
    # its margin reaches back into the next interval: planned to the end of that interval while it stays,
    # so the profile in force at the next boundary does not drop to 0 before the replan there
    soon = replace(far, departure=START + timedelta(minutes=35))
    behind = build_plan(snapshot(demands={11: soon}), horizon=H, observations=seen)
    assert session(behind.problem, "11").departure == START + timedelta(minutes=30)


def test_a_promise_whose_ev_has_not_drawn_yet_is_timed_as_a_slow_ev_until_it_does() -> None:
    # 10 kWh by 4 h from now on a 3 × 16 A connector: 0.9 h for an 11 kW EV, put off until late as one; a
    # 3.7 kW single-phase EV needs 2.7 h, and an EV never charged never shows it is one
    promise = SessionDemand(transaction_id=11, departure=START + timedelta(hours=4), energy_kwh=10.0)
    day = snapshot(demands={11: promise}, end=START + timedelta(hours=8))
    unseen = build_plan(day, horizon=32)
    slow_h = 10.0 / (230 * 16 / 1000) - 10.0 / unseen.sessions["11"].max_kw
    assert unseen.sessions["11"].unseen_h == pytest.approx(slow_h)
    deadline = START + timedelta(hours=4) - timedelta(hours=slow_h) - PROMISE_MARGIN
    assert session(unseen.problem, "11").departure == deadline
    for shown in (Observations(phases={11: 3}), Observations(max_kw={11: 11.0})):
        assert build_plan(day, horizon=32, observations=shown).sessions["11"].unseen_h == 0.0
    drawn = replace(day, delivered_wh={11: 500.0})  # it has drawn (no per-phase currents reported)
    assert build_plan(drawn, horizon=32).sessions["11"].unseen_h == 0.0
    open_ended = replace(day, demands={11: replace(promise, departure=None)})
    assert build_plan(open_ended, horizon=32).sessions["11"].unseen_h == 0.0  # not a promise


def test_site_defaults_and_tag_history_fill_in_missing_demand() -> None:
    defaults = build_plan(snapshot(site=site(default_energy_kwh=7.0)), horizon=H)
    assert session(defaults.problem, "11").energy_kwh == pytest.approx(7 * STEP_3P)
    hour = timedelta(hours=1)
    history = tuple(
        PastSession("T2", START - (k + 1) * 2 * hour, START - (k + 1) * 2 * hour + hour, kwh * 1000)
        for k, kwh in enumerate((5.0, 9.0, 7.0))
    )
    estimated = build_plan(snapshot(past_sessions=history), horizon=H)
    assert session(estimated.problem, "12").energy_kwh == pytest.approx(21 * STEP_1P)
    assert session(estimated.problem, "12").departure == START + timedelta(minutes=30)  # started 30 min ago


def test_offline_and_non_compliant_sessions_are_fixed_at_their_maximum() -> None:
    cps = (SiteChargePoint("CP1", False, None), SiteChargePoint("CP2", True, None))
    plan = build_plan(
        snapshot(charge_points=cps), horizon=H, observations=Observations(non_compliant=frozenset({12}))
    )
    assert {k: ps.assumption for k, ps in plan.sessions.items()} == {"11": "offline", "12": "non_compliant"}
    fixed = {o.session: o for o in plan.problem.overrides}
    assert fixed["11"].kind is optimizer.OverrideKind.FIXED
    assert fixed["11"].power_kw == pytest.approx(plan.sessions["11"].max_kw)
    assert session(plan.problem, "12").priority == ASSUMED_PRIORITY
    assert len(plan.notes) == 2


def test_an_offline_charge_point_is_assumed_at_the_limits_it_holds_not_its_nameplate() -> None:
    # CP1 (11 kW) holds a TxProfile of 4.1 kW for two intervals, then 0; after the profile, its default
    cps = (SiteChargePoint("CP1", False, None), SiteChargePoint("CP2", True, None))
    held = SentProfile(START - timedelta(minutes=15), 15, (9.0, 4.1, 4.1, 0.0))
    tight = snapshot(site=site(fallback_limit_kw=14.0), charge_points=cps)  # 9 kW
    seen = Observations(installed={11: held}, default_kw={"CP1": 2.0})
    plan = build_plan(tight, horizon=H, observations=seen)
    result = optimizer.solve(plan.problem)
    assert result.schedules["11"].power_kw == pytest.approx((4.1, 4.1, 0.0) + (2.0,) * (H - 3))
    # CP2 gets the room CP1 leaves (at CP1's nameplate, 11 kW, it got nothing)
    assert result.schedules["12"].power_kw == pytest.approx((4.9, 4.9, 7.36) + (7.0,) * (H - 3))
    assert session(plan.problem, "11").priority == ASSUMED_PRIORITY
    unknown = build_plan(tight, horizon=H, observations=Observations(installed={11: held}))
    fixed = [o for o in unknown.problem.overrides if o.session == "11"]
    assert fixed[-1].valid_from == START + timedelta(minutes=45)  # after the profile, no default known:
    assert fixed[-1].power_kw == pytest.approx(11.04)  # its maximum


def test_an_observed_draw_lowers_a_planned_sessions_maximum_but_never_below_its_minimum() -> None:
    plan = build_plan(snapshot(), horizon=H, observations=Observations(max_kw={11: 6.0, 12: 0.5, 99: 1.0}))
    assert session(plan.problem, "11").max_kw == 6.0
    assert session(plan.problem, "12").max_kw == pytest.approx(1.38)  # 6 A on its one phase, not 0.5 kW
    # what its minimum yields goes to the optimiser: capacity goes first where it all becomes energy
    assert session(plan.problem, "12").draw_kw == 0.5
    assert session(plan.problem, "11").draw_kw is None


def test_every_session_has_the_minimum_of_the_nearest_setting() -> None:
    plan = build_plan(snapshot(), horizon=H)
    assert session(plan.problem, "11").min_kw == pytest.approx(3 * 230 * 6 / 1000)  # the site's default
    assert session(plan.problem, "12").min_kw == pytest.approx(230 * 6 / 1000)
    assert plan.sessions["11"].min_current_a == 6.0
    connectors = (
        SiteConnector("CP1", 1, 3, 230.0, 16.0, min_current_a=8.0),
        SiteConnector("CP2", 1, 1, 230.0, 32.0),
    )
    cps = (SiteChargePoint("CP1", True, None), SiteChargePoint("CP2", True, None, min_current_a=10.0))
    stated = {12: SessionDemand(transaction_id=12, min_current_a=7.0)}
    chosen = build_plan(
        snapshot(site=site(min_current_a=5.0), connectors=connectors, charge_points=cps, demands=stated),
        horizon=H,
    )
    assert {k: ps.min_current_a for k, ps in chosen.sessions.items()} == {"11": 8.0, "12": 7.0}
    site_only = build_plan(snapshot(site=site(min_current_a=0.0)), horizon=H)
    assert session(site_only.problem, "11").min_kw == 0.0


def test_the_minimum_never_exceeds_what_the_connector_can_give() -> None:
    tiny = (SiteConnector("CP1", 1, 1, 230.0, 4.0), SiteConnector("CP2", 1, 1, 230.0, 32.0))
    plan = build_plan(snapshot(connectors=tiny), horizon=H)
    assert session(plan.problem, "11").min_kw == session(plan.problem, "11").max_kw == pytest.approx(0.92)


def test_assumed_sessions_have_no_minimum_of_their_own() -> None:
    cps = (SiteChargePoint("CP1", False, None), SiteChargePoint("CP2", True, None))
    plan = build_plan(snapshot(charge_points=cps), horizon=H)
    assert session(plan.problem, "11").min_kw == 0.0


def test_a_tight_site_pauses_some_sessions_rather_than_giving_all_less_than_their_minimum() -> None:
    evs = tuple(ActiveTransaction(20 + k, f"CP{k}", 1, f"T{k}", START, 0) for k in range(4))
    cps = tuple(SiteChargePoint(f"CP{k}", True, None) for k in range(4))
    connectors = tuple(SiteConnector(f"CP{k}", 1, 3, 230.0, 16.0) for k in range(4))
    tight = snapshot(
        site=site(fallback_limit_kw=15.0), transactions=evs, charge_points=cps, connectors=connectors
    )
    plan = build_plan(tight, horizon=H)
    result = optimizer.solve(plan.problem)
    for schedule in result.schedules.values():
        assert all(p == 0 or p >= 4.14 - 1e-6 for p in schedule.power_kw)
    for t in range(H):
        assert sum(s.power_kw[t] for s in result.schedules.values()) <= 10.0 + 1e-6
    assert sum(s.delivered_kwh for s in result.schedules.values()) > 0


def test_site_and_group_caps_lower_limits_in_their_window_only() -> None:
    groups = (
        SiteGroup(id=5, site_id=1, name="feeder", capacity_kw=30.0),
        SiteGroup(id=6, site_id=1, parent_id=5, name="row"),
    )
    cps = (SiteChargePoint("CP1", True, 6), SiteChargePoint("CP2", True, None))
    later = {"valid_from": START + timedelta(hours=1)}
    caps = (
        override(OverrideKind.cap_kw, OverrideScope.site, 40.0, **later),
        override(OverrideKind.cap_kw, OverrideScope.group, 10.0, id=2, group_id=6, **later),
    )
    plan = build_plan(snapshot(groups=groups, charge_points=cps, overrides=caps), horizon=H)
    assert plan.problem.capacity_kw == (55.0,) * 4 + (40.0,) * 4
    by_id = {g.id: g for g in plan.problem.groups}
    assert (by_id["g5"].capacity_kw, by_id["g5"].parent) == ((30.0,) * H, None)
    # the unlimited group becomes limited by its override: the site's capacity elsewhere, 10 in the window
    assert (by_id["g6"].capacity_kw, by_id["g6"].parent) == ((55.0,) * 4 + (10.0,) * 4, "g5")
    assert session(plan.problem, "11").group == "g6"
    assert session(plan.problem, "12").group is None


def test_session_overrides_reach_the_planned_sessions_in_scope() -> None:
    rules = (
        override(OverrideKind.pause, OverrideScope.transaction, transaction_id=11),
        override(
            OverrideKind.fixed_kw, OverrideScope.connector, 3.0, id=2, charge_point_id="CP2", connector_id=1
        ),
        override(OverrideKind.cap_kw, OverrideScope.transaction, 4.0, id=3, transaction_id=12),
        override(OverrideKind.priority, OverrideScope.site, 5.0, id=4, site_id=1),
    )
    plan = build_plan(snapshot(overrides=rules), horizon=H)
    kinds = sorted((o.session, o.kind.value, o.power_kw) for o in plan.problem.overrides)
    assert kinds == [("11", "pause", 0.0), ("12", "cap", 4.0), ("12", "fixed", 3.0)]
    assert {s.id: s.priority for s in plan.problem.sessions} == {"11": 5, "12": 5}


def test_a_cap_on_a_charge_point_groups_its_sessions() -> None:
    cap = override(OverrideKind.cap_kw, OverrideScope.charge_point, 6.0, id=9, charge_point_id="CP1")
    plan = build_plan(snapshot(overrides=(cap,)), horizon=H)
    (group,) = plan.problem.groups
    assert (group.id, group.capacity_kw, group.parent) == ("cp:CP1:9", (6.0,) * H, None)
    assert session(plan.problem, "11").group == "cp:CP1:9"


def test_overrides_leave_assumed_sessions_alone() -> None:
    pause = override(OverrideKind.pause, OverrideScope.site, site_id=1)
    cps = (SiteChargePoint("CP1", False, None), SiteChargePoint("CP2", True, None))
    plan = build_plan(snapshot(charge_points=cps, overrides=(pause,)), horizon=H)
    paused = {o.session for o in plan.problem.overrides if o.kind is optimizer.OverrideKind.PAUSE}
    assert paused == {"12"}


def test_the_last_bit_of_a_stated_demand_is_a_whole_interval_at_the_minimum() -> None:
    demand = SessionDemand(transaction_id=11, energy_kwh=1.5)
    plan = build_plan(snapshot(demands={11: demand}), horizon=H)
    assert session(plan.problem, "11").energy_kwh == pytest.approx(2 * STEP_3P)
    result = optimizer.solve(plan.problem)
    assert result.schedules["11"].delivered_kwh >= 1.5  # not cut to one interval at the minimum
    met = build_plan(snapshot(demands={11: demand}, delivered_wh={11: 1500.0}), horizon=H)
    assert session(met.problem, "11").energy_kwh == 0.0


def test_a_session_that_stated_energy_and_departure_is_a_promise() -> None:
    soon = START + timedelta(hours=1)
    demands = {
        11: SessionDemand(transaction_id=11, departure=soon, energy_kwh=4.0),
        12: SessionDemand(transaction_id=12, energy_kwh=4.0),  # no departure: a wish, not a promise
    }
    plan = build_plan(snapshot(demands=demands, delivered_wh={11: 1000.0}), horizon=H)
    assert session(plan.problem, "11").promised
    assert not session(plan.problem, "12").promised
    assert plan.sessions["11"].promised_kwh == pytest.approx(3.0)  # what is left of it, not rounded up
    assert plan.sessions["12"].promised_kwh is None
    estimated = build_plan(
        snapshot(site=site(default_energy_kwh=7.0, default_duration_minutes=60)), horizon=H
    )
    assert not any(s.promised for s in estimated.problem.sessions)


def test_promises_are_met_before_open_ended_demand_on_a_tight_site() -> None:
    # 8.3 kW for a promise of 4 kWh in an hour (three-phase, 11 kW) and an open-ended single-phase session
    # that could take all of it: the promise is kept, the rest goes to the other
    soon = START + timedelta(hours=1)
    promise = SessionDemand(transaction_id=11, departure=soon, energy_kwh=4.0)
    tight = snapshot(site=site(fallback_limit_kw=13.3), demands={11: promise})
    plan = build_plan(tight, horizon=H)
    result = optimizer.solve(plan.problem)
    assert result.schedules["11"].delivered_kwh >= 4.0 - 1e-6
    assert result.schedules["12"].delivered_kwh > 0
    assert promises_short(plan, result) == []


def test_a_promise_that_cannot_be_kept_is_named_with_its_shortfall_and_cause() -> None:
    soon = START + timedelta(hours=1)
    promises = {
        11: SessionDemand(transaction_id=11, departure=soon, energy_kwh=8.0),
        12: SessionDemand(transaction_id=12, departure=soon, energy_kwh=30.0),  # 7.4 kW for an hour
    }
    plan = build_plan(snapshot(site=site(fallback_limit_kw=17.0), demands=promises), horizon=H)
    result = optimizer.solve(plan.problem)
    lines = promises_short(plan, result)
    assert any("transaction 12" in line and "its maximum, 7.4 kW" in line for line in lines)
    assert any("transaction 11" in line and "the capacity of site" in line for line in lines)
    revision, _ = revision_of(plan, result, "test", START)
    assert set(lines) <= set(revision.messages)


def test_sessions_take_turns_when_their_minimums_do_not_all_fit() -> None:
    # six 11 kW sessions on 9 kW: two at their minimum at a time. Replanned every interval with what each
    # got, nobody waits more than the others' turns
    evs = tuple(ActiveTransaction(20 + k, f"CP{k}", 1, f"T{k}", START, 0) for k in range(6))
    cps = tuple(SiteChargePoint(f"CP{k}", True, None) for k in range(6))
    connectors = tuple(SiteConnector(f"CP{k}", 1, 3, 230.0, 16.0) for k in range(6))
    delivered_wh = dict.fromkeys(range(20, 26), 0.0)
    waited = dict.fromkeys(range(20, 26), 0)
    longest = dict.fromkeys(range(20, 26), 0)
    for step in range(12):
        start = START + timedelta(minutes=15 * step)
        base = snapshot(site=site(fallback_limit_kw=14.0), transactions=evs, charge_points=cps)
        now = replace(base, connectors=connectors, start=start, end=start + timedelta(minutes=15 * H))
        plan = build_plan(replace(now, delivered_wh=dict(delivered_wh)), horizon=H)
        schedules = optimizer.solve(plan.problem).schedules
        assert sum(s.power_kw[0] for s in schedules.values()) <= 9.0 + 1e-6
        for tx_id in delivered_wh:
            power_kw = schedules[str(tx_id)].power_kw[0]
            delivered_wh[tx_id] += power_kw * 250  # a quarter hour
            waited[tx_id] = 0 if power_kw > 0 else waited[tx_id] + 1
            longest[tx_id] = max(longest[tx_id], waited[tx_id])
    # two at a time out of six, turns of two intervals: nobody waits more than the two other turns
    assert max(longest.values()) <= 4
    assert min(delivered_wh.values()) > 0


def test_a_priority_buys_a_larger_share_and_never_starves_the_others() -> None:
    evs = tuple(ActiveTransaction(20 + k, f"CP{k}", 1, f"T{k}", START, 0) for k in range(3))
    cps = tuple(SiteChargePoint(f"CP{k}", True, None) for k in range(3))
    connectors = tuple(SiteConnector(f"CP{k}", 1, 3, 230.0, 16.0) for k in range(3))
    demands = {20 + k: SessionDemand(transaction_id=20 + k, energy_kwh=12.0) for k in range(3)}
    base = snapshot(
        site=site(fallback_limit_kw=20.0),
        transactions=evs,
        charge_points=cps,
        connectors=connectors,
        demands=demands,
    )
    first = override(OverrideKind.priority, OverrideScope.transaction, 5.0, transaction_id=20)
    high = optimizer.solve(build_plan(replace(base, overrides=(first,)), horizon=H).problem).schedules
    assert high["20"].delivered_kwh > high["21"].delivered_kwh
    assert high["21"].delivered_kwh > 0
    assert high["22"].delivered_kwh > 0
    lowered = replace(first, value=0.0)
    equal = optimizer.solve(build_plan(replace(base, overrides=(lowered,)), horizon=H).problem).schedules
    shares = [equal[k].delivered_kwh for k in ("20", "21", "22")]
    assert max(shares) - min(shares) < STEP_3P + 1e-6  # equal, up to one interval at the minimum


def test_the_current_interval_counts_only_the_overrides_in_force_when_it_is_planned() -> None:
    at = START + timedelta(minutes=5)
    rules = (
        override(OverrideKind.pause, OverrideScope.transaction, transaction_id=11, valid_until=at),
        override(
            OverrideKind.pause,
            OverrideScope.transaction,
            id=2,
            transaction_id=12,
            valid_from=at + timedelta(minutes=5),
            valid_until=at + timedelta(minutes=30),
        ),
        override(OverrideKind.cap_kw, OverrideScope.site, 20.0, id=3, valid_from=at + timedelta(minutes=1),
                 valid_until=at + timedelta(minutes=2)),
    )  # fmt: skip
    before = build_plan(snapshot(overrides=rules), horizon=H)  # planned at the interval's start
    assert {o.session for o in before.problem.overrides} == {"11", "12"}
    during = build_plan(snapshot(overrides=rules), horizon=H, now=at + timedelta(minutes=1))
    assert during.problem.capacity_kw == (20.0,) + (55.0,) * (H - 1)
    plan = build_plan(snapshot(overrides=rules), horizon=H, now=at)
    # 11's pause has run out; 12's starts with the next interval (replanned when it begins); the cap
    # begins and ends within what is left of the interval: it counts when it begins
    (pause,) = plan.problem.overrides
    assert (pause.session, pause.valid_from) == ("12", START + timedelta(minutes=15))
    assert plan.problem.capacity_kw == (55.0,) * H
    snap = snapshot(overrides=rules)
    assert next_override_change(snap, at) == at + timedelta(minutes=1)
    assert next_override_change(snap, at + timedelta(minutes=2)) == at + timedelta(minutes=5)


def test_an_ev_that_reports_its_soc_is_planned_to_have_its_tail_before_it_tapers() -> None:
    demand = SessionDemand(transaction_id=12, departure=START + timedelta(hours=6), energy_kwh=20.0)
    day = snapshot(demands={12: demand}, end=START + timedelta(hours=8))

    def plan(charge: tuple[float, float] | None) -> Plan:
        observed = Observations(phases={12: 3}, charge={12: charge} if charge else {})
        return build_plan(day, horizon=32, observations=observed)

    tapered = plan((0.7, 60.0))  # 70 % of 60 kWh, to full: most of it in the taper
    extra = tapered.sessions["12"].taper_h
    assert extra > 0.5
    gained = session(plan(None).problem, "12").departure - session(tapered.problem, "12").departure
    assert gained == timedelta(hours=extra)
    assert plan((0.1, 60.0)).sessions["12"].taper_h == 0.0  # 10 % → 43 %: no taper on the way
