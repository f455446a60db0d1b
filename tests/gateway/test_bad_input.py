"""Bad input over a raw WebSocket: answered per OCPP-J 1.6 §4.2.3 Table 7; the connection stays up."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.db import batched
from ocpp_gateway import OcppServer
from tests.gateway.helpers import url

pytestmark = pytest.mark.anyio


@pytest.fixture
async def ws(gateway: OcppServer) -> AsyncIterator[ClientConnection]:
    async with connect(url(gateway, "RAW1"), subprotocols=["ocpp1.6"], max_size=None) as connection:  # type: ignore[list-item]
        yield connection


async def exchange(ws: ClientConnection, frame: str | bytes) -> list[Any]:
    await ws.send(frame)
    reply: list[Any] = json.loads(await ws.recv())
    return reply


async def still_works(ws: ClientConnection) -> None:
    reply = await exchange(ws, json.dumps([2, "alive", "Heartbeat", {}]))
    assert reply[:2] == [3, "alive"]
    assert "currentTime" in reply[2]


@pytest.mark.parametrize(
    ("frame", "unique_id", "code"),
    [
        ("this is not json", "-1", "FormationViolation"),
        ('{"not": "an array"}', "-1", "FormationViolation"),
        ("[]", "-1", "FormationViolation"),
        pytest.param("[" * 100_000 + "]" * 100_000, "-1", "FormationViolation", id="nested-too-deep"),
        ('[5, "m1", "Heartbeat", {}]', "m1", "FormationViolation"),
        ('[2, 17, "Heartbeat", {}]', "-1", "FormationViolation"),
        ('[2, "m1", "Heartbeat", []]', "m1", "FormationViolation"),
        ('[2, "m1", "Heartbeat", {}, "extra"]', "m1", "FormationViolation"),
        ('[2, "m1", "Heartbeat"]', "m1", "ProtocolError"),
        ('[2, "m1", "FlyToTheMoon", {}]', "m1", "NotImplemented"),
        ('[2, "m1", "Reset", {"type": "Soft"}]', "m1", "NotSupported"),
        ('[2, "m1", "SignedUpdateFirmware", {"requestId": 1, "firmware": {}}]', "m1", "NotSupported"),
        ('[2, "m1", "SecurityEventNotification", {"type": "x"}]', "m1", "ProtocolError"),
        ('[2, "m1", "BootNotification", {"chargePointVendor": "Acme"}]', "m1", "ProtocolError"),
        (
            '[2, "m1", "BootNotification", {"chargePointVendor": 1, "chargePointModel": "M"}]',
            "m1",
            "TypeConstraintViolation",
        ),
        (
            '[2, "m1", "BootNotification", {"chargePointVendor": "'
            + "A" * 21
            + '", "chargePointModel": "M"}]',
            "m1",
            "TypeConstraintViolation",
        ),
        (
            '[2, "m1", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Bogus"}]',
            "m1",
            "PropertyConstraintViolation",
        ),
        (
            '[2, "m1", "MeterValues", {"connectorId": 1, "meterValue": []}]',
            "m1",
            "OccurenceConstraintViolation",
        ),
        ('[2, "m1", "Heartbeat", {"unexpected": true}]', "m1", "FormationViolation"),
        (
            '[2, "m1", "StartTransaction", '
            '{"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "yesterday"}]',
            "m1",
            "TypeConstraintViolation",
        ),
        ('[2, "' + "x" * 37 + '", "Heartbeat", {}]', "x" * 37, "FormationViolation"),
    ],
)
async def test_bad_frame_is_answered_and_the_connection_survives(
    ws: ClientConnection, frame: str, unique_id: str, code: str
) -> None:
    reply = await exchange(ws, frame)
    assert reply[0] == 4
    assert reply[1] == unique_id
    assert reply[2] == code
    assert isinstance(reply[3], str)
    assert isinstance(reply[4], dict)
    await still_works(ws)


async def test_binary_frame_that_is_not_utf8(ws: ClientConnection) -> None:
    reply = await exchange(ws, b"\xff\xfe\x00garbage")
    assert reply[:3] == [4, "-1", "FormationViolation"]
    await still_works(ws)


async def test_handler_failure_is_an_internal_error(
    ws: ClientConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: Any) -> None:
        raise RuntimeError("database on fire")

    with monkeypatch.context() as patch:
        patch.setattr(batched, "record_heartbeats", broken)
        reply = await exchange(ws, json.dumps([2, "m1", "Heartbeat", {}]))
    assert reply[:3] == [4, "m1", "InternalError"]
    assert "fire" not in json.dumps(reply)  # no internals leak
    await still_works(ws)


async def test_repeated_unique_id_while_in_progress(
    ws: ClientConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_statuses = batched.record_statuses

    async def slow(*args: Any) -> list[bool]:
        await asyncio.sleep(0.2)  # the first CALL is surely still in progress when the second arrives
        return await record_statuses(*args)

    monkeypatch.setattr(batched, "record_statuses", slow)
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    frame = json.dumps([2, "same", "StatusNotification", status])
    await ws.send(frame)
    await ws.send(frame)
    replies = [json.loads(await ws.recv()), json.loads(await ws.recv())]
    assert [(reply[0], reply[1]) for reply in replies] == [(4, "same"), (3, "same")]
    assert replies[0][2] == "GenericError"
    await still_works(ws)
    reply = await exchange(ws, frame)  # once answered, the id may be used again
    assert reply[:2] == [3, "same"]


async def test_message_above_the_limit_is_refused_with_a_call_error(
    ws: ClientConnection, gateway: OcppServer
) -> None:
    limit = gateway.settings.ocpp_max_message_bytes
    frame = json.dumps([2, "big", "DataTransfer", {"vendorId": "com.acme", "data": "x" * limit}])
    reply = await exchange(ws, frame)
    assert reply[:3] == [4, "big", "GenericError"]
    await still_works(ws)


async def test_message_above_the_transport_limit_closes_with_1009(
    ws: ClientConnection, gateway: OcppServer
) -> None:
    frame = "x" * (gateway.settings.ocpp_max_message_bytes * 5)
    await ws.send(frame)
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


async def test_replies_to_nothing_are_ignored(ws: ClientConnection) -> None:
    await ws.send(json.dumps([3, "never-sent", {}]))
    await ws.send(json.dumps([4, "never-sent", "GenericError", "", {}]))
    await still_works(ws)
