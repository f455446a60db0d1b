"""A simulated afternoon end to end: 20 simulated charge points (40 connectors, ElaadNL public sessions)
against the whole service (create_app under uvicorn, OCPP server, scheduler) on a shared accelerated clock,
through a grid operator's forecast with an evening dip; SQLite and PostgreSQL.

The checked hours follow the warm-up, which ends once the service has caught up with the fleet's start
(no more messages queued in the charge points than they have connectors, every session of the first half
of the warm-up sent its profile). Every wait ends on a condition, with a limit only as a safety net, so that
a busy machine makes the test slower, not red: a set-up that ends late starts the fleet later, and the
charge points deliver all they queued by the end before the run stops.

Checked from the charge points' side, independently of what the service says about itself:
- the site's mean power per 15 minutes (the energy the EVs really drew) never exceeds the forecast by more
  than `TOLERANCE_KW` (see `app.demo.tolerance_kw`: a connector's step for as long as a new plan takes to
  reach the charge points, in simulated time; limits are rounded down to 0.1 A, so rounding adds nothing);
- every StartTransaction, StopTransaction and sampled value the charge points sent (their journal of CALLs)
  is stored, and nothing else is; no CALLERROR, no timeout, no transaction message dropped.
"""

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from app.db.tables.ocpp import meter_value_table
from app.db.tables.planning import profile_dispatch_table
from app.demo import (
    INTERVAL,
    create_site,
    driver_app,
    forecast_intervals,
    tolerance_kw,
)
from app.domain.clock import ScaledClock
from app.domain.ocpp import MeterValue, Transaction
from app.domain.planning import ScheduleRevision
from simulator import Fleet, FleetConfig, FleetSummary
from tests.e2e.service import Service, running_service

pytestmark = pytest.mark.anyio

SPEED = 360.0  # three simulated hours in 30 s
START = datetime(2024, 3, 5, 16, 0, tzinfo=UTC)  # a Tuesday: the evening dip of the forecast
HOURS = 3.0
WARMUP = timedelta(minutes=30)  # charge points boot and start their warm sessions unplanned: not checked
# Wall time the set-up (the site, 20 charge points, 40 connectors and 40 tags over the API) usually takes.
# The fleet starts once the set-up is done: at START − WARMUP, or later on a busy machine, when the checked
# hours move with it (up to LATE_START_LIMIT: the forecast posted covers that much more).
SETUP_REAL_S = 6.0
LATE_START_LIMIT = timedelta(hours=6)  # a minute of wall time late
# Safety limits only: every wait below ends as soon as its condition holds.
DRAIN_LIMIT_REAL_S = 120.0  # the fleet delivering what it queued after the end
STORED_LIMIT_REAL_S = 60.0
MIN_CHECKED = timedelta(hours=2)  # of the HOURS after the warm-up
CHARGE_POINTS = 20
CONNECTORS = 2
TRANSFORMER_KW = 1.5 * CHARGE_POINTS * CONNECTORS  # tight: the forecast binds in the evening
HOUSEHOLD_PEAK_KW = 1.0 * CHARGE_POINTS * CONNECTORS
TOLERANCE_KW = tolerance_kw(SPEED)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def journal(fleet: Fleet) -> list[tuple[str, str, dict[str, Any]]]:
    """(charge point, action, payload) of every CALL the fleet sent."""
    out = []
    for charge_point in fleet.charge_points:
        assert charge_point.stats.journal is not None
        out += [(charge_point.id, action, payload) for _, action, payload in charge_point.stats.journal]
    return out


def sent_transactions(
    calls: list[tuple[str, str, dict[str, Any]]],
) -> tuple[set[tuple[Any, ...]], dict[int, Any]]:
    starts = {
        (cp, p["connectorId"], p["idTag"], _instant(p["timestamp"]), p["meterStart"])
        for cp, action, p in calls
        if action == "StartTransaction"
    }
    stops = {
        p["transactionId"]: (_instant(p["timestamp"]), p["meterStop"])
        for _, action, p in calls
        if action == "StopTransaction"
    }
    return starts, stops


def sent_samples(calls: list[tuple[str, str, dict[str, Any]]]) -> set[tuple[Any, ...]]:
    """One key per sampled value of every MeterValues CALL."""
    return {
        (
            cp,
            p["connectorId"],
            p.get("transactionId"),
            _instant(value["timestamp"]),
            sample.get("measurand", "Energy.Active.Import.Register"),
            sample.get("phase"),
            sample.get("context", "Sample.Periodic"),
            sample["value"],
        )
        for cp, action, p in calls
        if action == "MeterValues"
        for value in p["meterValue"]
        for sample in value["sampledValue"]
    }


async def stored(service: Service) -> tuple[list[Transaction], list[MeterValue]]:
    async with service.app.state.database.session() as session:
        transactions = list((await session.exec(select(Transaction))).all())
        values = list(
            (await session.exec(select(MeterValue).where(meter_value_table.c.source == "MeterValues"))).all()
        )
    return transactions, values


async def stored_all(
    service: Service, starts: int, samples: int
) -> tuple[list[Transaction], list[MeterValue]]:
    """What is stored, once it holds as many transactions and samples as were sent (answers go out as their
    rows commit, so this is at once in practice), or at the safety limit (the checks then say what is not)."""

    async def complete() -> None:
        while True:
            transactions, values = await stored(service)
            if len(transactions) >= starts and len(values) >= samples:
                return
            await asyncio.sleep(0.05)

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(complete(), STORED_LIMIT_REAL_S)
    return await stored(service)


async def binding_plans(service: Service, checked: list[datetime]) -> list[datetime]:
    """Starts of the checked intervals in which a plan gave out the whole capacity (the forecast bound)."""
    async with service.app.state.database.session() as session:
        revisions = (await session.exec(select(ScheduleRevision))).all()
    return [
        _utc(r.start)
        for r in revisions
        if checked[0] <= _utc(r.start) < checked[-1] + INTERVAL and r.planned_kw[0] >= r.capacity_kw[0] - 0.05
    ]


async def dispatched(service: Service) -> set[int]:
    """Transactions the service has sent a profile to (and had the charge point's answer)."""
    async with service.app.state.database.session() as session:
        query = select(profile_dispatch_table.c.transaction_id).distinct()
        return {tx for tx in (await session.exec(query)).all() if tx is not None}


async def caught_up(service: Service, fleet: Fleet, since: datetime) -> bool:
    """The service has caught up with what the fleet did before `since`: the charge points have no more than
    a message a connector waiting to be sent, and every transaction started before `since` that still runs
    has had its profile."""
    if sum(len(charge_point.outbox) for charge_point in fleet.charge_points) > CHARGE_POINTS * CONNECTORS:
        return False
    warm = []
    for charge_point in fleet.charge_points:
        for connector in charge_point.connectors.values():
            if connector.tx is not None and connector.tx.start < since:
                if connector.tx.server_id is None:
                    return False
                warm.append(connector.tx.server_id)
    return set(warm) <= await dispatched(service)


async def warm_up(service: Service, fleet: Fleet, clock: ScaledClock, after: datetime) -> datetime:
    """The first instant from `after` at which the service has caught up with the fleet's start."""
    while True:
        now = clock.now()
        if now >= after and await caught_up(service, fleet, after):
            return now
        await asyncio.sleep(0.1)


def ceil_interval(moment: datetime) -> datetime:
    return START + -((START - moment) // INTERVAL) * INTERVAL


async def run_afternoon(
    service: Service, clock: ScaledClock
) -> tuple[Fleet, FleetSummary, list[dict[str, Any]], list[datetime]]:
    """Set up the site, start the fleet once that is done, run it until HOURS after the warm-up; the summary,
    the forecast rows posted and the checked intervals (from the end of the warm-up to the end of the run)."""
    config = FleetConfig(
        url=service.ocpp_url,
        site="e2e",
        charge_points=CHARGE_POINTS,
        connectors=CONNECTORS,
        duration_h=1.0,
        seed=3,
        journal=True,
    )
    site_id = await create_site(
        service.api,
        config,
        grid_connection_limit_kw=TRANSFORMER_KW,
        fallback_limit_kw=1.5 * CHARGE_POINTS * CONNECTORS,
    )
    rows_end = START + timedelta(hours=HOURS) + LATE_START_LIMIT + INTERVAL
    rows = forecast_intervals(START - WARMUP - INTERVAL, rows_end, TRANSFORMER_KW, HOUSEHOLD_PEAK_KW)
    posted = await service.api.post(
        f"/sites/{site_id}/forecasts", json={"forecast_id": "e2e", "intervals": rows}
    )
    assert posted.status_code == 201, posted.text
    await clock.sleep((START - WARMUP - clock.now()).total_seconds())  # none when the set-up ran late
    started = clock.now()
    earliest = ceil_interval(started + WARMUP / 2)  # START unless the set-up ran late
    end = earliest + timedelta(hours=HOURS)
    assert end + INTERVAL <= rows_end, f"the set-up ran {earliest - START} (simulated) late"
    fleet = Fleet(
        FleetConfig(**{**config.__dict__, "duration_h": (end - started) / timedelta(hours=1)}), clock
    )
    app = asyncio.create_task(driver_app(service.api, fleet))
    # the warm-up ends once the service has caught up with the fleet's start (at once unless the machine is
    # busy): from the next interval on, what the EVs draw is what the plans allow
    warmed_up = asyncio.create_task(warm_up(service, fleet, clock, started + WARMUP / 2))
    try:
        summary = await fleet.run(drain_timeout_real_s=DRAIN_LIMIT_REAL_S)
    finally:
        caught_up_at = warmed_up.result() if warmed_up.done() else None
        for task in (app, warmed_up):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    # none when the service never caught up: the test fails on it after checking that nothing was lost
    checked_from = max(earliest, ceil_interval(caught_up_at or end))
    checked = [checked_from + INTERVAL * k for k in range(max(0, (end - checked_from) // INTERVAL))]
    return fleet, summary, rows, checked


async def test_a_simulated_afternoon_stays_inside_the_forecast_and_loses_nothing(migrated_url: str) -> None:
    anchor = datetime.now(UTC) + timedelta(seconds=SETUP_REAL_S)  # the fleet starts at START − WARMUP
    clock_start = START - WARMUP
    clock = ScaledClock(SPEED, clock_start, anchor)
    settings = {"clock_speed": SPEED, "clock_start": clock_start, "clock_anchor": anchor}
    async with running_service(migrated_url, **settings) as service:
        fleet, summary, rows, checked = await run_afternoon(service, clock)
        calls = journal(fleet)
        starts, stops = sent_transactions(calls)
        samples = sent_samples(calls)
        transactions, values = await stored_all(service, len(starts), len(samples))
        bound = await binding_plans(service, checked) if checked else []

    # the charge points saw no error and lost nothing
    assert summary.call_errors == 0
    assert summary.timeouts == 0
    assert summary.transaction_messages_dropped == 0
    assert sum(len(cp.outbox) for cp in fleet.charge_points) == 0, "messages left undelivered at the end"
    assert summary.messages_sent["StartTransaction"] >= 20, "enough sessions to load the site"
    assert summary.profiles_accepted > 0
    # not all are accepted: a TxProfile that reaches a connector after its transaction ended is Rejected

    # every transaction sent is stored once, stopped as sent
    assert {
        (t.charge_point_id, t.connector_id, t.id_tag, _utc(t.start_timestamp), t.meter_start_wh)
        for t in transactions
    } == starts
    assert len(transactions) == len(starts)
    by_id = {t.id: t for t in transactions}
    assert set(stops) <= set(by_id)
    for tx, (stopped_at, meter_stop) in stops.items():
        assert by_id[tx].stop_timestamp is not None
        assert (_utc(by_id[tx].stop_timestamp), by_id[tx].meter_stop_wh) == (stopped_at, meter_stop)
    assert all(t.stop_timestamp is not None for t in transactions), (
        "every session ended at the end of the run"
    )

    # every sampled value sent is stored once
    keys = [
        (
            v.charge_point_id,
            v.connector_id,
            v.transaction_id,
            _utc(v.timestamp),
            v.measurand,
            v.phase,
            v.context,
            v.value,
        )
        for v in values
    ]
    assert len(keys) == len(set(keys))
    assert set(keys) == samples

    # the site stayed inside the forecast in every checked interval
    assert len(checked) * INTERVAL >= MIN_CHECKED, (
        f"the machine is too slow for {SPEED:.0f}x: the service caught up with the fleet's start only "
        f"{len(checked)} of {HOURS * 4:.0f} intervals before the end"
    )
    limits = {_instant(r["start"]): r["limit_kw"] for r in rows}
    drawn = summary.site_power_kw  # an interval in which no EV drew anything is absent: 0 kW
    assert set(drawn) & set(checked), "the fleet drew power in the checked hours"
    excess = {at: drawn.get(at, 0.0) - limits[at] for at in checked}
    assert max(excess.values()) <= TOLERANCE_KW, {
        f"{at:%H:%M}": round(e, 2) for at, e in excess.items() if e > TOLERANCE_KW
    }
    assert bound, "the forecast never limited a plan: a test of nothing"
