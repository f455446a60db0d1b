"""A tiny OCPP 1.6J central system for the simulator's tests: records, answers, can push profiles."""

import asyncio
import base64
import contextlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from app.domain.clock import ScaledClock


@dataclass
class Received:
    charge_point_id: str
    action: str
    payload: dict[str, Any]
    connection: int


@dataclass
class CentralSystem:
    heartbeat_s: int = 600
    boot_status: str = RegistrationStatus.accepted
    tx_profile: Callable[[int], dict[str, Any]] | None = None  # transaction id → csChargingProfiles
    received: list[Received] = field(default_factory=list)
    connections: dict[str, "ServerChargePoint"] = field(default_factory=dict)
    profile_answers: list[str] = field(default_factory=list)
    password: str | None = None  # when set, HTTP Basic is required (security profile 1)
    failing: set[str] = field(default_factory=set)  # actions answered with a CALLERROR
    invalid_tags: set[str] = field(default_factory=set)  # Authorize answers Invalid
    blocked_at_start: set[str] = field(default_factory=set)  # StartTransaction answers Blocked
    clock: ScaledClock | None = None  # the time it answers with (default: the wall clock)
    port: int = 0
    _server: Server | None = None
    _tx_ids: itertools.count = field(default_factory=lambda: itertools.count(1001))
    _connection_ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    async def start(self) -> None:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            self.port,
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            process_request=self._check_password,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        self.connections.clear()

    def _check_password(self, connection: ServerConnection, request: Request) -> Response | None:
        if self.password is None:
            return None
        cp_id = request.path.rsplit("/", 1)[-1]
        token = base64.b64encode(f"{cp_id}:{self.password}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {token}":
            return connection.respond(HTTPStatus.UNAUTHORIZED, "wrong or missing password\n")
        return None

    async def _handle(self, websocket: ServerConnection) -> None:
        assert websocket.request is not None
        cp_id = websocket.request.path.rsplit("/", 1)[-1]
        charge_point = ServerChargePoint(cp_id, websocket, self, next(self._connection_ids))
        self.connections[cp_id] = charge_point
        with contextlib.suppress(ConnectionClosed):
            await charge_point.start()

    def of(self, action: str, charge_point_id: str | None = None) -> list[dict[str, Any]]:
        return [
            r.payload
            for r in self.received
            if r.action == action and (charge_point_id is None or r.charge_point_id == charge_point_id)
        ]

    def new_transaction_id(self) -> int:
        return next(self._tx_ids)


class ServerChargePoint(ChargePoint):  # type: ignore[misc]
    def __init__(self, cp_id: str, websocket: ServerConnection, central: CentralSystem, connection: int):
        super().__init__(cp_id, websocket, response_timeout=5)
        self.central = central
        self.connection = connection

    def _record(self, action: str, payload: dict[str, Any]) -> None:
        self.central.received.append(Received(self.id, action, payload, self.connection))
        if action in self.central.failing:
            raise RuntimeError(f"{action} fails on purpose")  # the library answers InternalError

    @on(Action.boot_notification)
    def on_boot(self, **payload: Any) -> call_result.BootNotification:
        self._record("BootNotification", payload)
        now = self.central.clock.now() if self.central.clock else datetime.now(UTC)
        return call_result.BootNotification(
            current_time=now.isoformat(), interval=self.central.heartbeat_s, status=self.central.boot_status
        )

    @on(Action.heartbeat)
    def on_heartbeat(self, **payload: Any) -> call_result.Heartbeat:
        self._record("Heartbeat", payload)
        return call_result.Heartbeat(current_time=datetime.now(UTC).isoformat())

    @on(Action.status_notification)
    def on_status(self, **payload: Any) -> call_result.StatusNotification:
        self._record("StatusNotification", payload)
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, **payload: Any) -> call_result.Authorize:
        self._record("Authorize", payload)
        invalid = payload["id_tag"] in self.central.invalid_tags
        status = AuthorizationStatus.invalid if invalid else AuthorizationStatus.accepted
        return call_result.Authorize(id_tag_info={"status": status})

    @on(Action.start_transaction)
    def on_start(self, **payload: Any) -> call_result.StartTransaction:
        transaction_id = self.central.new_transaction_id()
        self._record("StartTransaction", {**payload, "assigned": transaction_id})
        blocked = payload["id_tag"] in self.central.blocked_at_start
        status = AuthorizationStatus.blocked if blocked else AuthorizationStatus.accepted
        return call_result.StartTransaction(transaction_id=transaction_id, id_tag_info={"status": status})

    @after(Action.start_transaction)
    def after_start(self, connector_id: int, **_: Any) -> None:
        make = self.central.tx_profile
        if make is not None:
            transaction_id = self.central.of("StartTransaction", self.id)[-1]["assigned"]
            asyncio.ensure_future(self.push_profile(connector_id, make(transaction_id)))

    async def push_profile(self, connector_id: int, profile: dict[str, Any]) -> str:
        response = await self.call(
            call.SetChargingProfile(connector_id=connector_id, cs_charging_profiles=profile)
        )
        self.central.profile_answers.append(response.status)
        return str(response.status)

    @on(Action.meter_values)
    def on_meter_values(self, **payload: Any) -> call_result.MeterValues:
        self._record("MeterValues", payload)
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    def on_stop(self, **payload: Any) -> call_result.StopTransaction:
        self._record("StopTransaction", payload)
        return call_result.StopTransaction()

    @on(Action.diagnostics_status_notification)
    def on_diagnostics(self, **payload: Any) -> call_result.DiagnosticsStatusNotification:
        self._record("DiagnosticsStatusNotification", payload)
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    def on_firmware(self, **payload: Any) -> call_result.FirmwareStatusNotification:
        self._record("FirmwareStatusNotification", payload)
        return call_result.FirmwareStatusNotification()


async def eventually(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait (real time) until `condition()` holds."""
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 - polling state another task changes
            await asyncio.sleep(0.01)
