"""Without Redis: the API answers what needs it with a 503 problem (never a 500) and the rest as usual, the
gateway goes on serving its charge points, `/ready` says what is missing; all recover when Redis is back.

Redis here is a throwaway `redis-server` of the test's own (stopped and started again), never the shared
one; the test is skipped where there is no `redis-server`.
"""

import asyncio
import contextlib
import shutil
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as redis
from ocpp.v16 import call

from app.cluster.link import RedisLink
from app.services.errors import Unavailable
from tests.gateway.helpers import connect_charge_point, eventually
from tests.scale.helpers import Layout, Process, free_port
from tests.scale.test_events import new_site
from tests.scale.test_routing import connected

pytestmark = pytest.mark.anyio

RESET = {"action": "Reset", "payload": {"type": "Soft"}}


class ThrowawayRedis:
    """A `redis-server` on a free loopback port, without persistence: `stop` and `start` it at will."""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: ASYNC220 (started once; waited for below without blocking)
            [
                self.executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        try:
            async with asyncio.timeout(20):
                while True:
                    with contextlib.suppress(redis.ConnectionError):
                        if await client.ping():
                            return
                    await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            await asyncio.to_thread(self.process.wait, 30)


@pytest.fixture
async def throwaway_redis() -> AsyncIterator[ThrowawayRedis]:
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.skip("no redis-server to start and stop")
    server = ThrowawayRedis(executable)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_a_redis_url_at_a_closed_port_is_unavailable_to_every_caller() -> None:
    link = RedisLink(f"redis://127.0.0.1:{free_port()}/0", "closed")  # nothing listens there
    try:
        for attempt in (
            link.ping(),
            link.publish(link.channel("events"), {"x": 1}),
            link.append(link.channel("events"), {"x": 1}, max_len=1000),
        ):
            with pytest.raises(Unavailable) as refused:
                await attempt
            assert refused.value.detail == (
                "Redis, the bus between the processes, does not answer (ConnectionError)"
            )
    finally:
        await link.close()


async def ready(process: Process) -> dict[str, Any]:
    response = await process.http.get("/ready")
    body: dict[str, Any] = response.json()
    assert (response.status_code == 200) == (body["status"] == "ready")
    return body


async def test_without_redis_the_api_answers_503_and_the_gateway_serves_on(
    pg_url: str, prefix: str, throwaway_redis: ThrowawayRedis
) -> None:
    async with Layout(pg_url, throwaway_redis.url, prefix) as layout:
        gateway = await layout.start("gateway", gateway_id="gw-a")
        api = await layout.start("api")
        site_id = await new_site(api)
        async with connect_charge_point(gateway.app.state.gateway, "CP1") as cp1:
            await eventually(lambda: connected(api, "CP1"))
            assert (await ready(api))["checks"] == {"database": "ok", "redis": "ok"}
            assert (await ready(gateway))["checks"] == {"database": "ok", "redis": "ok", "ocpp": "ok"}

            await throwaway_redis.stop()

            # what needs Redis is a 503 problem that says so; the rest answers as usual
            for path, body in (
                ("/api/v1/charge-points/CP1/commands", RESET),
                (f"/api/v1/sites/{site_id}/schedule/replan", None),
            ):
                refused = await api.http.post(path, json=body)
                assert refused.status_code == 503, refused.text
                assert refused.headers["content-type"] == "application/problem+json"
                assert refused.headers["retry-after"] == "5"
                assert refused.json()["detail"].startswith(
                    "Redis, the bus between the processes, does not answer"
                )
            assert (await api.http.get("/api/v1/charge-points/CP1")).status_code == 200
            assert (await api.http.post("/api/v1/id-tags", json={"id_tag": "T1"})).status_code == 201
            for process in (api, gateway):
                down = await ready(process)
                assert down["status"] == "unavailable"
                assert down["checks"]["database"] == "ok"
                assert down["checks"]["redis"].startswith(
                    "Redis, the bus between the processes, does not answer"
                )
            assert (await gateway.http.get("/health")).status_code == 200  # alive: no reason to restart it

            # the gateway serves its charge points, a new one too
            assert (await cp1.call(call.Heartbeat())).current_time
            async with connect_charge_point(gateway.app.state.gateway, "CP2") as cp2:
                boot = await cp2.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
                assert boot.status == "Accepted"

                await throwaway_redis.start()  # empty: what the processes held comes back with them

                await eventually(lambda: _is_ready(api), timeout_s=10)
                await eventually(lambda: _is_ready(gateway), timeout_s=10)
                await eventually(lambda: _routed(api), timeout_s=10)  # subscriptions taken again
                assert await cp1.wait_for_call("Reset") == {"type": "Soft"}
                await eventually(lambda: connected(api, "CP2"), timeout_s=10)  # claimed while Redis was away

                async def held_events_sent() -> bool:
                    client = redis.Redis.from_url(throwaway_redis.url)
                    try:
                        entries = await client.xrange(f"{prefix}:events")
                    finally:
                        await client.aclose()
                    return any(b'"ChargePointBooted"' in fields[b"m"] and b'"CP2"' in fields[b"m"]
                               for _, fields in entries)  # fmt: skip

                await eventually(held_events_sent, timeout_s=10)


async def _is_ready(process: Process) -> bool:
    return (await ready(process))["status"] == "ready"


async def _routed(api: Process) -> bool:
    return (await api.http.post("/api/v1/charge-points/CP1/commands", json=RESET)).status_code == 202
