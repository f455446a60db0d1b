"""A reconnect storm of 1,000 charge points with passwords (security profile 1): all back within 10 s?

The gateway (`OcppServer` on SQLite, passwords required, as `make run` embeds it) runs in a process of its
own; 1,000 charge points, each registered with an Argon2id-hashed password, connect with HTTP Basic and
send a BootNotification. "first connect" is the gateway's first sight of them (one Argon2 run each, in the
password pool); then every connection is dropped at once and all reconnect and boot again: "storm" runs from
the drop until the last BootNotification is answered (a reconnect is verified from the cache). Clients open
at most 200 connections at a time and retry after 1-3 s when the gateway's opening timeout (10 s) passed.
"""

import asyncio
import base64
import contextlib
import json
import logging
import multiprocessing
import random
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

CHARGE_POINTS = 1000
PASSWORD = "fleet-password-0123456789"
TARGET_S = 10.0
CONNECT_CONCURRENCY = 200


def _serve(database_url: str, control: Connection) -> None:
    logging.basicConfig(level=logging.CRITICAL)  # refused handshakes of a cold start are expected
    asyncio.run(_serve_async(database_url, control))


async def _serve_async(database_url: str, control: Connection) -> None:
    from sqlalchemy import insert

    from app.db.engine import Database, create_engine
    from app.db.migrate import upgrade
    from app.db.store import SqlStore
    from app.db.tables.ocpp import charge_point_table
    from app.domain.bus import EventBus
    from app.domain.clock import SystemClock, utcnow
    from app.services.passwords import hash_password
    from app.settings import Settings
    from ocpp_gateway import OcppServer

    settings = Settings(
        database_url=database_url,
        ocpp_host="127.0.0.1",
        ocpp_port=0,
        ocpp_require_password=True,
        unknown_charge_points="reject",
        scheduler_enabled=False,
        ocpp_ping_interval_s=None,
    )
    await asyncio.to_thread(upgrade, settings.database_url)
    database, bus = Database(create_engine(settings.database_url)), EventBus()
    password_hash = hash_password(PASSWORD)
    async with database.session() as session:
        await session.execute(
            insert(charge_point_table),
            [
                {
                    "id": f"CP{i:04d}",
                    "registration_status": "Accepted",
                    "password_hash": password_hash,
                    "created_at": utcnow(),
                }
                for i in range(CHARGE_POINTS)
            ],
        )
    server = OcppServer(settings, SqlStore(database, bus), bus=bus, clock=SystemClock())
    await server.start()
    control.send(server.port)
    await asyncio.to_thread(control.recv)  # stop
    control.send({"argon2_runs": server.admission.passwords.argon2_runs, "now": utcnow().isoformat()})
    await server.stop()
    await database.dispose()


async def _open(port: int, cp_id: str, gate: asyncio.Semaphore, retries: list[int]) -> ClientConnection:
    """Connect and boot, retrying after 1–3 s (a charge point's backoff) when the gateway did not answer
    within its opening timeout (a cold start queues Argon2 runs behind each other)."""
    while True:
        try:
            async with gate:
                return await _connect_and_boot(port, cp_id)
        except (OSError, TimeoutError, WebSocketException):
            retries[0] += 1
            await asyncio.sleep(random.uniform(1.0, 3.0))


async def _connect_and_boot(port: int, cp_id: str) -> ClientConnection:
    token = base64.b64encode(f"{cp_id}:{PASSWORD}".encode()).decode()
    ws = await connect(
        f"ws://127.0.0.1:{port}/ocpp/{cp_id}",
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        additional_headers={"Authorization": f"Basic {token}"},
        open_timeout=30,
        ping_interval=None,
    )
    payload = {"chargePointVendor": "Bench", "chargePointModel": "Storm"}
    await ws.send(json.dumps([2, "1", "BootNotification", payload]))
    answer = json.loads(await ws.recv())
    if answer[0] != 3 or answer[2]["status"] != "Accepted":
        raise RuntimeError(f"{cp_id}: {answer}")
    return ws


async def _all_back(port: int) -> tuple[float, int, list[ClientConnection]]:
    gate, retries = asyncio.Semaphore(CONNECT_CONCURRENCY), [0]
    started = time.perf_counter()
    connections = await asyncio.gather(
        *(_open(port, f"CP{i:04d}", gate, retries) for i in range(CHARGE_POINTS))
    )
    return time.perf_counter() - started, retries[0], connections


async def _run(port: int) -> dict[str, float]:
    first_s, first_retries, connections = await _all_back(port)
    for ws in connections:
        ws.transport.abort()  # the link is gone: no close handshake
    storm_s, storm_retries, connections = await _all_back(port)
    for ws in connections:
        with contextlib.suppress(Exception):
            await ws.close()
    return {
        "first_connect_s": first_s,
        "first_retries": first_retries,
        "storm_s": storm_s,
        "storm_retries": storm_retries,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        database_url = f"sqlite:///{Path(directory) / 'storm.db'}"
        ours, theirs = multiprocessing.get_context("spawn").Pipe()
        process = multiprocessing.get_context("spawn").Process(target=_serve, args=(database_url, theirs))
        process.start()
        try:
            port = ours.recv()
            figures: dict[str, Any] = asyncio.run(_run(port))
            ours.send("stop")
            figures |= ours.recv()
        finally:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    print(f"{CHARGE_POINTS} charge points with passwords (Argon2id), SQLite, passwords required")
    print(
        f"first connect (an Argon2 run each): all booted in {figures['first_connect_s']:.1f} s"
        f" ({figures['first_retries']} retries)"
    )
    verdict = "met" if figures["storm_s"] <= TARGET_S else "MISSED"
    print(
        f"reconnect storm (all dropped at once): all booted in {figures['storm_s']:.1f} s"
        f" ({figures['storm_retries']} retries), target {TARGET_S:g} s {verdict}"
    )
    print(f"Argon2 runs in the gateway: {figures['argon2_runs']}")


if __name__ == "__main__":
    main()
