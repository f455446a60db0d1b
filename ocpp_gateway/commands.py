"""`ChargePointCommands` for this gateway: validate, record, send, and store the outcome of each operation."""

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.domain.enums import CommandStatus
from app.domain.messages import Completion, NewCommand, ReservationRequest
from app.domain.persistence import Store
from app.domain.ports import NO_METRICS, Clock, CommandOutcome, CommandRefused, Metrics
from app.services.ocpp import authorization_key, security_requests
from app.services.ocpp import commands as command_service
from app.services.ocpp.commands import ReservationConflict, TagRefused
from ocpp_gateway.datetimes import InvalidDateTime, outbound_datetimes
from ocpp_gateway.errors import CallErrorCode
from ocpp_gateway.registry import ConnectionRegistry
from ocpp_gateway.rpc import ConnectionLost, OcppJEndpoint, Reply
from ocpp_gateway.validation import validate
from ocpp_gateway.wire import parse_timestamp

log = logging.getLogger(__name__)

# The 19 operations a central system initiates in OCPP 1.6 (core, firmware, local list, reservation,
# remote trigger and smart charging profiles).
OPERATIONS = frozenset(
    {
        "CancelReservation",
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "ClearChargingProfile",
        "DataTransfer",
        "GetCompositeSchedule",
        "GetConfiguration",
        "GetDiagnostics",
        "GetLocalListVersion",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "TriggerMessage",
        "UnlockConnector",
        "UpdateFirmware",
    }
)
# The OCPP 1.6 Security Whitepaper's (edition 3).
SECURITY_OPERATIONS = frozenset(
    {
        "CertificateSigned",
        "DeleteCertificate",
        "ExtendedTriggerMessage",
        "GetInstalledCertificateIds",
        "GetLog",
        "InstallCertificate",
        "SignedUpdateFirmware",
    }
)
SENDABLE = OPERATIONS | SECURITY_OPERATIONS


class GatewayCommands:
    """Sends operations to charge points connected to this process and records each as a `Command`."""

    def __init__(
        self,
        registry: ConnectionRegistry,
        store: Store,
        clock: Clock,
        *,
        call_timeout_s: float,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self._metrics = metrics
        self._registry = registry
        self._store = store
        self._clock = clock
        self._call_timeout_s = call_timeout_s
        self._tasks: set[asyncio.Task[CommandOutcome]] = set()

    def is_connected(self, charge_point_id: str) -> bool:
        return charge_point_id in self._registry

    def connected_ids(self) -> set[str]:
        return self._registry.ids()

    async def send(
        self,
        charge_point_id: str,
        action: str,
        payload: Mapping[str, Any],
        *,
        author: str | None = None,
        wait: bool = False,
    ) -> int:
        """Validate, record and send one operation; see `app.domain.ports.ChargePointCommands.send`.

        ReserveNow without `reservationId` gets one allocated (the Reservation row's id); with one, it
        creates that reservation or replaces this charge point's open reservation with that id for the same
        tag (any other is refused: `conflict`); its tag must be one that may charge (else `id_tag`).
        Date-times must be RFC 3339 with an offset and are sent as UTC `Z` (else `invalid`).
        """
        command_id, task = await self.start(charge_point_id, action, payload, author)
        if wait:
            await asyncio.shield(task)
        return command_id

    async def call(
        self, charge_point_id: str, action: str, payload: Mapping[str, Any], *, author: str | None = None
    ) -> tuple[int, CommandOutcome]:
        """`send(..., wait=True)` that also returns the stored outcome (no read back from the database)."""
        command_id, task = await self.start(charge_point_id, action, payload, author)
        return command_id, await asyncio.shield(task)

    async def start(
        self, charge_point_id: str, action: str, payload: Mapping[str, Any], author: str | None
    ) -> tuple[int, asyncio.Task[CommandOutcome]]:
        """Validate, record and send one operation: its command id, and the task that ends with its outcome
        (what `send` and `call` build on, and what a gateway runs for a command routed to it)."""
        body, allocate = prepare(action, payload)
        endpoint = self._registry.get(charge_point_id)
        if endpoint is None:
            raise CommandRefused("not_connected", f"{charge_point_id} is not connected")
        sealed = await authorization_key.seal(action, body)
        new = NewCommand(charge_point_id, action, sealed.stored_payload, author, self._clock.now())
        try:
            command_id, stored = await command_service.record(self._store, new, _reservation(action, body))
        except ReservationConflict as error:
            raise CommandRefused("conflict", str(error)) from error
        except TagRefused as error:
            raise CommandRefused("id_tag", str(error)) from error
        body = body if sealed.password_hash is not None else stored  # the charge point gets the value
        run = self._run(endpoint, command_id, action, body, sealed.password_hash)
        task = asyncio.get_running_loop().create_task(run)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return command_id, task

    async def aclose(self, timeout_s: float = 5.0) -> None:
        """Let commands in flight finish (their connections are closing), then cancel what is left."""
        if self._tasks:
            _done, pending = await asyncio.wait(list(self._tasks), timeout=timeout_s)
            for task in pending:
                task.cancel()

    async def _run(
        self,
        endpoint: OcppJEndpoint,
        command_id: int,
        action: str,
        body: dict[str, Any],
        password_hash: str | None = None,
    ) -> CommandOutcome:
        sent_at: datetime | None = None
        recording: asyncio.Task[None] | None = None

        async def record_sent(at: datetime) -> None:
            try:
                await command_service.sent(self._store, command_id, at)
            except Exception:  # the CALL is out: its outcome is still awaited and stored with sent_at
                log.exception("%s: could not store when %s #%d was sent", endpoint.id, action, command_id)

        async def mark_sent() -> None:
            # stored now (a client may look before the answer), beside the call: waiting for the write here
            # would hold the connection's next CALL and this one's answer behind a commit
            nonlocal sent_at, recording
            sent_at = self._clock.now()
            recording = asyncio.get_running_loop().create_task(record_sent(sent_at))

        try:
            reply = await endpoint.call_action(
                action, body, timeout_s=self._call_timeout_s, on_sent=mark_sent
            )
            outcome = _outcome(action, reply)
        except TimeoutError:
            outcome = CommandOutcome(
                CommandStatus.timeout, error_description=f"no answer in {self._call_timeout_s} s"
            )
        except ConnectionLost as error:
            outcome = CommandOutcome(
                CommandStatus.error, error_code="ConnectionClosed", error_description=str(error)
            )
        except Exception as error:
            log.exception("%s: %s #%d failed", endpoint.id, action, command_id)
            outcome = CommandOutcome(
                CommandStatus.error, error_code="InternalError", error_description=repr(error)
            )
        done = Completion(command_id, outcome, sent_at, self._clock.now(), password_hash)
        await command_service.finish(self._store, action, done)
        self._metrics.command_finished(action, outcome.status.value)
        if recording is not None:
            await recording
        log.info("%s: %s #%d → %s", endpoint.id, action, command_id, outcome.status)
        return outcome


def prepare(action: str, payload: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """The checks made before a command is recorded (raises `CommandRefused`): the body to send, with its
    date-times in UTC, and whether it is a ReserveNow whose reservationId is still to be allocated."""
    if action not in SENDABLE:
        raise CommandRefused(
            "unknown_action",
            f"{action} is not a central-system operation of OCPP 1.6 (or its security extension)",
        )
    try:  # first: what is sent (and then validated) has its date-times in UTC
        body = outbound_datetimes(action, dict(payload))
    except InvalidDateTime as error:
        raise CommandRefused("invalid", str(error)) from error
    allocate = action == "ReserveNow" and "reservationId" not in body
    try:
        if authorization_key.sets_authorization_key(action, body):  # checked first: no echo of the value
            authorization_key.check(body.get("value"))
        validate(action, body | {"reservationId": 0} if allocate else body)
        security_requests.check(action, body)
    except (authorization_key.InvalidAuthorizationKey, security_requests.InvalidRequest) as error:
        raise CommandRefused("invalid", str(error)) from error
    except CallErrorCode as error:
        raise CommandRefused("invalid", f"{error.code}: {error.details.get('cause', '')}") from error
    return body, allocate


def _reservation(action: str, payload: dict[str, Any]) -> ReservationRequest | None:
    """A ReserveNow's reservation (its payload is valid by now)."""
    if action != "ReserveNow":
        return None
    return ReservationRequest(
        connector_id=int(payload["connectorId"]),
        id_tag=payload["idTag"],
        expiry_date=parse_timestamp(payload["expiryDate"]),
        parent_id_tag=payload.get("parentIdTag"),
        reservation_id=payload.get("reservationId"),
    )


def _outcome(action: str, reply: Reply) -> CommandOutcome:
    if reply.payload is None:
        details = reply.error_details or None
        return CommandOutcome(
            CommandStatus.error,
            response=details,
            error_code=reply.error_code,
            error_description=reply.error_description,
        )
    try:
        validate(action, reply.payload, response=True)
    except CallErrorCode as error:
        return CommandOutcome(
            CommandStatus.error,
            response=reply.payload,
            error_code=error.code,
            error_description=f"invalid response: {error.details.get('cause', '')}",
        )
    return command_service.answered(reply.payload)
