"""The scheduler with fakes for its ports: a store of plain data, a profile sender that answers as told, a
clock that stands still. No database, no sockets: what it plans, stores, sends, retries and gives up on."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.bus import EventBus
from app.domain.events import (
    ChargePointBooted,
    ChargePointPlaced,
    ForecastPosted,
    MeterSample,
    MeterValuesReceived,
    OverrideChanged,
    SiteChanged,
    TransactionStopped,
)
from app.domain.planning import Override, OverrideKind, OverrideScope
from app.domain.ports import DispatchResult, TxSchedule
from app.domain.snapshot import (
    ActiveTransaction,
    DefaultProfileBasis,
    SiteChargePoint,
    SiteConnector,
    SiteSnapshot,
)
from app.services.errors import NotFound
from app.services.planning.scheduler import Scheduler, SchedulerSettings
from tests.fakes import FakeClock, FakePlans, FakeSender, FakeStore, until
from tests.planning.test_problem import site

pytestmark = pytest.mark.anyio

NOW = datetime(2030, 1, 7, 8, 5, tzinfo=UTC)
START = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)
H = 8


def snapshot(*tx_ids: int) -> SiteSnapshot:
    return SiteSnapshot(
        site=site(),
        start=START,
        end=START + timedelta(minutes=15 * H),
        charge_points=(SiteChargePoint("CP1", True, None),),
        connectors=tuple(SiteConnector("CP1", n, 3, 230.0, 16.0) for n in (1, 2)),
        transactions=tuple(ActiveTransaction(tx, "CP1", tx, "T", START, 0) for tx in tx_ids),
    )


@dataclass
class Running:
    scheduler: Scheduler
    store: FakeStore
    sender: FakeSender
    clock: FakeClock
    bus: EventBus

    @property
    def plans(self) -> FakePlans:
        return self.store.plans


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    bus, clock = EventBus(), FakeClock(NOW)
    store = FakeStore(bus, FakePlans(snapshots={1: snapshot(1, 2)}, sites_of={"CP1": 1}))
    sender = FakeSender(connected={"CP1"})
    scheduler = Scheduler(store, sender, clock, bus, SchedulerSettings(horizon_intervals=H, debounce_s=0))
    await scheduler.start()
    try:
        yield Running(scheduler, store, sender, clock, bus)
    finally:
        await scheduler.stop()


async def test_a_forecast_replans_the_site_stores_the_revision_and_sends_each_profile(
    running: Running,
) -> None:
    running.bus.publish(ForecastPosted(1, 7, START, START + timedelta(hours=2)))
    await until(lambda: len(running.store.batched.dispatches) == 2)
    ((revision, entries),) = running.plans.revisions
    assert revision.trigger == "forecast posted"
    assert revision.created_at == NOW
    assert revision.capacity_kw == [55.0] * H
    assert sorted(e.transaction_id for e in entries) == [1, 2]
    assert {e.assumption for e in entries} == {"planned"}
    assert sorted(s.transaction_id for s in running.sender.sent) == [1, 2]
    sent = {s.transaction_id: s.power_kw for s in running.sender.sent}
    assert all(sent[e.transaction_id] == tuple(e.power_kw) for e in entries)
    assert sum(sent[1][0:1] + sent[2][0:1]) <= 55.0 + 1e-6
    assert {(d.status, d.purpose, d.revision_id) for d in running.store.batched.dispatches} == {
        ("accepted", "TxProfile", revision.id)
    }


async def test_a_simulation_clock_is_held_while_the_plan_is_made_and_sent(running: Running) -> None:
    held_while_sending: list[int] = []
    send = running.sender.send_tx_profile

    async def sending(schedule: TxSchedule) -> DispatchResult:
        held_while_sending.append(running.clock.holds)
        return await send(schedule)

    running.sender.send_tx_profile = sending  # type: ignore[method-assign]
    await running.scheduler.replan_now(1, "operator request")
    assert held_while_sending == [1, 1]
    assert running.clock.holds == 0


async def test_a_simulation_clock_is_held_through_the_debounce_too() -> None:
    """The debounce is the service's latency as much as the plan: on an accelerated clock a new session
    would otherwise wait its simulated equivalent (36 s at ×720) for its first profile."""
    bus, clock = EventBus(), FakeClock(NOW)
    store = FakeStore(bus, FakePlans(snapshots={1: snapshot(1, 2)}, sites_of={"CP1": 1}))
    settings = SchedulerSettings(horizon_intervals=H, debounce_s=3600)
    scheduler = Scheduler(store, FakeSender(connected={"CP1"}), clock, bus, settings)
    await scheduler.start()
    try:
        scheduler.request(1, "transaction started")
        await until(lambda: clock.holds == 1)
        assert store.plans.revisions == []  # still debouncing, and time stands still meanwhile
    finally:
        await scheduler.stop()
    assert clock.holds == 0


async def test_an_unchanged_plan_sends_nothing_again(running: Running) -> None:
    await running.scheduler.replan_now(1, "first")
    await running.scheduler.replan_now(1, "second")
    assert len(running.plans.revisions) == 2
    assert len(running.sender.sent) == 2


async def test_a_refused_profile_is_retried_then_planned_at_the_maximum(running: Running) -> None:
    running.sender.answers[2] = ["rejected", "rejected", "rejected"]
    await running.scheduler.replan_now(1, "operator request")
    await until(lambda: any("non-compliant 2" in r.trigger for r, _ in running.plans.revisions))
    assert [s.transaction_id for s in running.sender.sent].count(2) == 3  # the first try and two retries
    assert [s for s in running.clock.slept if s < 10] == [
        2.0,
        4.0,
    ]  # backoff (readings, the ticker wait longer)
    await until(lambda: len(running.plans.revisions) == 2)
    _, entries = running.plans.revisions[-1]
    assert {e.transaction_id: e.assumption for e in entries} == {1: "planned", 2: "non_compliant"}
    statuses = [(d.transaction_id, d.status, d.attempt) for d in running.store.batched.dispatches]
    assert (2, "rejected", 3) in statuses


async def test_an_offline_charge_point_gets_no_profile(running: Running) -> None:
    running.sender.connected.clear()
    await running.scheduler.replan_now(1, "operator request")
    assert running.sender.sent == []
    assert running.store.batched.dispatches == []


async def test_an_ev_drawing_far_below_its_allocation_is_capped_and_the_site_replanned(
    running: Running,
) -> None:
    await running.scheduler.replan_now(1, "first")
    allocated_kw = running.sender.sent[0].power_kw[0]
    assert allocated_kw > 2
    low = tuple(MeterSample(NOW + timedelta(minutes=k), power_w=500) for k in range(2))
    running.bus.publish(MeterValuesReceived("CP1", 1, 1, lambda: low))
    await until(lambda: len(running.plans.revisions) == 2)
    revision, entries = running.plans.revisions[-1]
    assert revision.trigger == "EV learnt 1"
    # capped at what it draws (+10 %), but never below its minimum: 6 A on three phases
    assert {e.transaction_id: e.max_kw for e in entries}[1] == pytest.approx(4.14)


async def test_a_single_phase_ev_is_planned_and_limited_on_its_one_phase(running: Running) -> None:
    await running.scheduler.replan_now(1, "first")
    one_phase = (MeterSample(NOW + timedelta(minutes=1), power_w=3680, current_a=16.0, phases=1),)
    running.bus.publish(MeterValuesReceived("CP1", 1, 1, lambda: one_phase))
    await until(lambda: len(running.plans.revisions) == 2)
    _, entries = running.plans.revisions[-1]
    assert {e.transaction_id: e.max_kw for e in entries}[1] == pytest.approx(3.68)  # 16 A on its one phase
    await until(lambda: [s.transaction_id for s in running.sender.sent].count(1) == 2)
    latest = [s for s in running.sender.sent if s.transaction_id == 1][-1]
    assert latest.phases == 1  # its limit in amperes is for the phase it uses


async def test_a_booted_charge_point_gets_its_default_profile(running: Running) -> None:
    running.plans.bases["CP1"] = DefaultProfileBasis(
        site(), connectors=4, phases=1, voltage_v=220.0, min_current_a=6.0
    )
    running.bus.publish(ChargePointBooted("CP1", "Accepted", "v", "m", NOW))
    await until(lambda: any(d.purpose == "TxDefaultProfile" for d in running.store.batched.dispatches))
    assert running.sender.defaults == [("CP1", pytest.approx(13.75), 1, 220.0)]
    await until(lambda: len(running.plans.revisions) == 1)
    assert running.plans.revisions[0][0].trigger == "BootNotification"


async def test_a_stopped_transaction_replans_without_it(running: Running) -> None:
    await running.scheduler.replan_now(1, "first")
    running.plans.snapshots[1] = snapshot(1)
    running.bus.publish(TransactionStopped(2, "CP1", 2, "T", NOW, 5000, "Local"))
    await until(lambda: len(running.plans.revisions) == 2)
    assert [e.transaction_id for e in running.plans.revisions[-1][1]] == [1]
    assert 2 not in running.scheduler.state.allocation


async def test_an_interval_boundary_replans_every_site(running: Running) -> None:
    await until(lambda: running.scheduler._sites.get(1) is not None)  # the ticker saw the site
    running.clock.advance(timedelta(minutes=10))
    await until(lambda: len(running.plans.revisions) == 1)
    assert running.plans.revisions[0][0].trigger == "interval boundary"


async def test_an_unknown_site_is_not_planned(running: Running) -> None:
    running.plans.snapshots.clear()
    with pytest.raises(NotFound, match="site 9"):
        await running.scheduler.replan_now(9, "operator request")
    assert running.plans.revisions == []


async def test_new_limits_are_followed_by_a_meter_reading_for_a_new_ev(running: Running) -> None:
    await running.scheduler.replan_now(1, "first")
    await until(lambda: len(running.sender.readings) == 2)
    assert sorted(running.sender.readings) == [("CP1", 1), ("CP1", 2)]
    assert 30.0 in running.clock.slept  # a moment after the limits took effect


def paused_for(minutes: int, tx: int = 1) -> Override:
    return Override(
        id=1,
        scope=OverrideScope.transaction.value,
        site_id=1,
        charge_point_id="CP1",
        transaction_id=tx,
        kind=OverrideKind.pause.value,
        valid_from=NOW,
        valid_until=NOW + timedelta(minutes=minutes),
        reason="test",
    )


def latest_kw(running: Running, tx: int) -> float:
    return [s for s in running.sender.sent if s.transaction_id == tx][-1].power_kw[0]


async def test_a_pause_is_lifted_at_its_end_not_at_the_next_boundary(running: Running) -> None:
    running.plans.snapshots[1] = replace(snapshot(1, 2), overrides=(paused_for(2),))
    await running.scheduler.replan_now(1, "override created")
    assert latest_kw(running, 1) == 0.0
    running.clock.advance(timedelta(minutes=1))  # still paused: no replan
    running.clock.advance(timedelta(minutes=1))  # 08:07, its end; the boundary is at 08:15
    await until(lambda: len(running.plans.revisions) == 2)
    assert running.plans.revisions[-1][0].trigger == "override in or out of force"
    assert running.plans.revisions[-1][0].created_at == NOW + timedelta(minutes=2)
    await until(lambda: latest_kw(running, 1) > 0)


async def test_a_wake_up_is_moved_when_the_override_changes(running: Running) -> None:
    running.plans.snapshots[1] = replace(snapshot(1, 2), overrides=(paused_for(2),))
    await running.scheduler.replan_now(1, "override created")
    running.plans.snapshots[1] = replace(snapshot(1, 2), overrides=(paused_for(4),))
    running.bus.publish(OverrideChanged(1, "updated", "transaction", 1, "CP1", 1, NOW, NOW))
    await until(lambda: len(running.plans.revisions) == 2)
    running.clock.advance(timedelta(minutes=2))  # the old end: nothing
    running.clock.advance(timedelta(minutes=1))
    assert len(running.plans.revisions) == 2
    assert latest_kw(running, 1) == 0.0
    running.clock.advance(timedelta(minutes=1))  # the new end
    await until(lambda: len(running.plans.revisions) == 3)
    await until(lambda: latest_kw(running, 1) > 0)


async def test_a_charge_point_placed_in_a_site_gets_a_default_profile_with_the_others(
    running: Running,
) -> None:
    running.plans.sites_of.update({"CP2": 1, "CP3": 1})
    running.sender.connected.add("CP2")  # CP3 is offline: it gets its own when it boots
    running.plans.bases.update(
        {cp: DefaultProfileBasis(site(), connectors=6, phases=3, voltage_v=230.0, min_current_a=6.0)
         for cp in ("CP1", "CP2", "CP3")}
    )  # fmt: skip
    running.bus.publish(ChargePointPlaced("CP2", 1, None, None))
    await until(lambda: len(running.sender.defaults) == 2)
    assert sorted(d[:2] for d in running.sender.defaults) == [
        ("CP1", pytest.approx(55 / 6)),
        ("CP2", pytest.approx(55 / 6)),
    ]
    await until(lambda: len(running.plans.revisions) == 1)
    assert running.plans.revisions[0][0].trigger == "charge point placed"


async def test_a_charge_point_taken_out_of_its_site_gets_nothing_new(running: Running) -> None:
    running.sender.connected.add("CP2")  # no longer in site 1; CP1 now shares its fallback with one less
    basis = DefaultProfileBasis(site(), connectors=2, phases=3, voltage_v=230.0, min_current_a=6.0)
    running.plans.bases.update({"CP1": basis, "CP2": basis})
    running.bus.publish(ChargePointPlaced("CP2", None, None, 1))
    await until(lambda: len(running.plans.revisions) == 1 and len(running.sender.defaults) == 1)
    assert running.sender.defaults[0][0] == "CP1"
    assert running.plans.revisions[0][0].trigger == "charge point placed"


async def test_a_change_of_the_fallback_sends_new_default_profiles_and_replans(running: Running) -> None:
    running.plans.bases["CP1"] = DefaultProfileBasis(
        site(fallback_limit_kw=22.0), connectors=2, phases=3, voltage_v=230.0, min_current_a=6.0
    )
    running.bus.publish(SiteChanged(1, frozenset({"name"})))
    running.bus.publish(SiteChanged(1, frozenset({"fallback_limit_kw"})))
    await until(lambda: len(running.sender.defaults) == 1)
    assert running.sender.defaults[0][:2] == ("CP1", pytest.approx(8.5))  # (22 - 5) / 2
    await until(lambda: len(running.plans.revisions) == 1)
    assert running.plans.revisions[0][0].trigger == "site changed"


async def test_an_over_drawing_transaction_is_recorded_and_planned_at_its_draw_then_forgiven(
    running: Running,
) -> None:
    tight = snapshot(1, 2)
    running.plans.snapshots[1] = SiteSnapshot(**{**tight.__dict__, "site": site(fallback_limit_kw=18.0)})
    await running.scheduler.replan_now(1, "first")  # 13 kW of capacity: 6.5 kW each
    limit_kw = next(s for s in running.sender.sent if s.transaction_id == 1).power_kw[0]
    assert limit_kw == pytest.approx(6.5)
    later = NOW + timedelta(minutes=1)  # after the limit was accepted and the EV had time to settle
    over = tuple(MeterSample(later + timedelta(minutes=k), power_w=11000) for k in range(2))
    running.bus.publish(MeterValuesReceived("CP1", 1, 1, lambda: over))
    await until(lambda: len(running.plans.revisions) == 2)
    revision, entries = running.plans.revisions[-1]
    assert revision.trigger == "non-compliant 1 (over_draw)"
    mine = next(e for e in entries if e.transaction_id == 1)
    assert (mine.assumption, mine.max_kw, mine.power_kw[0]) == ("non_compliant", 11.0, 11.0)
    assert sum(e.power_kw[0] for e in entries) <= 13.0 + 1e-6  # the other makes room
    [event] = running.plans.compliance
    assert (event.transaction_id, event.site_id, event.charge_point_id) == (1, 1, "CP1")
    assert event.connector_id == 1
    assert (event.non_compliant, event.reason, event.measured_kw) == (True, "over_draw", 11.0)
    assert event.limit_kw == pytest.approx(limit_kw)

    within = tuple(MeterSample(later + timedelta(minutes=k), power_w=limit_kw * 1000) for k in (2, 3))
    running.bus.publish(MeterValuesReceived("CP1", 1, 1, lambda: within))
    await until(lambda: len(running.plans.revisions) == 3)
    revision, entries = running.plans.revisions[-1]
    assert revision.trigger == "compliant 1 (over_draw)"
    assert {e.transaction_id: e.assumption for e in entries} == {1: "planned", 2: "planned"}
    assert [e.non_compliant for e in running.plans.compliance] == [True, False]


@dataclass
class FakeShard:
    """The sites one scheduler of several holds."""

    sites: set[int]
    name: str = "sched-x"

    def owns(self, site_id: int) -> bool:
        return site_id in self.sites


async def test_a_sharded_scheduler_plans_only_the_sites_it_holds() -> None:
    bus, clock = EventBus(), FakeClock(NOW)
    store = FakeStore(bus, FakePlans(snapshots={1: snapshot(1, 2)}, sites_of={"CP1": 1}))
    sender = FakeSender(connected={"CP1"})
    shard = FakeShard(sites={2})
    settings = SchedulerSettings(horizon_intervals=H, debounce_s=0)
    scheduler = Scheduler(store, sender, clock, bus, settings, shard=shard)
    await scheduler.start()
    try:
        # another scheduler's site: its events, and a request, are left to that scheduler
        bus.publish(ForecastPosted(1, 7, START, START + timedelta(hours=2)))
        bus.publish(TransactionStopped(1, "CP1", 1, "T", NOW, 100, None))
        scheduler.request(1, "interval boundary")
        await bus.drain()
        shard.sites.add(1)  # taken over: planned as in one process, the revision says by whom
        bus.publish(ForecastPosted(1, 8, START, START + timedelta(hours=2)))
        await until(lambda: len(store.batched.dispatches) == 2)
        ((revision, entries),) = store.plans.revisions  # one: the site's earlier events were ignored
        assert (revision.trigger, revision.planned_by) == ("forecast posted", "sched-x")
        assert sorted(s.transaction_id for s in sender.sent) == [1, 2]
    finally:
        await scheduler.stop()


async def test_solves_run_in_a_process_pool_when_asked() -> None:
    bus, clock = EventBus(), FakeClock(NOW)
    store = FakeStore(bus, FakePlans(snapshots={1: snapshot(1, 2)}, sites_of={"CP1": 1}))
    settings = SchedulerSettings(horizon_intervals=H, debounce_s=0, solve_processes=1)
    scheduler = Scheduler(store, FakeSender(connected={"CP1"}), clock, bus, settings)
    await scheduler.start()
    try:
        await scheduler.replan_now(1, "operator request")
        ((revision, entries),) = store.plans.revisions
        assert revision.status == "optimal"
        assert revision.planned_by is None  # one process: no shard
        assert sum(e.power_kw[0] for e in entries) <= 55.0 + 1e-6
    finally:
        await scheduler.stop()


async def test_sites_asking_at_once_are_planned_a_few_at_a_time() -> None:
    # at an interval boundary every site asks: only `plan_concurrency` of them hold a connection at once
    bus, clock = EventBus(), FakeClock(NOW)
    plans = FakePlans(snapshots={site_id: snapshot(1, 2) for site_id in range(1, 13)}, sites_of={"CP1": 1})
    store = FakeStore(bus, plans)
    settings = SchedulerSettings(horizon_intervals=H, debounce_s=0, plan_concurrency=3)
    scheduler = Scheduler(store, FakeSender(), clock, bus, settings)
    under_way, most = 0, 0
    load = plans.snapshot

    async def loading(site_id: int, at: datetime, horizon: int, *, history: int) -> SiteSnapshot | None:
        nonlocal under_way, most
        under_way += 1
        most = max(most, under_way)
        try:
            await asyncio.sleep(0.01)
            return await load(site_id, at, horizon, history=history)
        finally:
            under_way -= 1

    plans.snapshot = loading  # type: ignore[method-assign]
    await scheduler.start()
    try:
        for site_id in range(1, 13):
            scheduler.request(site_id, "interval boundary")
        await until(lambda: len(plans.revisions) == 12)
        assert most == 3
    finally:
        await scheduler.stop()
