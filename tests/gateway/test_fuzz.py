"""OCPP fuzz cases over a raw WebSocket: out-of-range integers, lone surrogates, deep nesting, oversize frames
and pipelined CALLs get their OCPP-J 1.6 Table 7 code, nothing of them is stored, and the connection stays."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select
from websockets.asyncio.client import ClientConnection, connect

from app.domain.ocpp import Command, IdTag, MeterValue, Transaction
from ocpp_gateway import OcppServer
from tests.gateway.helpers import add_id_tag, url

pytestmark = pytest.mark.anyio

SAMPLE = {"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": "10"}]}


def meter_values(connector_id: Any, transaction_id: Any = None) -> str:
    payload: dict[str, Any] = {"connectorId": connector_id, "meterValue": [SAMPLE]}
    if transaction_id is not None:
        payload["transactionId"] = transaction_id
    return json.dumps([2, "m1", "MeterValues", payload])


def start(connector_id: Any = 1, meter_start: Any = 0, id_tag: str = "TAG") -> str:
    payload = {"connectorId": connector_id, "idTag": id_tag, "meterStart": meter_start}
    return json.dumps([2, "m1", "StartTransaction", payload | {"timestamp": "2026-01-01T00:00:00Z"}])


@pytest.fixture
async def ws(gateway: OcppServer) -> AsyncIterator[ClientConnection]:
    await add_id_tag(gateway, "TAG")
    async with connect(url(gateway, "FUZZ1"), subprotocols=["ocpp1.6"], max_size=None) as connection:  # type: ignore[list-item]
        yield connection


async def exchange(ws: ClientConnection, frame: str) -> list[Any]:
    await ws.send(frame)
    reply: list[Any] = json.loads(await ws.recv())
    return reply


async def stored(gateway: OcppServer) -> tuple[int, int]:
    async with gateway.store.database.session() as session:
        samples = len((await session.exec(select(MeterValue))).all())
        transactions = len((await session.exec(select(Transaction))).all())
    return samples, transactions


async def still_works(ws: ClientConnection) -> None:
    reply = await exchange(ws, json.dumps([2, "alive", "Heartbeat", {}]))
    assert reply[:2] == [3, "alive"]


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(meter_values(2**63), id="connectorId-2^63"),
        pytest.param(meter_values(2**31), id="connectorId-2^31"),
        pytest.param(meter_values(-(2**31) - 1), id="connectorId-below-int32"),
        pytest.param(meter_values(10**30), id="connectorId-beyond-64-bits"),
        pytest.param(meter_values(1, transaction_id=2**63), id="transactionId-2^63"),
        pytest.param(start(meter_start=2**40), id="meterStart-2^40"),
        pytest.param(start(connector_id=-(2**63)), id="connectorId--2^63"),
        pytest.param(
            json.dumps(
                [
                    2,
                    "m1",
                    "StopTransaction",
                    {"meterStop": 2**33, "timestamp": "2026-01-01T00:00:00Z", "transactionId": 1},
                ]
            ),
            id="meterStop-2^33",
        ),
    ],
)
async def test_out_of_range_integers_are_type_constraint_violations(
    gateway: OcppServer, ws: ClientConnection, frame: str
) -> None:
    reply = await exchange(ws, frame)
    assert reply[:3] == [4, "m1", "TypeConstraintViolation"]
    assert await stored(gateway) == (0, 0)
    await still_works(ws)


async def test_int32_bounds_are_accepted(gateway: OcppServer, ws: ClientConnection) -> None:
    reply = await exchange(ws, start(meter_start=2**31 - 1))
    assert reply[:2] == [3, "m1"]
    assert reply[2]["idTagInfo"]["status"] == "Accepted"


@pytest.mark.parametrize(
    ("frame", "unique_id"),
    [
        pytest.param('[2, "m1", "Authorize", {"idTag": "\\ud800"}]', "m1", id="in-a-value"),
        pytest.param('[2, "m1", "Authorize", {"idTag": "a\\udfffb"}]', "m1", id="low-surrogate"),
        pytest.param('[2, "m1", "Authorize", {"idTag\\ud800": "TAG"}]', "m1", id="in-a-key"),
        pytest.param('[2, "m\\ud800", "Heartbeat", {}]', "-1", id="in-the-unique-id"),
        pytest.param('[2, "m1", "Heart\\udbffbeat", {}]', "m1", id="in-the-action"),
        pytest.param(
            '[2, "m1", "DataTransfer", {"vendorId": "V", "data": "\\ud83d"}]', "m1", id="in-data-transfer"
        ),
        pytest.param(
            '[2, "m1", "StartTransaction", {"connectorId": 1, "idTag": "\\udc00", "meterStart": 0,'
            ' "timestamp": "2026-01-01T00:00:00Z"}]',
            "m1",
            id="in-start-transaction",
        ),
    ],
)
async def test_lone_surrogates_are_formation_violations(
    gateway: OcppServer, ws: ClientConnection, frame: str, unique_id: str
) -> None:
    reply = await exchange(ws, frame)
    assert reply[:3] == [4, unique_id, "FormationViolation"]
    assert await stored(gateway) == (0, 0)
    async with gateway.store.database.session() as session:
        assert [tag.id_tag for tag in (await session.exec(select(IdTag))).all()] == ["TAG"]
    await still_works(ws)


async def test_a_valid_surrogate_pair_is_text(ws: ClientConnection) -> None:
    reply = await exchange(ws, '[2, "m1", "Authorize", {"idTag": "\\ud83d\\ude00"}]')  # one emoji
    assert reply[:2] == [3, "m1"]
    assert reply[2]["idTagInfo"]["status"] == "Invalid"


@pytest.mark.parametrize("depth", [50, 5_000, 30_000])
async def test_deep_nesting_is_a_formation_violation(ws: ClientConnection, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    frame = '[2, "m1", "DataTransfer", {"vendorId": "V", "data": "x", "extra": ' + nested + "}]"
    reply = await exchange(ws, frame)
    assert reply[0] == 4
    assert reply[2] == "FormationViolation"
    await still_works(ws)


@pytest.mark.parametrize("size", [70_000, 200_000])
async def test_oversize_frames_are_generic_errors(ws: ClientConnection, size: int) -> None:
    frame = json.dumps([2, "big", "DataTransfer", {"vendorId": "V", "data": "x" * size}])
    reply = await exchange(ws, frame)
    assert reply[:3] == [4, "big", "GenericError"]
    await still_works(ws)


async def test_pipelined_calls_are_each_answered_in_order(gateway: OcppServer, ws: ClientConnection) -> None:
    frames = []
    expected: list[tuple[str, int, str | None]] = []
    for i in range(90):
        kind = i % 3
        if kind == 0:
            frames.append(json.dumps([2, f"p{i}", "Heartbeat", {}]))
            expected.append((f"p{i}", 3, None))
        elif kind == 1:
            frames.append(meter_values(2**63).replace('"m1"', f'"p{i}"'))
            expected.append((f"p{i}", 4, "TypeConstraintViolation"))
        else:
            frames.append(f'[2, "p{i}", "Authorize", {{"idTag": "\\ud800"}}]')
            expected.append((f"p{i}", 4, "FormationViolation"))
    for frame in frames:
        await ws.send(frame)
    replies = [json.loads(await ws.recv()) for _ in frames]
    by_id = {reply[1]: reply for reply in replies}
    assert len(by_id) == len(frames)
    for unique_id, type_id, code in expected:
        assert by_id[unique_id][0] == type_id
        if code is not None:
            assert by_id[unique_id][2] == code
    heartbeats = [reply[1] for reply in replies if reply[0] == 3]
    assert heartbeats == [unique_id for unique_id, type_id, _ in expected if type_id == 3]  # in order
    assert await stored(gateway) == (0, 0)
    await still_works(ws)


async def test_a_reply_with_a_lone_surrogate_fails_its_command(gateway: OcppServer) -> None:
    async with connect(url(gateway, "FUZZ2"), subprotocols=["ocpp1.6"]) as raw:  # type: ignore[list-item]
        sending = asyncio.create_task(gateway.commands.send("FUZZ2", "GetLocalListVersion", {}, wait=True))
        call = json.loads(await raw.recv())
        await raw.send('[3, "' + call[1] + '", {"listVersion": 1, "x": "\\ud800"}]')
        command_id = await sending
        async with gateway.store.database.session() as session:
            command = await session.get(Command, command_id)
        assert command is not None
        assert command.error_code == "FormationViolation"
        assert command.response is None
        await still_works(raw)  # not answered: a reply is never answered
