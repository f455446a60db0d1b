"""Test helpers for the OCPP gateway, reusable by end-to-end tests.

* `running_gateway(database_url, **settings)` — an `OcppServer` on an OS-assigned loopback port.
* `connect_charge_point(gateway, cp_id, ...)` — a `ClientChargePoint` (the `ocpp` package's ChargePoint as a
  client) connected over a real WebSocket, its receive loop running.
* `ClientChargePoint` answers the 19 central-system operations with configurable responses and records them.
"""

import asyncio
import base64
import contextlib
import copy
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from ocpp.v16 import ChargePoint
from websockets.asyncio.client import ClientConnection, connect

from app.db.engine import Database, create_engine
from app.db.store import SqlStore
from app.domain.bus import EventBus
from app.domain.clock import SystemClock
from app.domain.events import Event
from app.domain.ocpp import ChargePoint as ChargePointRow
from app.domain.ocpp import IdTag
from app.services.passwords import hash_password
from app.settings import Settings
from ocpp_gateway import OcppServer


@dataclass(frozen=True)
class ErrorReply:
    """Answer a CALL with this CALLERROR."""

    code: str = "InternalError"
    description: str = "simulated failure"


NO_ANSWER = object()  # never answer (to exercise the timeout)

DEFAULT_RESPONSES: dict[str, Any] = {
    "CancelReservation": {"status": "Accepted"},
    "ChangeAvailability": {"status": "Accepted"},
    "ChangeConfiguration": {"status": "Accepted"},
    "ClearCache": {"status": "Accepted"},
    "ClearChargingProfile": {"status": "Accepted"},
    "DataTransfer": {"status": "Accepted", "data": "pong"},
    "GetCompositeSchedule": {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": "2026-01-01T00:00:00Z",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        },
    },
    "GetConfiguration": {
        "configurationKey": [
            {"key": "ChargingScheduleAllowedChargingRateUnit", "readonly": True, "value": "Current,Power"},
            {"key": "ChargingScheduleMaxPeriods", "readonly": True, "value": "24"},
            {"key": "ChargeProfileMaxStackLevel", "readonly": True, "value": "8"},
            {"key": "MaxChargingProfilesInstalled", "readonly": True, "value": "10"},
            {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
            {"key": "MeterValueSampleInterval", "readonly": False, "value": "60"},
        ]
    },
    "GetDiagnostics": {"fileName": "diagnostics.zip"},
    "GetLocalListVersion": {"listVersion": 7},
    "RemoteStartTransaction": {"status": "Accepted"},
    "RemoteStopTransaction": {"status": "Accepted"},
    "ReserveNow": {"status": "Accepted"},
    "Reset": {"status": "Accepted"},
    "SendLocalList": {"status": "Accepted"},
    "SetChargingProfile": {"status": "Accepted"},
    "TriggerMessage": {"status": "Accepted"},
    "UnlockConnector": {"status": "Unlocked"},
    "UpdateFirmware": {},
}


class ClientChargePoint(ChargePoint):  # type: ignore[misc]
    """A charge point: sends CP-initiated messages with `call`, answers the central system's CALLs.

    `responses[action]` is a camelCase payload, an `ErrorReply`, `NO_ANSWER`, or a callable of the request
    payload returning one of those. Every CALL received is appended to `received` as (action, payload).
    """

    def __init__(self, cp_id: str, connection: ClientConnection) -> None:
        super().__init__(cp_id, connection, response_timeout=10)
        # a deep copy: a test may change a nested answer (a configuration key added) for its charge point only
        self.responses: dict[str, Any] = copy.deepcopy(DEFAULT_RESPONSES)
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.calls_seen = asyncio.Event()

    async def _handle_call(self, msg: Any) -> None:
        self.received.append((msg.action, msg.payload))
        self.calls_seen.set()
        answer = self.responses.get(msg.action, {})
        if callable(answer):
            answer = answer(msg.payload)
        if answer is NO_ANSWER:
            return
        if isinstance(answer, ErrorReply):
            await self._send(json.dumps([4, msg.unique_id, answer.code, answer.description, {}]))
            return
        await self._send(json.dumps([3, msg.unique_id, answer]))

    async def wait_for_call(self, action: str, timeout_s: float = 5.0) -> dict[str, Any]:
        """The payload of the first CALL `action` received (waiting for it if needed)."""
        async with asyncio.timeout(timeout_s):
            while True:
                for name, payload in self.received:
                    if name == action:
                        return payload
                self.calls_seen.clear()
                await self.calls_seen.wait()


def gateway_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "ocpp_host": "127.0.0.1",
        "ocpp_port": 0,
        "unknown_charge_points": "accept",
        "ocpp_call_timeout_s": 5.0,
        "ocpp_ping_interval_s": None,
    }
    return Settings(**(values | overrides))


@contextlib.asynccontextmanager
async def running_gateway(
    database_url: str, *, data_transfer_vendors: tuple[str, ...] = (), **settings: Any
) -> AsyncIterator[OcppServer]:
    """A started `OcppServer` on 127.0.0.1, OS-assigned port; stopped (engine disposed) after."""
    config = gateway_settings(database_url, **settings)
    database, bus = Database(create_engine(config.database_url)), EventBus()
    server = OcppServer(
        config,
        SqlStore(database, bus),
        bus=bus,
        clock=SystemClock(),
        data_transfer_vendors=data_transfer_vendors,
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
        await database.dispose()


def url(gateway: OcppServer, cp_id: str, *, scheme: str = "ws") -> str:
    return f"{scheme}://127.0.0.1:{gateway.port}/ocpp/{cp_id}"


def basic_auth(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@contextlib.asynccontextmanager
async def connect_charge_point(
    gateway: OcppServer, cp_id: str, *, password: str | None = None, **connect_args: Any
) -> AsyncIterator[ClientChargePoint]:
    """A connected `ClientChargePoint` with its receive loop running; closed after."""
    headers = basic_auth(cp_id, password) if password is not None else None
    async with connect(
        connect_args.pop("uri", url(gateway, cp_id)),
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        additional_headers=headers,
        **connect_args,
    ) as ws:
        client = ClientChargePoint(cp_id, ws)
        loop = asyncio.create_task(client.start())
        try:
            yield client
        finally:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await loop


async def add_id_tag(gateway: OcppServer, id_tag: str, **fields: Any) -> None:
    async with gateway.store.database.session() as session:
        session.add(IdTag(id_tag=id_tag, **fields))


async def register_charge_point(
    gateway: OcppServer, cp_id: str, *, password: str | None = None, status: str = "Accepted"
) -> None:
    async with gateway.store.database.session() as session:
        session.add(
            ChargePointRow(
                id=cp_id,
                registration_status=status,
                password_hash=hash_password(password) if password else None,
            )
        )


class EventLog:
    """Collects published events (subscribe it to the gateway's bus)."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[Event] = []
        bus.subscribe(self.events.append)

    def of(self, kind: type[Any]) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]


async def eventually(check: Callable[[], Any], timeout_s: float = 5.0) -> Any:
    """Poll an async or sync `check` until it returns a truthy value."""
    async with asyncio.timeout(timeout_s):
        while True:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return result
            await asyncio.sleep(0.02)
