"""Group commit: many connections' messages share transactions; none lost, order kept, failures isolated."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from websockets.asyncio.client import ClientConnection, connect

from app.db import batched
from app.db.engine import Database
from app.db.tables.ocpp import connector_table, meter_value_table, status_notification_table
from app.domain.messages import StatusReport
from app.domain.metering import DEFAULT_MEASURAND, MeterValuesMessage, SampledValue
from app.domain.ocpp import ChargePoint, Connector, MeterValue, StatusNotification
from ocpp_gateway import OcppServer
from ocpp_gateway.wire import format_timestamp
from tests.gateway.helpers import url

pytestmark = pytest.mark.anyio

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CHARGE_POINTS = 12
MESSAGES = 15


async def exchange(ws: ClientConnection, unique_id: str, action: str, payload: dict[str, Any]) -> list[Any]:
    """Send one CALL and return its reply (answering the central system's own CALLs meanwhile)."""
    await ws.send(json.dumps([2, unique_id, action, payload]))
    while True:
        message = json.loads(await ws.recv())
        if message[0] == 2:
            await ws.send(json.dumps([3, message[1], {}]))
        elif message[1] == unique_id:
            return list(message)


def meter(value: int, at: datetime) -> dict[str, Any]:
    sampled = [{"value": str(value), "unit": "Wh"}, {"value": "7000", "measurand": "Power.Active.Import"}]
    return {"connectorId": 1, "meterValue": [{"timestamp": format_timestamp(at), "sampledValue": sampled}]}


async def count(database: Database, cp_id: str) -> int:
    async with database.session() as session:
        query = (
            select(func.count()).select_from(MeterValue).where(meter_value_table.c.charge_point_id == cp_id)
        )
        return int(await session.scalar(query) or 0)


async def test_every_message_stored_in_order_and_committed_before_its_callresult(gateway: OcppServer) -> None:
    async def charge_point(index: int) -> None:
        cp_id = f"GC{index}"
        async with connect(url(gateway, cp_id), subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            boot = {"chargePointVendor": "v", "chargePointModel": "m"}
            assert (await exchange(ws, "b", "BootNotification", boot))[0] == 3
            for n in range(MESSAGES):
                at = START + timedelta(seconds=n)
                reply = await exchange(ws, f"m{n}", "MeterValues", meter(n, at))
                assert reply[0] == 3
                # the CALLRESULT came after the commit: both samples are visible to anyone now
                assert await count(gateway.store.database, cp_id) == 2 * (n + 1)
                status = {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}
                status["timestamp"] = format_timestamp(at)
                assert (await exchange(ws, f"s{n}", "StatusNotification", status))[0] == 3
                assert (await exchange(ws, f"h{n}", "Heartbeat", {}))[0] == 3

    before = (
        gateway.store.database.group_commit.stats.units,
        gateway.store.database.group_commit.stats.batches,
    )
    await asyncio.gather(*(charge_point(i) for i in range(CHARGE_POINTS)))
    stats = gateway.store.database.group_commit.stats
    assert stats.units - before[0] > stats.batches - before[1], "units of several connections shared a batch"
    async with gateway.store.database.session() as session:
        for index in range(CHARGE_POINTS):
            cp_id = f"GC{index}"
            energy = await session.exec(
                select(MeterValue)
                .where(
                    meter_value_table.c.charge_point_id == cp_id,
                    meter_value_table.c.measurand == DEFAULT_MEASURAND,
                )
                .order_by(meter_value_table.c.id)
            )
            assert [int(row.value) for row in energy] == list(range(MESSAGES)), "every one, in sending order"
            statuses = await session.exec(
                select(StatusNotification)
                .where(status_notification_table.c.charge_point_id == cp_id)
                .order_by(status_notification_table.c.id)
            )
            stamps = [row.timestamp for row in statuses]
            assert len(stamps) == MESSAGES
            assert stamps == sorted(stamps)
            row = await session.get(ChargePoint, cp_id)
            assert row is not None
            assert row.last_heartbeat_at is not None


async def test_replayed_meter_values_stored_once(gateway: OcppServer) -> None:
    async with connect(url(gateway, "REPLAY"), subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        frame = [2, "", "MeterValues", meter(42, START)]
        for n in range(4):  # pipelined: the charge point retries before hearing back
            await ws.send(json.dumps(frame[:1] + [f"r{n}"] + frame[2:]))
        replies = []
        while len(replies) < 4:
            message = json.loads(await ws.recv())
            if message[0] == 2:
                await ws.send(json.dumps([3, message[1], {}]))
            else:
                replies.append(message)
    assert [(r[0], r[1]) for r in replies] == [(3, f"r{n}") for n in range(4)]
    assert await count(gateway.store.database, "REPLAY") == 2


async def add_charge_point(database: Database, cp_id: str) -> None:
    async with database.session() as session:
        session.add(ChargePoint(id=cp_id))


def status_row(cp_id: str, n: int) -> Any:
    async def unit(session: AsyncSession) -> int:
        row = StatusNotification(
            charge_point_id=cp_id, connector_id=1, status="Available", error_code=f"E{n}", received_at=START
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id

    return unit


def samples(value: str) -> list[SampledValue]:
    return [SampledValue(timestamp=START, value=value)]


async def test_a_failing_unit_does_not_lose_the_rest_of_its_batch(database: Database) -> None:
    await add_charge_point(database, "OK")
    units = [status_row("OK", n) for n in range(20)]
    units.insert(7, status_row("NO-SUCH-CHARGE-POINT", 99))  # a foreign key violation
    bulk = [MeterValuesMessage("OK", 1, None, samples(str(n)), START) for n in range(5)]
    results = await asyncio.gather(
        *(database.run(unit) for unit in units),
        *(database.run_bulk(batched.store_meter_values, message) for message in bulk),
        return_exceptions=True,
    )
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 1
    assert isinstance(failed[0], IntegrityError)
    assert isinstance(results[7], IntegrityError)
    assert database.group_commit.stats.retried_batches >= 1, "the units did share a batch"
    assert results[len(units) :] == [(None, 1)] * len(bulk)
    async with database.session() as session:
        stored = list(await session.exec(select(status_notification_table.c.error_code)))
        assert sorted(stored) == sorted(f"E{n}" for n in range(20))
        assert int(await session.scalar(select(func.count()).select_from(MeterValue)) or 0) == len(bulk)


async def test_each_caller_gets_its_own_result(database: Database) -> None:
    await add_charge_point(database, "HOOK")
    results = await asyncio.gather(
        database.run(status_row("HOOK", 1)),
        database.run(status_row("MISSING", 2)),
        database.run(status_row("HOOK", 3)),
        return_exceptions=True,
    )
    assert isinstance(results[1], IntegrityError)
    assert all(isinstance(r, int) for r in (results[0], results[2]))
    async with database.session() as session:
        ids = set(await session.exec(select(status_notification_table.c.id)))
    assert {results[0], results[2]} == ids


async def test_store_many_dedups_within_and_across_batches(database: Database) -> None:
    await add_charge_point(database, "DUP")
    first = MeterValuesMessage("DUP", 1, None, samples("1") + samples("1") + samples("2"), START)
    again = MeterValuesMessage("DUP", 1, None, samples("2") + samples("3"), START)
    async with database.session() as session:
        assert await batched.store_meter_values(session, [first, again]) == [(None, 2), (None, 1)]
    async with database.session() as session:
        assert await batched.store_meter_values(session, [again]) == [(None, 0)]
        assert int(await session.scalar(select(func.count()).select_from(MeterValue)) or 0) == 3
    # Some stored, some new: each message is told of its own new samples only.
    partly = MeterValuesMessage("DUP", 1, None, samples("3") + samples("4") + samples("5"), START)
    async with database.session() as session:
        assert await batched.store_meter_values(session, [again, partly]) == [(None, 0), (None, 2)]
    async with database.session() as session:
        stored = set(await session.exec(select(meter_value_table.c.value)))
    assert stored == {"1", "2", "3", "4", "5"}


async def test_update_many_applies_rows_of_one_charge_point_in_order(database: Database) -> None:
    await add_charge_point(database, "SEEN")
    later = START + timedelta(minutes=1)
    async with database.session() as session:
        await batched.touch_many(session, [("SEEN", later), ("SEEN", START)])
    async with database.session() as session:
        row = await session.get(ChargePoint, "SEEN")
    assert row is not None
    assert row.last_seen_at == START


async def test_record_statuses_judges_each_report_of_a_connector_in_one_batch_against_the_one_before(
    database: Database,
) -> None:
    await add_charge_point(database, "ST")
    now = START + timedelta(hours=1)

    def report(status: str, minutes: int, connector_id: int = 1) -> tuple[str, StatusReport, datetime]:
        at = START + timedelta(minutes=minutes)
        return ("ST", StatusReport(connector_id, status, "NoError", at), now)

    batch = [
        report("Preparing", 1),
        report("Available", 5, connector_id=2),
        report("Charging", 2),
        report("Finishing", 0),  # older than what connector 1 holds by now: history only
        report("SuspendedEV", 90),  # ahead of `now`: orders as `now`
    ]
    async with database.session() as session:
        assert await batched.record_statuses(session, batch) == [True, True, True, False, True]
    async with database.session() as session:
        assert await batched.record_statuses(session, [report("Faulted", 59)]) == [False]
        live = {
            row.connector_id: (row.status, row.status_at)
            for row in await session.exec(select(Connector).where(connector_table.c.charge_point_id == "ST"))
        }
        history = await session.scalar(select(func.count()).select_from(StatusNotification))
    assert live == {1: ("SuspendedEV", now), 2: ("Available", START + timedelta(minutes=5))}
    assert history == len(batch) + 1
