"""Commands refused before anything is stored or sent (issue 18): a ReserveNow whose reservationId names a
reservation it may not replace, or whose tag may not charge; a date-time that is not RFC 3339 with an
offset. Valid date-times go out as UTC with `Z`. Real gateway, real WebSocket, real database."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call
from sqlmodel import select

from app.db.tables.ocpp import reservation_table
from app.domain.ocpp import Command, Reservation
from app.domain.ports import CommandRefused
from ocpp_gateway import OcppServer
from tests.gateway.helpers import ClientChargePoint, add_id_tag, connect_charge_point

pytestmark = pytest.mark.anyio

NOW = datetime.now(UTC).replace(microsecond=0)
SOON = (NOW + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
LATER = (NOW + timedelta(hours=2)).isoformat().replace("+00:00", "Z")


def reserve(id_tag: str, reservation_id: int | None = None, connector_id: int = 1) -> dict[str, Any]:
    payload: dict[str, Any] = {"connectorId": connector_id, "expiryDate": SOON, "idTag": id_tag}
    return payload if reservation_id is None else payload | {"reservationId": reservation_id}


async def stored(gateway: OcppServer) -> tuple[list[tuple[Any, ...]], int]:
    """Every reservation (id, charge point, connector, tag, status) and how many commands were recorded."""
    async with gateway.store.database.session() as session:
        reservations = (await session.exec(select(Reservation).order_by(reservation_table.c.id))).all()
        commands = (await session.exec(select(Command))).all()
    rows = [(r.id, r.charge_point_id, r.connector_id, r.id_tag, r.status) for r in reservations]
    return rows, len(commands)


async def refused(gateway: OcppServer, cp_id: str, action: str, payload: dict[str, Any]) -> CommandRefused:
    with pytest.raises(CommandRefused) as caught:
        await gateway.commands.send(cp_id, action, payload, wait=True)
    return caught.value


def sent(client: ClientChargePoint, action: str) -> list[dict[str, Any]]:
    return [payload for name, payload in client.received if name == action]


async def test_a_reservation_id_never_replaces_another_reservation_in_passing(gateway: OcppServer) -> None:
    for tag in ("ALICE", "BOB"):
        await add_id_tag(gateway, tag)
    async with (
        connect_charge_point(gateway, "CP1") as cp1,
        connect_charge_point(gateway, "CP2") as cp2,
    ):
        await cp1.call(call.Heartbeat())
        await cp2.call(call.Heartbeat())
        await gateway.commands.send("CP1", "ReserveNow", reserve("ALICE", 7), wait=True)
        cp1.responses["CancelReservation"] = {"status": "Accepted"}
        await gateway.commands.send("CP1", "ReserveNow", reserve("ALICE", 8, connector_id=2), wait=True)
        await gateway.commands.send("CP1", "CancelReservation", {"reservationId": 8}, wait=True)
        before = await stored(gateway)

        another_tag = await refused(gateway, "CP1", "ReserveNow", reserve("BOB", 7))
        another_charge_point = await refused(gateway, "CP2", "ReserveNow", reserve("ALICE", 7))
        no_longer_open = await refused(gateway, "CP1", "ReserveNow", reserve("ALICE", 8))
        assert [e.reason for e in (another_tag, another_charge_point, no_longer_open)] == ["conflict"] * 3
        assert "another tag's" in another_tag.detail
        assert "cancelled" in no_longer_open.detail
        assert await stored(gateway) == before, "nothing stored"
        assert [p["reservationId"] for p in sent(cp1, "ReserveNow")] == [7, 8]
        assert sent(cp2, "ReserveNow") == []

        # The same tag's open reservation is replaced, as OCPP 1.6 says the charge point does.
        await gateway.commands.send("CP1", "ReserveNow", reserve("ALICE", 7, connector_id=2), wait=True)
    reservations, _ = await stored(gateway)
    assert reservations == [(7, "CP1", 2, "ALICE", "accepted"), (8, "CP1", 2, "ALICE", "cancelled")]


@pytest.mark.parametrize(
    ("id_tag", "tag_fields", "status"),
    [
        ("NOBODY", None, "Invalid"),
        ("BLOCKED", {"blocked": True}, "Blocked"),
        ("OLD", {"expiry_date": NOW - timedelta(days=1)}, "Expired"),
    ],
)
async def test_only_a_tag_that_may_charge_is_reserved(
    gateway: OcppServer, id_tag: str, tag_fields: dict[str, Any] | None, status: str
) -> None:
    if tag_fields is not None:
        await add_id_tag(gateway, id_tag, **tag_fields)
    async with connect_charge_point(gateway, "CP1") as cp:
        await cp.call(call.Heartbeat())
        refusal = await refused(gateway, "CP1", "ReserveNow", reserve(id_tag))
        assert sent(cp, "ReserveNow") == []
    assert refusal.reason == "id_tag"
    assert status in refusal.detail
    assert await stored(gateway) == ([], 0)


INSTANT = "2030-01-01T12:00:00Z"
PROFILE: dict[str, Any] = {
    "chargingProfileId": 1,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
    },
}


def with_time(action: str, value: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A valid `action` payload with `value` at one of its date-times, and that field's path."""
    if action == "ReserveNow":
        return reserve("ALICE") | {"expiryDate": value}, ("expiryDate",)
    if action == "GetDiagnostics":
        return {"location": "ftp://diag.example.com/", "startTime": value, "stopTime": LATER}, ("startTime",)
    if action == "UpdateFirmware":
        return {"location": "https://fw.example.com/2.bin", "retrieveDate": value}, ("retrieveDate",)
    if action == "SetChargingProfile":
        profile = PROFILE | {"validFrom": SOON, "validTo": value}
        return {"connectorId": 0, "csChargingProfiles": profile}, ("csChargingProfiles", "validTo")
    profile = PROFILE | {"chargingProfilePurpose": "TxProfile"}
    schedule = profile["chargingSchedule"] | {"startSchedule": value}
    payload = {"idTag": "ALICE", "chargingProfile": profile | {"chargingSchedule": schedule}}
    return payload, ("chargingProfile", "chargingSchedule", "startSchedule")


ACTIONS = ["ReserveNow", "GetDiagnostics", "UpdateFirmware", "SetChargingProfile", "RemoteStartTransaction"]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(
    "value",
    ["2030-01-01", "20300101T120000Z", "2030-01-01T12:00:00", "2030-01-01T12:00Z", "2030-02-30T12:00:00Z"],
)
async def test_date_times_without_an_offset_are_refused(gateway: OcppServer, action: str, value: str) -> None:
    await add_id_tag(gateway, "ALICE")
    payload, path = with_time(action, value)
    async with connect_charge_point(gateway, "CP1") as cp:
        await cp.call(call.Heartbeat())
        refusal = await refused(gateway, "CP1", action, payload)
        assert sent(cp, action) == []
    assert refusal.reason == "invalid"
    assert f"payload.{'.'.join(path)}: {value!r} is not an RFC 3339 date-time" in refusal.detail
    assert await stored(gateway) == ([], 0)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(
    ("value", "as_sent"),
    [
        ("2030-01-01T13:00:00+01:00", INSTANT),
        ("2030-01-01T07:00:00-05:00", INSTANT),
        ("2030-01-01t12:00:00.250z", "2030-01-01T12:00:00.250Z"),
        (INSTANT, INSTANT),
    ],
)
async def test_date_times_are_sent_as_utc(gateway: OcppServer, action: str, value: str, as_sent: str) -> None:
    await add_id_tag(gateway, "ALICE")
    payload, path = with_time(action, value)
    async with connect_charge_point(gateway, "CP1") as cp:
        await cp.call(call.Heartbeat())
        command_id = await gateway.commands.send("CP1", action, payload, wait=True)
        [received] = sent(cp, action)
    async with gateway.store.database.session() as session:
        command = await session.get(Command, command_id)
    assert command is not None
    for body in (received, command.payload):
        found: Any = body
        for key in path:
            found = found[key]
        assert found == as_sent
