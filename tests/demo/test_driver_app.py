"""The drivers' app of the demo tells the service each session's departure and energy over the real API.

On a busy machine at a fast clock a departure can pass while its request is on the way: the service refuses
it (422, in the past) and the app must go on with the other sessions instead of ending the run.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from ocpp.v16 import call

from app.demo import driver_app
from simulator import Fleet
from tests.e2e.service import running_service
from tests.gateway.helpers import connect_charge_point, eventually

pytestmark = pytest.mark.anyio


class LateClock:
    """The fleet's clock, behind the service's until the first answer to the app arrives: the time that
    passed while the request was on its way."""

    def __init__(self) -> None:
        self.lag = timedelta(hours=1)

    def now(self) -> datetime:
        return datetime.now(UTC) - self.lag

    async def caught_up(self, response: httpx.Response) -> None:
        self.lag = timedelta(0)


async def test_a_departure_passed_on_the_way_does_not_end_the_app(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        assert (await service.api.post("/charge-points", json={"id": "CP1"})).status_code == 201
        assert (await service.api.post("/id-tags", json={"id_tag": "T1"})).status_code == 201
        async with connect_charge_point(service.app.state.gateway, "CP1") as cp:
            boot = await cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
            assert boot.status == "Accepted"
            now = datetime.now(UTC)
            transactions = []
            for connector_id in (1, 2):
                started = await cp.call(
                    call.StartTransaction(
                        connector_id=connector_id, id_tag="T1", meter_start=0, timestamp=now.isoformat()
                    )
                )
                transactions.append(started.transaction_id)
            left, staying = transactions
            sessions = [
                SimpleNamespace(transaction_id=left, departure=now - timedelta(minutes=1), requested_kwh=5.0),
                SimpleNamespace(
                    transaction_id=staying, departure=now + timedelta(hours=2), requested_kwh=9.0
                ),
            ]
            clock = LateClock()
            fleet = SimpleNamespace(charge_points=[SimpleNamespace(stats=SimpleNamespace(sessions=sessions))])
            fleet.clock = clock
            api = httpx.AsyncClient(
                base_url=service.api.base_url,
                headers=service.api.headers,
                event_hooks={"response": [clock.caught_up]},
            )
            async with api:
                app = asyncio.create_task(driver_app(api, cast(Fleet, fleet), every_real_s=0.01))

                async def told_or_ended() -> Any:
                    if app.done():
                        return True
                    demand = (await service.api.get(f"/transactions/{staying}/demand")).json()
                    return demand["departure"] is not None

                try:
                    await eventually(told_or_ended, timeout_s=30)
                    assert not app.done(), app.exception()
                finally:
                    app.cancel()
        demand = (await service.api.get(f"/transactions/{staying}/demand")).json()
        assert datetime.fromisoformat(demand["departure"]) == now + timedelta(hours=2)
        assert demand["departure_source"] == "api"
        assert (await service.api.get(f"/transactions/{left}/demand")).json()["departure_source"] != "api"
