"""The OCPP 1.6J WebSocket server: `ws(s)://HOST:PORT/ocpp/{chargePointId}`, subprotocol `ocpp1.6`.

Authentication happens in `process_request`, before the upgrade (`admission.py`): a refused attempt gets an
HTTP error and never touches the live connection of the same id. An authenticated second connection replaces
the first; one without a password does not. A client certificate (security profile 3) that is presented is
verified in the TLS handshake (`tls.py`), before any HTTP.
"""

import asyncio
import contextlib
import http
import logging
from collections import defaultdict
from collections.abc import Collection

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from app.domain.bus import EventBus
from app.domain.persistence import Store
from app.domain.ports import NO_METRICS, Clock, Metrics
from app.domain.presence import Presence
from app.services.ocpp import charge_points, reservations
from app.settings import Settings
from ocpp_gateway import handshake, redaction, security, tls
from ocpp_gateway.admission import Admission
from ocpp_gateway.charge_point import CentralSystemChargePoint, GatewayContext
from ocpp_gateway.commands import GatewayCommands
from ocpp_gateway.registry import ConnectionRegistry
from ocpp_gateway.rpc import OcppJEndpoint

log = logging.getLogger(__name__)

# Frames up to this multiple of `ocpp_max_message_bytes` are read and answered with a CALLERROR;
# only larger ones make the transport close the connection (1009).
TRANSPORT_HEADROOM = 4
HOUSEKEEPING_INTERVAL_S = 60.0
CLOSE_TIMEOUT_S = 10.0


class OcppServer:
    """The gateway on a `Store`: what charge points send goes to the services of `app.services.ocpp`, which
    publish their events on `bus` (the one the store publishes on)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        bus: EventBus,
        clock: Clock,
        data_transfer_vendors: Collection[str] = (),
        presence: Presence | None = None,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        redaction.install()
        self.settings = settings
        self.store = store
        self.bus = bus
        self.clock = clock
        self.presence = presence  # scale-out: claims in the presence table; None: this process holds all
        self.registry = ConnectionRegistry()
        self.commands = GatewayCommands(
            self.registry, store, clock, call_timeout_s=settings.ocpp_call_timeout_s, metrics=metrics
        )
        self._context = GatewayContext(
            settings,
            store,
            clock,
            bus,
            self.commands,
            frozenset(data_transfer_vendors),
            security.authority_of(settings),
            metrics,
        )
        self._server: Server | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self._closers: set[asyncio.Task[None]] = set()
        # Serialises each charge point's connected/disconnected writes (a replacement races the old socket).
        self._state_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.admission = Admission(settings, store, clock, self.registry)

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the OCPP server is not started")
        return int(next(iter(self._server.sockets)).getsockname()[1])

    async def check_listening(self) -> None:
        """Raises when the OCPP port does not take connections (a readiness check)."""
        if self._server is None or not self._server.server.is_serving():
            raise ConnectionError("the OCPP server is not listening")

    async def start(self) -> None:
        if self.presence is None:
            # One gateway process holds all sockets (the embedded default): at start nobody is connected
            # and no command is in flight. (With several, the presence leases say who is connected.)
            async with self.store.unit_of_work() as uow:
                await charge_points.gateway_started(uow, self.clock.now())
        self._server = await serve(
            self._serve_connection,
            self.settings.ocpp_host,
            self.settings.ocpp_port,
            process_request=self._process_request,
            subprotocols=[handshake.SUBPROTOCOL],  # type: ignore[list-item]
            max_size=self.settings.ocpp_max_message_bytes * TRANSPORT_HEADROOM,
            ping_interval=self.settings.ocpp_ping_interval_s,
            ping_timeout=self.settings.ocpp_ping_interval_s,
            # After a missed pong the socket is closed this long after the close frame went unanswered.
            close_timeout=min(CLOSE_TIMEOUT_S, self.settings.ocpp_ping_interval_s or CLOSE_TIMEOUT_S),
            ssl=tls.server_context(self.settings),
        )
        self._housekeeping = asyncio.create_task(self._housekeep())
        log.info("OCPP server listening on port %d", self.port)

    async def stop(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await self.commands.aclose()
        self.admission.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.bus.drain(), timeout=5)

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        cp_id = handshake.charge_point_id(request.path)
        if cp_id is None:
            log.warning("refused %s: not /ocpp/{chargePointId} with a valid id", request.path[:100])
            return connection.respond(http.HTTPStatus.NOT_FOUND, "Use /ocpp/{chargePointId}\n")
        if not handshake.offers_subprotocol(request.headers):
            log.warning("refused %s: subprotocol ocpp1.6 not offered", cp_id)
            return connection.respond(http.HTTPStatus.BAD_REQUEST, "Subprotocol ocpp1.6 required\n")
        return await self.admission.check(connection, request, cp_id)

    async def _serve_connection(self, connection: ServerConnection) -> None:
        cp_id = handshake.charge_point_id(connection.request.path if connection.request else "")
        if cp_id is None:  # process_request refused it already
            return
        endpoint = CentralSystemChargePoint(cp_id, connection, self._context)
        previous = self.registry.register(endpoint)
        try:
            if previous is not None:
                self._replace(previous)
            async with self._state_locks[cp_id]:
                if self.presence is not None:
                    await self.presence.claim(cp_id, str(connection.id))
                await charge_points.connected(self.store, self.bus, cp_id, self.clock.now())
            log.info("%s connected from %s", cp_id, connection.remote_address)
            await endpoint.start()
        except ConnectionClosed as closed:
            log.info("%s: connection closed: %s", cp_id, closed)
        finally:
            if self.registry.unregister(endpoint):
                await self._mark_disconnected(cp_id, str(connection.id))

    def _replace(self, previous: OcppJEndpoint) -> None:
        log.warning(
            "%s: a new connection replaces the live one from %s",
            previous.id,
            previous.connection.remote_address,
        )
        closer = asyncio.create_task(previous.connection.close(1000, "replaced by a new connection"))
        self._closers.add(closer)
        closer.add_done_callback(self._closers.discard)

    async def close_replaced(self, cp_id: str, connection_id: str) -> None:
        """Close this connection of `cp_id` (if it is still the live one here): another gateway holds a
        newer authenticated connection of the charge point."""
        endpoint = self.registry.get(cp_id)
        if endpoint is not None and str(endpoint.connection.id) == connection_id:
            self._replace(endpoint)

    def held_connections(self) -> dict[str, str]:
        """Each charge point connected here, with its connection's id."""
        return {endpoint.id: str(endpoint.connection.id) for endpoint in self.registry.endpoints()}

    async def held_again(self, charge_point_ids: list[str]) -> None:
        """Scale-out: this gateway's lease had lapsed and the others, reaping it, marked its charge points
        disconnected; it has claimed these again: those still connected here are recorded as connected."""
        now = self.clock.now()

        async def again(cp_id: str) -> None:
            async with self._state_locks[cp_id]:
                if cp_id in self.registry:
                    await charge_points.connected(self.store, self.bus, cp_id, now)

        await asyncio.gather(*(again(cp_id) for cp_id in charge_point_ids))

    async def _mark_disconnected(self, cp_id: str, connection_id: str) -> None:
        """Record the disconnect, unless a newer connection for the id arrived meanwhile (here, or on
        another gateway)."""
        try:
            async with self._state_locks[cp_id]:
                if cp_id in self.registry:
                    return
                if self.presence is not None and not await self.presence.release(cp_id, connection_id):
                    return
                await charge_points.disconnected(self.store, self.bus, cp_id, self.clock.now())
        except Exception:
            log.exception("%s: could not record the disconnect", cp_id)
            return
        log.info("%s disconnected", cp_id)

    async def _housekeep(self) -> None:
        while True:
            try:
                async with self.store.unit_of_work() as uow:
                    expired = await reservations.expire_reservations(uow, self.clock.now())
                if expired:
                    log.info("%d reservations expired", expired)
            except Exception:
                log.exception("housekeeping failed")
            await asyncio.sleep(HOUSEKEEPING_INTERVAL_S)
