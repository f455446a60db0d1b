"""Liveness: silent drops detected by ping timeout, last_seen_at, state reset at start."""

import asyncio
import base64
import os
from datetime import UTC, datetime

import pytest
from ocpp.v16 import call

from app.domain.events import ChargePointDisconnected
from app.domain.ocpp import ChargePoint, Command
from ocpp_gateway import OcppServer
from tests.gateway.helpers import (
    EventLog,
    connect_charge_point,
    eventually,
    register_charge_point,
    running_gateway,
)

pytestmark = pytest.mark.anyio


async def test_silent_drop_is_detected_by_ping_timeout(migrated_url: str) -> None:
    async with running_gateway(migrated_url, ocpp_ping_interval_s=0.2) as gateway:
        events = EventLog(gateway.bus)
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        key = base64.b64encode(os.urandom(16)).decode()
        headers = [
            "GET /ocpp/SILENT HTTP/1.1",
            "Host: 127.0.0.1",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Protocol: ocpp1.6",
        ]
        writer.write(("\r\n".join(headers) + "\r\n\r\n").encode())
        response = await reader.readuntil(b"\r\n\r\n")
        assert response.startswith(b"HTTP/1.1 101")
        await eventually(lambda: gateway.commands.is_connected("SILENT"))
        # The peer goes silent: it never answers a ping.
        await eventually(lambda: not gateway.commands.is_connected("SILENT"), timeout_s=5)

        async def marked_disconnected() -> bool:
            async with gateway.store.database.session() as session:
                row = await session.get(ChargePoint, "SILENT")
            return row is not None and not row.connected

        assert await eventually(marked_disconnected)
        await eventually(lambda: events.of(ChargePointDisconnected))
        assert [event.charge_point_id for event in events.of(ChargePointDisconnected)] == ["SILENT"]
        writer.close()


async def test_last_seen_is_refreshed_by_messages(gateway: OcppServer) -> None:
    async with connect_charge_point(gateway, "CP1") as cp:
        await cp.call(call.StatusNotification(connector_id=0, error_code="NoError", status="Available"))

        async def seen() -> bool:
            async with gateway.store.database.session() as session:
                row = await session.get(ChargePoint, "CP1")
            return row is not None and row.last_seen_at is not None

        assert await eventually(seen)


async def test_start_resets_connection_state_and_interrupted_commands(migrated_url: str) -> None:
    async with running_gateway(migrated_url) as gateway:
        await register_charge_point(gateway, "CP1")
        async with gateway.store.database.session() as session:
            row = await session.get(ChargePoint, "CP1")
            assert row is not None
            row.connected = True
            session.add(row)
            session.add(Command(charge_point_id="CP1", action="Reset", payload={"type": "Soft"}))
    async with running_gateway(migrated_url) as gateway, gateway.store.database.session() as session:
        row = await session.get(ChargePoint, "CP1")
        command = await session.get(Command, 1)
    assert row is not None
    assert not row.connected
    assert command is not None
    assert (command.status, command.error_code) == ("error", "Interrupted")


async def test_charge_points_claimed_again_after_a_lapsed_lease_are_recorded_connected_again(
    gateway: OcppServer,
) -> None:
    async with connect_charge_point(gateway, "HELD"):
        await eventually(lambda: "HELD" in gateway.registry)
        # the reaper of another process marked it disconnected while this gateway's lease had lapsed
        await gateway.store.batched.set_connected("HELD", False, datetime.now(UTC))
        await gateway.held_again(["HELD", "GONE"])  # GONE: not connected here (any more)
        async with gateway.store.reading() as uow:
            held = await uow.charge_points.get("HELD")
            gone = await uow.charge_points.get("GONE")
    assert held is not None
    assert held.connected
    assert held.connected_since is not None
    assert gone is None
