"""No request holds the only database connection while it awaits other work (issue 18).

On SQLite the pool has one connection. A route that kept its request's unit of work open while awaiting the
scheduler or a charge point's answer stalled the whole service (the API and every new OCPP connection) until
the pool gave up (60 s, then a 500). Here the charge point that must answer holds its answer back until a
second charge point has connected and booted, which needs the database: the request can only finish if it
let go of the connection. The whole service runs for real (uvicorn, the OCPP server, the scheduler).
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call

from tests.e2e.service import Service, running_service
from tests.e2e.test_smart_charging import charging
from tests.gateway.helpers import ClientChargePoint, connect_charge_point

pytestmark = pytest.mark.anyio

DEADLINE_S = 20  # far below the pool's 60 s: a held connection fails here, not after a minute


def hold_answers_until(
    client: ClientChargePoint, action: str, arrived: asyncio.Event, gate: asyncio.Event
) -> None:
    """`client` sets `arrived` when `action` comes and answers it once `gate` is set (others as usual)."""
    handle: Callable[[Any], Awaitable[None]] = client._handle_call

    async def gated(msg: Any) -> None:
        if msg.action == action:
            arrived.set()
            await gate.wait()
        await handle(msg)

    client._handle_call = gated  # type: ignore[method-assign]


async def boot_second_charge_point(service: Service, booted: asyncio.Event, after: asyncio.Event) -> None:
    """Once `after` is set (the request is in flight), a second charge point connects and boots."""
    await after.wait()
    async with connect_charge_point(service.app.state.gateway, "CP2") as second:
        boot = await second.call(call.BootNotification(charge_point_model="E2E", charge_point_vendor="x"))
        assert boot.status == "Accepted"
        booted.set()


async def site_with_a_session(service: Service) -> int:
    site = await service.api.post(
        "/sites", json={"name": "depot", "grid_connection_limit_kw": 100, "fallback_limit_kw": 11}
    )
    assert site.status_code == 201, site.text
    now = datetime.now(UTC)
    interval = {"start": now.isoformat(), "end": (now + timedelta(days=1)).isoformat(), "limit_kw": 20}
    forecast = await service.api.post(
        f"/sites/{site.json()['id']}/forecasts", json={"forecast_id": "f1", "intervals": [interval]}
    )
    assert forecast.status_code == 201, forecast.text
    assert (await service.api.post("/id-tags", json={"id_tag": "T1"})).status_code == 201
    assert (await service.api.post("/charge-points", json={"id": "CP2"})).status_code == 201
    site_id: int = site.json()["id"]
    return site_id


async def test_replan_lets_go_of_the_connection_while_it_plans_and_sends(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        site_id = await site_with_a_session(service)
        async with charging(service, site_id, "CP1", "T1") as (first, _tx):
            await first.wait_for_call("SetChargingProfile", timeout_s=DEADLINE_S)  # the start's own replan
            booted, started = asyncio.Event(), asyncio.Event()

            async def replan() -> int:
                request = service.api.post(f"/sites/{site_id}/schedule/replan")
                started.set()
                response = await request
                assert response.status_code == 201, response.text
                revision_id: int = response.json()["revision_id"]
                return revision_id

            async with asyncio.timeout(DEADLINE_S):
                revision_id, _ = await asyncio.gather(
                    replan(), boot_second_charge_point(service, booted, started)
                )
            assert booted.is_set()
            latest = (await service.api.get(f"/sites/{site_id}/schedule")).json()["revision"]["id"]
            assert latest >= revision_id
            assert (await service.api.get("/charge-points/CP2")).json()["last_boot_at"] is not None


async def test_a_command_awaited_with_wait_lets_go_of_the_connection(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        assert (await service.api.post("/charge-points", json={"id": "CP1"})).status_code == 201
        assert (await service.api.post("/charge-points", json={"id": "CP2"})).status_code == 201
        async with connect_charge_point(service.app.state.gateway, "CP1") as first:
            gate, seen = asyncio.Event(), asyncio.Event()
            hold_answers_until(first, "ClearCache", seen, gate)

            async def command() -> dict[str, Any]:
                response = await service.api.post(
                    "/charge-points/CP1/commands", params={"wait": "true"}, json={"action": "ClearCache"}
                )
                assert response.status_code == 202, response.text
                body: dict[str, Any] = response.json()
                return body

            async with asyncio.timeout(DEADLINE_S):
                answered, _ = await asyncio.gather(command(), boot_second_charge_point(service, gate, seen))
            assert answered["status"] == "accepted"
            assert answered["response"] == {"status": "Accepted"}
