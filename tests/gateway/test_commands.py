"""The 19 central-system operations end to end: validated, recorded, sent, answered, side effects stored."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call
from sqlmodel import select

from app.db.engine import Database
from app.db.store import SqlUnitOfWork
from app.db.tables.ocpp import reservation_table
from app.domain.clock import as_utc
from app.domain.ocpp import ChargePoint, ChargePointConfiguration, Command, DataTransfer, Reservation
from app.domain.ports import CommandRefused
from app.services.ocpp.reservations import expire_reservations
from ocpp_gateway import OPERATIONS, OcppServer
from ocpp_gateway.wire import format_timestamp
from tests.gateway.helpers import (
    NO_ANSWER,
    ErrorReply,
    add_id_tag,
    connect_charge_point,
    eventually,
    running_gateway,
)

pytestmark = pytest.mark.anyio

SOON = format_timestamp(datetime.now(UTC) + timedelta(hours=1))
PROFILE = {
    "chargingProfileId": 7,
    "transactionId": 1,
    "stackLevel": 1,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": {
        "startSchedule": SOON,
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 21.4}, {"startPeriod": 900, "limit": 6.0}],
    },
}
REQUESTS: dict[str, dict[str, Any]] = {
    "Reset": {"type": "Soft"},
    "ChangeAvailability": {"connectorId": 1, "type": "Inoperative"},
    "ChangeConfiguration": {"key": "MeterValueSampleInterval", "value": "30"},
    "GetConfiguration": {"key": ["NumberOfConnectors"]},
    "ClearCache": {},
    "UnlockConnector": {"connectorId": 1},
    "RemoteStartTransaction": {"connectorId": 1, "idTag": "TAG", "chargingProfile": PROFILE},
    "RemoteStopTransaction": {"transactionId": 1},
    "ReserveNow": {"connectorId": 1, "expiryDate": SOON, "idTag": "TAG", "reservationId": 10},
    "CancelReservation": {"reservationId": 10},
    "DataTransfer": {"vendorId": "com.acme", "messageId": "ping", "data": "hello"},
    "GetDiagnostics": {"location": "ftp://diag.example.com/upload", "retries": 2},
    "UpdateFirmware": {"location": "https://fw.example.com/2.0.bin", "retrieveDate": SOON},
    "SendLocalList": {
        "listVersion": 8,
        "updateType": "Full",
        "localAuthorizationList": [{"idTag": "TAG", "idTagInfo": {"status": "Accepted"}}],
    },
    "GetLocalListVersion": {},
    "TriggerMessage": {"requestedMessage": "StatusNotification", "connectorId": 1},
    "SetChargingProfile": {"connectorId": 1, "csChargingProfiles": PROFILE},
    "ClearChargingProfile": {"id": 7},
    "GetCompositeSchedule": {"connectorId": 1, "duration": 3600, "chargingRateUnit": "A"},
}


def test_all_19_operations_are_covered() -> None:
    assert set(REQUESTS) == OPERATIONS
    assert len(OPERATIONS) == 19


async def command(gateway: OcppServer, command_id: int) -> Command:
    async with gateway.store.database.session() as session:
        row = await session.get(Command, command_id)
    assert row is not None
    return row


@pytest.mark.parametrize("action", sorted(REQUESTS))
async def test_operation_end_to_end(gateway: OcppServer, action: str) -> None:
    await add_id_tag(gateway, "TAG")  # a ReserveNow's tag must be one that may charge
    async with connect_charge_point(gateway, "CP1") as cp:
        await cp.call(call.Heartbeat())
        command_id = await gateway.commands.send("CP1", action, REQUESTS[action], author="ops", wait=True)
        assert cp.received == [(action, REQUESTS[action])]
    row = await command(gateway, command_id)
    assert (row.charge_point_id, row.action, row.payload, row.author) == (
        "CP1",
        action,
        REQUESTS[action],
        "ops",
    )
    assert row.status == "accepted"
    assert row.response == cp.responses[action]
    assert row.sent_at is not None
    assert row.completed_at is not None
    assert as_utc(row.created_at) <= as_utc(row.sent_at) <= as_utc(row.completed_at)


async def test_side_effects_of_answers(gateway: OcppServer) -> None:
    await add_id_tag(gateway, "TAG")
    async with connect_charge_point(gateway, "CP1") as cp:
        await cp.call(call.Heartbeat())
        send = gateway.commands.send
        await send("CP1", "ChangeConfiguration", REQUESTS["ChangeConfiguration"], wait=True)
        await send("CP1", "GetLocalListVersion", {}, wait=True)
        async with gateway.store.database.session() as session:
            listed = await session.get(ChargePoint, "CP1")
        await send("CP1", "SendLocalList", REQUESTS["SendLocalList"], wait=True)
        await send("CP1", "DataTransfer", REQUESTS["DataTransfer"], wait=True)
        await send("CP1", "ReserveNow", REQUESTS["ReserveNow"], wait=True)
        async with gateway.store.database.session() as session:
            reserved = await session.get(Reservation, 10)
        await send("CP1", "CancelReservation", {"reservationId": 10}, wait=True)
    async with gateway.store.database.session() as session:
        config = (await session.exec(select(ChargePointConfiguration))).all()
        charge_point = await session.get(ChargePoint, "CP1")
        cancelled = await session.get(Reservation, 10)
        transfers = (await session.exec(select(DataTransfer))).all()
    assert [(c.key, c.value) for c in config] == [("MeterValueSampleInterval", "30")]
    assert listed is not None
    assert listed.local_list_version == 7
    assert charge_point is not None
    assert charge_point.local_list_version == 8
    assert reserved is not None
    assert (reserved.status, reserved.id_tag, reserved.connector_id) == ("accepted", "TAG", 1)
    assert cancelled is not None
    assert cancelled.status == "cancelled"
    assert [(t.direction, t.vendor_id, t.status) for t in transfers] == [("outbound", "com.acme", "Accepted")]


async def test_configuration_answers_update_the_stored_keys(gateway: OcppServer) -> None:
    """GetConfiguration stores every key in one go: new keys added, known ones updated (a key twice in one
    answer: the last wins), `readonly` kept when a ChangeConfiguration sets a value."""
    async with connect_charge_point(gateway, "CP1") as cp:
        await cp.call(call.Heartbeat())
        send = gateway.commands.send
        await send("CP1", "GetConfiguration", {}, wait=True)
        await send("CP1", "ChangeConfiguration", {"key": "NumberOfConnectors", "value": "3"}, wait=True)
        cp.responses["GetConfiguration"] = {
            "configurationKey": [
                {"key": "MeterValueSampleInterval", "readonly": False, "value": "15"},
                {"key": "MeterValueSampleInterval", "readonly": False, "value": "20"},
                {"key": "ChargingScheduleMaxPeriods", "readonly": False, "value": "48"},
                {"key": "Vendor.Unset", "readonly": True},
            ]
        }
        await send("CP1", "GetConfiguration", {}, wait=True)
    async with gateway.store.database.session() as session:
        rows = (await session.exec(select(ChargePointConfiguration))).all()
    stored = {row.key: (row.value, row.readonly) for row in rows}
    assert stored == {
        "ChargingScheduleAllowedChargingRateUnit": ("Current,Power", True),
        "ChargingScheduleMaxPeriods": ("48", False),
        "ChargeProfileMaxStackLevel": ("8", True),
        "MaxChargingProfilesInstalled": ("10", True),
        "NumberOfConnectors": ("3", True),
        "MeterValueSampleInterval": ("20", False),
        "Vendor.Unset": (None, True),
    }


async def test_reservation_id_allocated_and_rejection_recorded(gateway: OcppServer) -> None:
    payload = {"connectorId": 1, "expiryDate": SOON, "idTag": "TAG"}
    await add_id_tag(gateway, "TAG")
    async with connect_charge_point(gateway, "CP1") as cp:
        await cp.call(call.Heartbeat())
        first = await gateway.commands.send("CP1", "ReserveNow", payload, wait=True)
        cp.responses["ReserveNow"] = {"status": "Occupied"}
        second = await gateway.commands.send("CP1", "ReserveNow", payload, wait=True)
        sent_ids = [p["reservationId"] for action, p in cp.received if action == "ReserveNow"]
    async with gateway.store.database.session() as session:
        reservations = (await session.exec(select(Reservation).order_by(reservation_table.c.id))).all()
    assert [r.id for r in reservations] == sent_ids
    assert len(set(sent_ids)) == 2
    assert [(r.status, r.command_id) for r in reservations] == [("accepted", first), ("rejected", second)]
    assert (await command(gateway, second)).status == "rejected"


@pytest.mark.parametrize(
    ("action", "answer", "status"),
    [
        ("Reset", {"status": "Rejected"}, "rejected"),
        ("UnlockConnector", {"status": "UnlockFailed"}, "rejected"),
        ("ChangeAvailability", {"status": "Scheduled"}, "accepted"),
        ("ChangeConfiguration", {"status": "RebootRequired"}, "accepted"),
        ("ChangeConfiguration", {"status": "NotSupported"}, "rejected"),
    ],
)
async def test_status_of_the_answer(
    gateway: OcppServer, action: str, answer: dict[str, Any], status: str
) -> None:
    async with connect_charge_point(gateway, "CP1") as cp:
        cp.responses[action] = answer
        command_id = await gateway.commands.send("CP1", action, REQUESTS[action], wait=True)
    row = await command(gateway, command_id)
    assert (row.status, row.response) == (status, answer)


async def test_call_error_is_recorded(gateway: OcppServer) -> None:
    async with connect_charge_point(gateway, "CP1") as cp:
        cp.responses["Reset"] = ErrorReply("NotSupported", "no resets here")
        command_id = await gateway.commands.send("CP1", "Reset", {"type": "Hard"}, wait=True)
    row = await command(gateway, command_id)
    assert (row.status, row.error_code, row.error_description) == ("error", "NotSupported", "no resets here")


async def test_invalid_answer_is_an_error(gateway: OcppServer) -> None:
    async with connect_charge_point(gateway, "CP1") as cp:
        cp.responses["Reset"] = {"status": "Maybe"}
        command_id = await gateway.commands.send("CP1", "Reset", {"type": "Hard"}, wait=True)
    row = await command(gateway, command_id)
    assert (row.status, row.error_code, row.response) == (
        "error",
        "PropertyConstraintViolation",
        {"status": "Maybe"},
    )


async def test_timeout(migrated_url: str) -> None:
    async with (
        running_gateway(migrated_url, ocpp_call_timeout_s=0.3) as gateway,
        connect_charge_point(gateway, "CP1") as cp,
    ):
        cp.responses["ClearCache"] = NO_ANSWER
        command_id = await gateway.commands.send("CP1", "ClearCache", {}, wait=True)
        row = await command(gateway, command_id)
        cp.responses["ClearCache"] = {"status": "Accepted"}
        after = await gateway.commands.send("CP1", "ClearCache", {}, wait=True)  # the connection still works
        assert (await command(gateway, after)).status == "accepted"
    assert row.status == "timeout"
    assert row.completed_at is not None


async def test_background_send_completes_later(gateway: OcppServer) -> None:
    async with connect_charge_point(gateway, "CP1") as cp:
        await cp.call(call.Heartbeat())
        command_id = await gateway.commands.send("CP1", "TriggerMessage", {"requestedMessage": "Heartbeat"})

        async def accepted() -> bool:
            return (await command(gateway, command_id)).status == "accepted"

        assert await eventually(accepted)


async def test_disconnect_while_waiting_is_an_error(gateway: OcppServer) -> None:
    async with connect_charge_point(gateway, "CP1") as cp:
        cp.responses["Reset"] = NO_ANSWER
        command_id = await gateway.commands.send("CP1", "Reset", {"type": "Soft"})
        await cp.wait_for_call("Reset")

    async def failed() -> Command | None:
        row = await command(gateway, command_id)
        return row if row.status != "pending" else None

    row = await eventually(failed)
    assert (row.status, row.error_code) == ("error", "ConnectionClosed")


@pytest.mark.parametrize(
    ("action", "payload", "reason"),
    [
        ("Heartbeat", {}, "unknown_action"),
        ("FlyToTheMoon", {}, "unknown_action"),
        ("Reset", {"type": "Gentle"}, "invalid"),
        ("Reset", {}, "invalid"),
        ("ChangeConfiguration", {"key": "x" * 51, "value": "1"}, "invalid"),
        ("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 1}}, "invalid"),
        ("ReserveNow", {"connectorId": 1, "expiryDate": "tomorrow", "idTag": "TAG"}, "invalid"),
        ("UpdateFirmware", {"location": "https://x", "retrieveDate": datetime.now(UTC)}, "invalid"),
        ("Reset", {"type": "Soft"}, "not_connected"),
    ],
)
async def test_refused_commands_are_not_recorded(
    gateway: OcppServer, action: str, payload: dict[str, Any], reason: str
) -> None:
    with pytest.raises(CommandRefused) as refused:
        await gateway.commands.send("CP9", action, payload)
    assert refused.value.reason == reason
    async with gateway.store.database.session() as session:
        assert (await session.exec(select(Command))).all() == []


async def test_reservations_expire(database: Database) -> None:
    now = datetime.now(UTC)
    async with database.session() as session:
        session.add(ChargePoint(id="CP1"))
        await session.flush()
        for status, hours in (("accepted", -1), ("requested", -2), ("accepted", 1), ("used", -1)):
            session.add(
                Reservation(
                    charge_point_id="CP1",
                    connector_id=1,
                    id_tag="TAG",
                    expiry_date=now + timedelta(hours=hours),
                    status=status,
                )
            )
    async with database.session() as session:
        assert await expire_reservations(SqlUnitOfWork(session), now) == 2
    async with database.session() as session:
        statuses = [
            r.status for r in (await session.exec(select(Reservation).order_by(reservation_table.c.id))).all()
        ]
    assert statuses == ["expired", "expired", "accepted", "used"]


async def test_many_commands_queue_one_call_at_a_time(gateway: OcppServer) -> None:
    async with connect_charge_point(gateway, "CP1") as cp:
        ids = await asyncio.gather(
            *(gateway.commands.send("CP1", "ClearCache", {}, wait=True) for _ in range(10))
        )
        assert len(cp.received) == 10
    assert {(await command(gateway, i)).status for i in ids} == {"accepted"}
