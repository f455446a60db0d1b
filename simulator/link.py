"""A charge point's link to its central system: connect, boot, heartbeat, deliver the outbox, reconnect.

`Link.run()` keeps one WebSocket (subprotocol `ocpp1.6`, optional HTTP Basic) up: after a failure or a lost
connection it waits an exponential backoff with jitter and connects again. On each connection it sends
BootNotification until Accepted (retrying after the interval the answer gives), then heartbeats and delivers
the outbox in order until the connection goes or a reset asks for a new one.
"""

import asyncio
import base64
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np
from ocpp.exceptions import OCPPError
from ocpp.v16 import call
from ocpp.v16.enums import RegistrationStatus
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from simulator.clock import parse_instant
from simulator.ocpp_client import OcppClient
from simulator.outbox import SendFailed
from simulator.refusal import explain, wrong_subprotocol

if TYPE_CHECKING:
    from simulator.charge_point import SimulatedChargePoint

log = logging.getLogger(__name__)
SUBPROTOCOL = "ocpp1.6"


class NotConnected(ConnectionError):
    """No accepted connection to the central system right now."""


@dataclass(frozen=True)
class Timing:
    """Delays in simulated seconds unless the name says `real`."""

    tick_s: float = 10.0
    min_tick_real_s: float = 0.05
    response_timeout_real_s: float = 10.0
    open_timeout_real_s: float = 10.0
    backoff_initial_s: float = 2.0
    backoff_max_s: float = 300.0
    boot_retry_s: float = 60.0
    finishing_s: float = 30.0


def backoff_s(failures: int, timing: Timing, jitter: float) -> float:
    """Wait before reconnecting after `failures` failed attempts in a row: doubling from the initial delay up
    to the maximum, then scaled by 0.5–1 (`jitter` in [0, 1)) so that a fleet does not reconnect in step."""
    delay = min(timing.backoff_max_s, timing.backoff_initial_s * 2.0 ** max(0, failures - 1))
    return delay * (0.5 + 0.5 * jitter)


class Link:
    def __init__(
        self,
        charge_point: "SimulatedChargePoint",
        url: str,
        password: str | None,
        seed: int = 0,
        validate: bool = True,
    ):
        self.cp = charge_point
        self.validate = validate  # JSON-schema validation of our CALLs and their answers (off for load tests)
        self.url = url.rstrip("/") + "/" + quote(charge_point.id, safe="")
        self._password = password
        self._rng = np.random.default_rng(seed)
        self._client: OcppClient | None = None
        self._accepted = False
        self._lost = asyncio.Event()
        self._reconnect = asyncio.Event()
        self._warned = False

    @property
    def online(self) -> bool:
        """Connected, and the last BootNotification was accepted."""
        return self._client is not None and self._accepted

    def reconnect(self) -> None:
        """Close the connection and open a new one (what a reset looks like from outside)."""
        self._reconnect.set()

    def _headers(self) -> dict[str, str]:
        if self._password is None:
            return {}
        token = base64.b64encode(f"{self.cp.id}:{self._password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    async def run(self) -> None:
        """Keep a connection up until cancelled."""
        timing, failures = self.cp.timing, 0
        while True:
            opened = False
            try:
                async with connect(
                    self.url,
                    subprotocols=[Subprotocol(SUBPROTOCOL)],
                    additional_headers=self._headers(),
                    open_timeout=timing.open_timeout_real_s,
                    compression=None,  # as most charge points: frames are small, deflate costs CPU
                ) as websocket:
                    opened = True
                    if websocket.subprotocol != SUBPROTOCOL:
                        self.cp.stats.refused(wrong_subprotocol(websocket.subprotocol))
                    else:
                        failures = 0
                        self.cp.stats.connects += 1
                        await self._serve(websocket)
            except (OSError, InvalidHandshake, InvalidURI, ConnectionClosed, TimeoutError) as exc:
                log.debug("%s: connection failed or lost: %r", self.cp.id, exc)
                if not opened:
                    self.cp.stats.refused(explain(exc, self.url, self.cp.id))
            failures += 1
            await self.cp.clock.sleep(backoff_s(failures, timing, float(self._rng.uniform())))

    async def _serve(self, websocket: ClientConnection) -> None:
        client = OcppClient(self.cp, websocket, self.cp.timing.response_timeout_real_s)
        self._client, self._lost, self._accepted = client, asyncio.Event(), False
        self._reconnect.clear()
        reader = asyncio.create_task(client.start())
        protocol = asyncio.create_task(self._protocol())
        try:
            await asyncio.wait({reader, protocol}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._lost.set()
            self._client, self._accepted = None, False
            for task in (reader, protocol):
                task.cancel()
            await asyncio.gather(reader, protocol, return_exceptions=True)
            self.cp.outbox.drop_volatile()

    async def _protocol(self) -> None:
        await self.boot()
        self._accepted = True
        self.cp.stats.boots_accepted += 1
        self.cp.on_boot_accepted()
        tasks = {
            asyncio.create_task(self._heartbeat_loop()),
            asyncio.create_task(self.cp.outbox.run(self.call, self.cp.clock.sleep)),
            asyncio.create_task(self._reconnect.wait()),
        }
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def boot(self) -> None:
        """BootNotification until Accepted; the heartbeat interval comes from the answer."""
        spec, clock, retry_s = self.cp.spec, self.cp.clock, self.cp.timing.boot_retry_s
        while True:
            payload = call.BootNotification(
                charge_point_vendor=spec.vendor,
                charge_point_model=spec.model,
                charge_point_serial_number=spec.id[:25],
                firmware_version=spec.firmware,
            )
            try:
                response = await self.call(payload, booting=True)
            except SendFailed:
                await clock.sleep(retry_s)
                continue
            self._check_clock(response.current_time)
            self.cp.stats.boot_status = response.status
            if response.status == RegistrationStatus.accepted:
                if response.interval > 0:
                    self.cp.config.set("HeartbeatInterval", response.interval)
                return
            await clock.sleep(response.interval if response.interval > 0 else retry_s)

    def _check_clock(self, current_time: str) -> None:
        """Warn when the central system's time is not ours: both sides must run on the same clock contract."""
        try:
            theirs = parse_instant(current_time)
        except ValueError:
            return
        skew_s = (theirs - self.cp.clock.now()).total_seconds()
        self.cp.stats.clock_skew_s = skew_s
        if abs(skew_s) > max(120.0, 5 * self.cp.clock.speed) and not self._warned:
            self._warned = True
            log.warning(
                "%s: the central system's clock is %+.0f s from ours; run both with the same "
                "SMARTCHARGE_CLOCK_SPEED / _START / _ANCHOR",
                self.cp.id,
                skew_s,
            )

    async def _heartbeat_loop(self) -> None:
        while True:
            await self.cp.clock.sleep(max(1, self.cp.config.get_int("HeartbeatInterval")))
            with contextlib.suppress(SendFailed):
                await self.call(call.Heartbeat())

    async def call(self, payload: Any, booting: bool = False) -> Any:
        """Send one CALL; SendFailed on CALLERROR or timeout, NotConnected when the connection goes."""
        client = self._client
        if client is None or not (self._accepted or booting):
            raise NotConnected(self.cp.id)
        request = asyncio.ensure_future(
            client.call(payload, suppress=False, skip_schema_validation=not self.validate)
        )
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({request, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not request.done():
                request.cancel()
        if not request.done() or request.cancelled():
            raise NotConnected(self.cp.id)
        try:
            return request.result()
        except OCPPError as exc:
            self.cp.stats.call_errors += 1
            raise SendFailed(repr(exc)) from exc
        except TimeoutError as exc:
            self.cp.stats.timeouts += 1
            raise SendFailed("no response") from exc
