"""Presence: which gateway holds a charge point, a lease that lapses when its process dies, a reconnect to
another gateway that moves it, and a duplicate connection resolved as in one process (the newer wins)."""

import asyncio

import pytest
from sqlalchemy import select

from app.db.tables.cluster import charge_point_presence_table
from tests.gateway.helpers import NO_ANSWER, connect_charge_point, eventually
from tests.scale.helpers import LEASE_S, At, Layout, Process, gateway_process
from tests.scale.test_routing import command, connected

pytestmark = pytest.mark.anyio


async def holder(process: Process, cp_id: str) -> str | None:
    table = charge_point_presence_table
    async with process.app.state.database.engine.connect() as connection:
        found = await connection.execute(select(table.c.gateway_id).where(table.c.charge_point_id == cp_id))
        gateway_id: str | None = found.scalar_one_or_none()
        return gateway_id


async def test_a_killed_gateway_loses_its_charge_points_and_a_reconnect_moves_them(layout: Layout) -> None:
    api = await layout.start("api")
    gateway_b = await layout.start("gateway", gateway_id="gw-b")
    async with (
        gateway_process(layout, "gw-a") as (process_a, port_a),
        connect_charge_point(At(port_a), "CP1") as cp,  # type: ignore[arg-type]
    ):
        await eventually(lambda: connected(api, "CP1"), timeout_s=10)
        assert await holder(api, "CP1") == "gw-a"
        cp.responses["Reset"] = NO_ANSWER  # in flight when its gateway dies
        posted = await api.http.post(
            "/api/v1/charge-points/CP1/commands", json={"action": "Reset", "payload": {"type": "Hard"}}
        )
        assert posted.status_code == 202, posted.text
        await cp.wait_for_call("Reset")
        process_a.kill()  # SIGKILL: no clean stop, the lease just stops being renewed

        # the lease lapses: the charge point is disconnected everywhere, its command failed
        await eventually(lambda: connected(api, "CP1", expected=False), timeout_s=10 * LEASE_S)
        assert await holder(api, "CP1") is None
        failed = await command(api, posted.json()["id"])
        assert (failed["status"], failed["error_code"]) == ("error", "Interrupted")
        refused = await api.http.post(
            "/api/v1/charge-points/CP1/commands", json={"action": "Reset", "payload": {"type": "Soft"}}
        )
        assert refused.status_code == 409

    async with connect_charge_point(gateway_b.app.state.gateway, "CP1") as cp:
        await eventually(lambda: connected(api, "CP1"))
        assert await holder(api, "CP1") == "gw-b"
        posted = await api.http.post(
            "/api/v1/charge-points/CP1/commands", json={"action": "Reset", "payload": {"type": "Soft"}}
        )
        assert posted.status_code == 202
        assert await cp.wait_for_call("Reset") == {"type": "Soft"}


async def test_a_second_connection_on_another_gateway_replaces_the_first(layout: Layout) -> None:
    api = await layout.start("api")
    gateway_a = await layout.start("gateway", gateway_id="gw-a")
    gateway_b = await layout.start("gateway", gateway_id="gw-b")
    async with connect_charge_point(gateway_a.app.state.gateway, "CP1") as first:
        await eventually(lambda: connected(api, "CP1"))
        assert await holder(api, "CP1") == "gw-a"
        async with connect_charge_point(gateway_b.app.state.gateway, "CP1") as second:
            # gw-b tells gw-a (over Redis) to close the older connection, as one process closes it
            async with asyncio.timeout(5):
                await first._connection.wait_closed()
            assert first._connection.close_reason == "replaced by a new connection"
            await eventually(lambda: "CP1" not in gateway_a.app.state.gateway.registry)
            assert await holder(api, "CP1") == "gw-b"
            assert await connected(api, "CP1")  # the old connection's end did not mark it disconnected

            posted = await api.http.post(
                "/api/v1/charge-points/CP1/commands", json={"action": "Reset", "payload": {"type": "Soft"}}
            )
            assert posted.status_code == 202
            assert await second.wait_for_call("Reset") == {"type": "Soft"}
            assert not [call for call in first.received if call[0] == "Reset"]

        # the newer connection ends: now it is disconnected
        await eventually(lambda: connected(api, "CP1", expected=False))
        assert await holder(api, "CP1") is None


async def test_a_clean_stop_of_a_gateway_releases_its_charge_points_at_once(layout: Layout) -> None:
    long_lease = {"presence_lease_s": 120.0}  # what is released within seconds was not left to expire
    api = await layout.start("api", **long_lease)
    async with gateway_process(layout, "gw-a", **long_lease) as (process_a, port_a):
        async with connect_charge_point(At(port_a), "CP1"):  # type: ignore[arg-type]
            await eventually(lambda: connected(api, "CP1"), timeout_s=10)
            process_a.terminate()  # SIGTERM: uvicorn's clean shutdown
            await asyncio.to_thread(process_a.wait, 30)
        await eventually(lambda: connected(api, "CP1", expected=False))
        assert await holder(api, "CP1") is None
        assert not await api.app.state.presence.alive("gw-a")


async def test_a_gateway_restarted_under_its_id_forgets_the_claims_of_its_earlier_run(layout: Layout) -> None:
    long_lease = {"presence_lease_s": 120.0}  # the earlier run's lease has not lapsed when it comes back
    api = await layout.start("api", **long_lease)
    async with (
        gateway_process(layout, "gw-a", **long_lease) as (process_a, port_a),
        connect_charge_point(At(port_a), "CP1"),  # type: ignore[arg-type]
    ):
        await eventually(lambda: connected(api, "CP1"), timeout_s=10)
        process_a.kill()
        await asyncio.to_thread(process_a.wait, 30)
    assert await holder(api, "CP1") == "gw-a"  # nobody has reaped it: the lease runs for two minutes
    await layout.start("gateway", gateway_id="gw-a", **long_lease)
    await eventually(lambda: connected(api, "CP1", expected=False))
    assert await holder(api, "CP1") is None
