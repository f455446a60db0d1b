"""Commands through the group commit: every row still gets its status, answer and three timestamps."""

import asyncio
import contextlib

import pytest
from sqlmodel import select

from app.db.tables.ocpp import command_table
from app.domain.enums import CommandStatus
from app.domain.ocpp import Command
from ocpp_gateway import OcppServer
from tests.gateway.helpers import NO_ANSWER, connect_charge_point, eventually, running_gateway

pytestmark = pytest.mark.anyio

CHARGE_POINTS = 8


async def commands(gateway: OcppServer) -> list[Command]:
    async with gateway.store.database.session() as session:
        return list(await session.exec(select(Command).order_by(command_table.c.id)))


async def test_many_concurrent_commands_are_recorded_in_full(gateway: OcppServer) -> None:
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(connect_charge_point(gateway, f"REC{i}"))
            for i in range(CHARGE_POINTS)
        ]
        before = gateway.store.database.group_commit.stats.batches
        sends = [
            gateway.commands.send(c.id, action, {}, author="test", wait=True)
            for c in clients
            for action in ("ClearCache", "GetLocalListVersion")
        ]
        ids = await asyncio.gather(*sends)
        batches = gateway.store.database.group_commit.stats.batches - before
    assert len(set(ids)) == 2 * CHARGE_POINTS
    assert batches < 4 * CHARGE_POINTS, "creates and completions were grouped"
    rows = {row.id: row for row in await commands(gateway) if row.author == "test"}
    assert set(rows) == set(ids)
    for row in rows.values():
        assert row.status == CommandStatus.accepted
        assert row.response is not None
        assert row.created_at is not None
        assert row.sent_at is not None
        assert row.completed_at is not None
        assert row.created_at <= row.sent_at <= row.completed_at
    assert {r.response["listVersion"] for r in rows.values() if r.action == "GetLocalListVersion"} == {7}


async def test_call_returns_the_outcome_it_stored(gateway: OcppServer) -> None:
    async with connect_charge_point(gateway, "OUT") as cp:
        cp.responses["SetChargingProfile"] = {"status": "Rejected"}
        profile = {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}],
            },
        }
        command_id, outcome = await gateway.commands.call(
            cp.id, "SetChargingProfile", {"connectorId": 0, "csChargingProfiles": profile}
        )
    [row] = [r for r in await commands(gateway) if r.id == command_id]
    assert outcome.status == row.status == CommandStatus.rejected
    assert outcome.response == row.response == {"status": "Rejected"}
    assert row.sent_at is not None
    assert row.completed_at is not None


async def test_background_commands_and_timeouts_are_recorded(migrated_url: str) -> None:
    async with (
        running_gateway(migrated_url, ocpp_call_timeout_s=0.3) as gateway,
        connect_charge_point(gateway, "SLOW") as slow,
        connect_charge_point(gateway, "FAST") as fast,
    ):
        slow.responses["Reset"] = NO_ANSWER
        timed_out = await gateway.commands.send(slow.id, "Reset", {"type": "Soft"}, wait=True)
        background = [await gateway.commands.send(fast.id, "ClearCache", {}) for _ in range(5)]

        async def all_done() -> bool:
            return all(r.completed_at is not None for r in await commands(gateway) if r.id in background)

        await eventually(all_done)
        rows = {row.id: row for row in await commands(gateway)}
    assert rows[timed_out].status == CommandStatus.timeout
    assert rows[timed_out].sent_at is not None, "sent, though never answered"
    assert rows[timed_out].completed_at is not None
    assert all(rows[i].status == CommandStatus.accepted and rows[i].sent_at is not None for i in background)


async def test_a_charge_point_that_drops_mid_call_is_an_error_with_its_send_time(gateway: OcppServer) -> None:
    async with connect_charge_point(gateway, "DROP") as cp:
        cp.responses["ClearCache"] = NO_ANSWER
        sending = asyncio.create_task(gateway.commands.send(cp.id, "ClearCache", {}, wait=True))
        await cp.wait_for_call("ClearCache")
    command_id = await sending
    [row] = [r for r in await commands(gateway) if r.id == command_id]
    assert row.status == CommandStatus.error
    assert row.error_code == "ConnectionClosed"
    assert row.sent_at is not None
