"""Authorize, StartTransaction, StopTransaction: idempotent starts, replay-safe stops, reservations."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call
from sqlmodel import select
from websockets.asyncio.client import connect

from app.db.engine import Database
from app.db.store import SqlUnitOfWork
from app.domain.clock import as_utc
from app.domain.events import TransactionStarted, TransactionStopped
from app.domain.ocpp import ChargePoint, IdTag, MeterValue, Reservation, Transaction
from app.services.ocpp import transactions
from ocpp_gateway import OcppServer
from ocpp_gateway.wire import format_timestamp
from tests.gateway.helpers import EventLog, add_id_tag, connect_charge_point, eventually, url

pytestmark = pytest.mark.anyio


def ts(value: datetime) -> str:
    return format_timestamp(value)


NOW = datetime.now(UTC).replace(microsecond=0)


async def test_authorize_statuses(gateway: OcppServer) -> None:
    expiry = NOW + timedelta(days=30)
    await add_id_tag(gateway, "PARENT")
    await add_id_tag(gateway, "GOOD", parent_id_tag="PARENT", expiry_date=expiry)
    await add_id_tag(gateway, "BLOCKED", blocked=True)
    await add_id_tag(gateway, "OLD", expiry_date=NOW - timedelta(days=1))
    await add_id_tag(gateway, "CHILD-OF-BLOCKED", parent_id_tag="BLOCKED")
    async with connect_charge_point(gateway, "CP1") as cp:
        good = await cp.call(call.Authorize(id_tag="GOOD"))
        statuses = [
            (await cp.call(call.Authorize(id_tag=tag))).id_tag_info["status"]
            for tag in ("BLOCKED", "OLD", "NOBODY", "CHILD-OF-BLOCKED")
        ]
    assert good.id_tag_info["status"] == "Accepted"
    assert good.id_tag_info["parent_id_tag"] == "PARENT"
    assert datetime.fromisoformat(good.id_tag_info["expiry_date"]) == expiry
    assert statuses == ["Blocked", "Expired", "Invalid", "Blocked"]


async def test_concurrent_tx_only_in_start_transaction(gateway: OcppServer) -> None:
    # OCPP 1.6 §7.2 AuthorizationStatus: ConcurrentTx is "only relevant for a StartTransaction.req";
    # Authorize answers the tag's own status (a driver presents the same card to stop).
    await add_id_tag(gateway, "ONE", max_active_transactions=1)
    async with connect_charge_point(gateway, "CP1") as cp:
        assert (await cp.call(call.Authorize(id_tag="ONE"))).id_tag_info["status"] == "Accepted"
        await cp.call(call.StartTransaction(connector_id=1, id_tag="ONE", meter_start=0, timestamp=ts(NOW)))
        assert (await cp.call(call.Authorize(id_tag="ONE"))).id_tag_info["status"] == "Accepted"
        second = await cp.call(
            call.StartTransaction(connector_id=2, id_tag="ONE", meter_start=0, timestamp=ts(NOW))
        )
        assert second.id_tag_info["status"] == "ConcurrentTx"  # stored all the same
        await add_id_tag(gateway, "FLEET", max_active_transactions=0)  # 0: no limit
        for connector in (3, 4):
            await cp.call(
                call.StartTransaction(
                    connector_id=connector, id_tag="FLEET", meter_start=0, timestamp=ts(NOW)
                )
            )
        assert (await cp.call(call.Authorize(id_tag="FLEET"))).id_tag_info["status"] == "Accepted"


async def test_start_and_stop_are_stored(gateway: OcppServer) -> None:
    events = EventLog(gateway.bus)
    await add_id_tag(gateway, "TAG")
    async with connect_charge_point(gateway, "CP1") as cp:
        started = await cp.call(
            call.StartTransaction(connector_id=2, id_tag="TAG", meter_start=1000, timestamp=ts(NOW))
        )
        stopped = await cp.call(
            call.StopTransaction(
                meter_stop=8500,
                timestamp=ts(NOW + timedelta(hours=1)),
                transaction_id=started.transaction_id,
                id_tag="TAG",
                reason="EVDisconnected",
                transaction_data=[
                    {
                        "timestamp": ts(NOW + timedelta(hours=1)),
                        "sampledValue": [{"value": "8.5", "unit": "kWh", "context": "Transaction.End"}],
                    }
                ],
            )
        )
    assert started.id_tag_info["status"] == "Accepted"
    assert stopped.id_tag_info["status"] == "Accepted"
    async with gateway.store.database.session() as session:
        tx = await session.get(Transaction, started.transaction_id)
        values = (await session.exec(select(MeterValue))).all()
    assert tx is not None
    assert (tx.charge_point_id, tx.connector_id, tx.id_tag, tx.meter_start_wh) == ("CP1", 2, "TAG", 1000)
    assert as_utc(tx.start_timestamp) == NOW
    assert (tx.meter_stop_wh, tx.stop_reason, tx.stop_id_tag) == (8500, "EVDisconnected", "TAG")
    assert as_utc(tx.stop_timestamp) == NOW + timedelta(hours=1)  # type: ignore[arg-type]
    assert [(v.source, v.transaction_id, v.value_normalised, v.unit_normalised) for v in values] == [
        ("StopTransaction", tx.id, 8500.0, "Wh")
    ]
    await eventually(lambda: events.of(TransactionStarted) and events.of(TransactionStopped))
    assert events.of(TransactionStarted)[0].meter_start_wh == 1000
    assert events.of(TransactionStopped)[0].meter_stop_wh == 8500


async def test_identical_start_retry_returns_the_same_id(gateway: OcppServer) -> None:
    events = EventLog(gateway.bus)
    await add_id_tag(gateway, "TAG")
    request = call.StartTransaction(connector_id=1, id_tag="TAG", meter_start=42, timestamp=ts(NOW))
    async with connect_charge_point(gateway, "CP1") as cp:
        first = await cp.call(request)  # each call() has a new message id
        second = await cp.call(request)
        other = await cp.call(
            call.StartTransaction(connector_id=1, id_tag="TAG", meter_start=43, timestamp=ts(NOW))
        )
    assert first.transaction_id == second.transaction_id
    assert second.id_tag_info["status"] == "Accepted"
    assert other.transaction_id != first.transaction_id
    async with gateway.store.database.session() as session:
        assert len((await session.exec(select(Transaction))).all()) == 2
    await eventually(lambda: len(events.of(TransactionStarted)) == 2)


async def test_concurrent_identical_starts_create_one_transaction(database: Database) -> None:
    async with database.session() as session:
        session.add(ChargePoint(id="CP1"))
        session.add(IdTag(id_tag="TAG"))

    async def start() -> int:
        async with database.session() as session:
            result = await transactions.start_transaction(
                SqlUnitOfWork(session),
                "CP1",
                connector_id=1,
                id_tag="TAG",
                meter_start_wh=5,
                timestamp=NOW,
                reservation_id=None,
                now=NOW,
            )
        return result.transaction_id

    ids = await asyncio.gather(*(start() for _ in range(5)))
    assert len(set(ids)) == 1
    async with database.session() as session:
        assert len((await session.exec(select(Transaction))).all()) == 1


async def test_offline_transaction_with_unknown_tag_is_stored(gateway: OcppServer) -> None:
    async with connect_charge_point(gateway, "CP1") as cp:
        started = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag="STRANGER", meter_start=0, timestamp=ts(NOW - timedelta(hours=3))
            )
        )
    assert started.id_tag_info["status"] == "Invalid"
    async with gateway.store.database.session() as session:
        tx = await session.get(Transaction, started.transaction_id)
    assert tx is not None
    assert (tx.id_tag, tx.id_tag_status) == ("STRANGER", "Invalid")


async def test_stop_replay_and_unknown_transactions(gateway: OcppServer) -> None:
    events = EventLog(gateway.bus)
    await add_id_tag(gateway, "TAG")
    data = [{"timestamp": ts(NOW), "sampledValue": [{"value": "100"}]}]
    async with connect_charge_point(gateway, "CP1") as cp:
        started = await cp.call(
            call.StartTransaction(connector_id=1, id_tag="TAG", meter_start=0, timestamp=ts(NOW))
        )
        stop = call.StopTransaction(
            meter_stop=100, timestamp=ts(NOW), transaction_id=started.transaction_id, transaction_data=data
        )
        await cp.call(stop)
        await cp.call(stop)  # replayed after a lost CALLRESULT
        later = call.StopTransaction(meter_stop=999, timestamp=ts(NOW), transaction_id=started.transaction_id)
        await cp.call(later)
        minus_one = await cp.call(
            call.StopTransaction(meter_stop=5, timestamp=ts(NOW), transaction_id=-1, id_tag="TAG")
        )
        unknown = await cp.call(call.StopTransaction(meter_stop=5, timestamp=ts(NOW), transaction_id=123456))
    assert minus_one.id_tag_info["status"] == "Accepted"
    assert unknown.id_tag_info is None
    async with gateway.store.database.session() as session:
        tx = await session.get(Transaction, started.transaction_id)
        values = (await session.exec(select(MeterValue))).all()
    assert tx is not None
    assert tx.meter_stop_wh == 100  # the first stop holds
    assert tx.stop_reason == "Local"  # the spec's default reason
    assert len(values) == 1
    await eventually(lambda: events.of(TransactionStopped))
    await gateway.bus.drain()
    assert len(events.of(TransactionStopped)) == 1


async def test_reservation_is_honoured(gateway: OcppServer) -> None:
    await add_id_tag(gateway, "GROUP")
    await add_id_tag(gateway, "RESERVER", parent_id_tag="GROUP")
    await add_id_tag(gateway, "MEMBER", parent_id_tag="GROUP")
    await add_id_tag(gateway, "OUTSIDER")
    expiry = ts(NOW + timedelta(hours=1))
    async with connect_charge_point(gateway, "CP1") as cp:
        await cp.call(call.Heartbeat())
        await gateway.commands.send(
            "CP1",
            "ReserveNow",
            {"connectorId": 1, "expiryDate": expiry, "idTag": "RESERVER", "parentIdTag": "GROUP"},
            wait=True,
        )
        async with gateway.store.database.session() as session:
            reservation = (await session.exec(select(Reservation))).one()
        assert reservation.status == "accepted"
        wrong = await cp.call(
            call.StartTransaction(
                connector_id=1,
                id_tag="OUTSIDER",
                meter_start=0,
                timestamp=ts(NOW),
                reservation_id=reservation.id,
            )
        )
        right = await cp.call(
            call.StartTransaction(
                connector_id=1,
                id_tag="MEMBER",
                meter_start=0,
                timestamp=ts(NOW),
                reservation_id=reservation.id,
            )
        )
    assert wrong.id_tag_info["status"] == "Invalid"
    assert right.id_tag_info["status"] == "Accepted"
    async with gateway.store.database.session() as session:
        used = await session.get(Reservation, reservation.id)
        tx = await session.get(Transaction, right.transaction_id)
    assert used is not None
    assert tx is not None
    assert (used.status, used.transaction_id) == ("used", right.transaction_id)
    assert tx.reservation_id == reservation.id


async def test_retransmitted_start_with_the_same_message_id(gateway: OcppServer) -> None:
    await add_id_tag(gateway, "TAG")
    payload = {"connectorId": 1, "idTag": "TAG", "meterStart": 7, "timestamp": ts(NOW)}
    frame = json.dumps([2, "start-1", "StartTransaction", payload])
    answers = []
    for _ in range(2):  # e.g. resent after a reconnect, the first CALLRESULT having been lost
        async with connect(url(gateway, "CP1"), subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            await ws.send(frame)
            answers.append(json.loads(await ws.recv()))
    assert answers[0] == answers[1]
    assert answers[0][2]["idTagInfo"] == {"status": "Accepted"}
    async with gateway.store.database.session() as session:
        assert [tx.id for tx in (await session.exec(select(Transaction))).all()] == [
            answers[0][2]["transactionId"]
        ]
