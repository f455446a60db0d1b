"""A simulated afternoon end to end: 20 simulated charge points (40 connectors, ElaadNL public sessions)
against the whole service (create_app under uvicorn, OCPP server, scheduler) on a shared accelerated clock,
through a grid operator's forecast with an evening dip; SQLite and PostgreSQL.

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
SETUP_REAL_S = 6.0  # wall time for the site, 20 charge points, 40 connectors and 40 tags over the API
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


async def binding_plans(service: Service) -> list[datetime]:
    """Starts of the checked intervals in which a plan gave out the whole capacity (the forecast bound)."""
    async with service.app.state.database.session() as session:
        revisions = (await session.exec(select(ScheduleRevision))).all()
    return [
        _utc(r.start)
        for r in revisions
        if START <= _utc(r.start) < START + timedelta(hours=HOURS)
        and r.planned_kw[0] >= r.capacity_kw[0] - 0.05
    ]


async def run_afternoon(
    service: Service, clock: ScaledClock
) -> tuple[Fleet, FleetSummary, list[dict[str, Any]]]:
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
    end = START + timedelta(hours=HOURS)
    rows = forecast_intervals(START - WARMUP - INTERVAL, end + INTERVAL, TRANSFORMER_KW, HOUSEHOLD_PEAK_KW)
    posted = await service.api.post(
        f"/sites/{site_id}/forecasts", json={"forecast_id": "e2e", "intervals": rows}
    )
    assert posted.status_code == 201, posted.text
    await clock.sleep((START - WARMUP - clock.now()).total_seconds())  # at most SETUP_REAL_S
    remaining_h = (end - clock.now()) / timedelta(hours=1)
    assert remaining_h >= HOURS + WARMUP / timedelta(hours=2), "the set-up ate half the warm-up"
    fleet = Fleet(FleetConfig(**{**config.__dict__, "duration_h": remaining_h}), clock)
    app = asyncio.create_task(driver_app(service.api, fleet))
    try:
        summary = await fleet.run()
    finally:
        app.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await app
    return fleet, summary, rows


async def test_a_simulated_afternoon_stays_inside_the_forecast_and_loses_nothing(migrated_url: str) -> None:
    anchor = datetime.now(UTC) + timedelta(seconds=SETUP_REAL_S)  # the fleet starts at START − WARMUP
    clock_start = START - WARMUP
    clock = ScaledClock(SPEED, clock_start, anchor)
    settings = {"clock_speed": SPEED, "clock_start": clock_start, "clock_anchor": anchor}
    async with running_service(migrated_url, **settings) as service:
        fleet, summary, rows = await run_afternoon(service, clock)
        calls = journal(fleet)
        starts, stops = sent_transactions(calls)
        samples = sent_samples(calls)
        for _ in range(100):  # the last answers go out as their rows are committed; bounded wait
            transactions, values = await stored(service)
            if len(transactions) >= len(starts) and len(values) >= len(samples):
                break
            await asyncio.sleep(0.05)
        bound = await binding_plans(service)

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
    limits = {_instant(r["start"]): r["limit_kw"] for r in rows}
    drawn = summary.site_power_kw  # an interval in which no EV drew anything is absent: 0 kW
    checked = [START + timedelta(minutes=15 * k) for k in range(int(HOURS * 4))]
    assert set(drawn) & set(checked), "the fleet drew power in the checked hours"
    excess = {at: drawn.get(at, 0.0) - limits[at] for at in checked}
    assert max(excess.values()) <= TOLERANCE_KW, {
        f"{at:%H:%M}": round(e, 2) for at, e in excess.items() if e > TOLERANCE_KW
    }
    assert bound, "the forecast never limited a plan: a test of nothing"
