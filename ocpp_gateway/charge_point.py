"""The central system's side of one charge point: thin `@on` handlers for the 10 CP-initiated messages
(the security extension's are in `ocpp_gateway.security`).

Each handler translates the payload (`ocpp_gateway.wire`), hands it to a use case of
`app.services.ocpp` (which stores it through the group commit and publishes its events once committed)
and returns the `call_result`: the CALLRESULT is sent only after what it acknowledges is stored.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ocpp.charge_point import snake_to_camel_case
from ocpp.v16 import call_result
from ocpp.v16.enums import Action
from websockets.asyncio.connection import Connection

from app.domain.bus import EventBus
from app.domain.enums import RegistrationStatus
from app.domain.messages import Boot, StatusReport
from app.domain.metering import MeterValuesMessage
from app.domain.persistence import Store
from app.domain.ports import NO_METRICS, ChargePointCommands, Clock, CommandRefused, Metrics
from app.services.ocpp import authorisation, charge_points, data_transfer, meter_values, transactions
from app.services.ocpp.certificates import CertificateAuthority
from app.settings import Settings
from ocpp_gateway.rpc import OcppJEndpoint, after, camel_case_payload, log, on
from ocpp_gateway.security import SecurityExtension
from ocpp_gateway.wire import format_timestamp, id_tag_info, parse_timestamp, sampled_values

PENDING_RETRY_S = 60
TOUCH_INTERVAL = timedelta(seconds=30)  # last_seen_at is refreshed at most this often


@dataclass(frozen=True)
class GatewayContext:
    """What every connection's handlers share."""

    settings: Settings
    store: Store
    clock: Clock
    bus: EventBus
    commands: ChargePointCommands
    data_transfer_vendors: Collection[str] = ()
    authority: CertificateAuthority | None = None  # signs charge points' CSRs (SignCertificate)
    metrics: Metrics = NO_METRICS


class CentralSystemChargePoint(SecurityExtension, OcppJEndpoint):
    def __init__(self, charge_point_id: str, connection: Connection, context: GatewayContext) -> None:
        super().__init__(
            charge_point_id,
            connection,
            max_message_bytes=context.settings.ocpp_max_message_bytes,
            metrics=context.metrics,
        )
        self._ctx = context
        self._registration = RegistrationStatus.pending
        self._last_touch: datetime | None = None

    async def route_message(self, raw_msg: str | bytes) -> None:
        await super().route_message(raw_msg)
        now = self._ctx.clock.now()
        if self._last_touch is None or now - self._last_touch >= TOUCH_INTERVAL:
            self._last_touch = now
            self.spawn(charge_points.seen(self._ctx.store, self.id, now))

    @on(Action.boot_notification)
    async def on_boot_notification(self, **payload: Any) -> call_result.BootNotification:
        now = self._ctx.clock.now()
        boot = Boot(self.id, snake_to_camel_case(payload), now)
        status = await charge_points.boot(self._ctx.store, self._ctx.bus, boot)
        self._registration = status
        interval = self._ctx.settings.heartbeat_interval_s
        if status != RegistrationStatus.accepted:
            interval = min(interval, PENDING_RETRY_S)
        return call_result.BootNotification(
            current_time=format_timestamp(now), interval=interval, status=status
        )

    @after(Action.boot_notification)
    async def read_configuration(self, **_: Any) -> None:
        """After an accepted boot, read and store the charge point's configuration (GetConfiguration)."""
        if self._registration == RegistrationStatus.accepted:
            try:
                await self._ctx.commands.send(self.id, "GetConfiguration", {}, author="gateway", wait=True)
            except CommandRefused as refused:
                log.warning("%s: GetConfiguration after boot not sent: %s", self.id, refused.detail)

    @on(Action.heartbeat)
    @camel_case_payload
    async def on_heartbeat(self, _payload: dict[str, Any]) -> dict[str, Any]:
        now = self._ctx.clock.now()
        await charge_points.heartbeat(self._ctx.store, self.id, now)
        return {"currentTime": format_timestamp(now)}

    @on(Action.status_notification)
    @camel_case_payload
    async def on_status_notification(self, payload: dict[str, Any]) -> dict[str, Any]:
        now = self._ctx.clock.now()
        report = StatusReport(
            payload["connectorId"],
            payload["status"],
            payload["errorCode"],
            parse_timestamp(payload["timestamp"]) if "timestamp" in payload else now,
            info=payload.get("info"),
            vendor_id=payload.get("vendorId"),
            vendor_error_code=payload.get("vendorErrorCode"),
        )
        await charge_points.report_status(self._ctx.store, self._ctx.bus, self.id, report, now)
        return {}

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str) -> call_result.Authorize:
        info = await authorisation.authorize(self._ctx.store, id_tag, self._ctx.clock.now())
        return call_result.Authorize(id_tag_info=id_tag_info(info))

    @on(Action.start_transaction)
    async def on_start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: str,
        reservation_id: int | None = None,
    ) -> call_result.StartTransaction:
        result = await transactions.start(
            self._ctx.store,
            self.id,
            connector_id=connector_id,
            id_tag=id_tag,
            meter_start_wh=meter_start,
            timestamp=parse_timestamp(timestamp),
            reservation_id=reservation_id,
            now=self._ctx.clock.now(),
        )
        return call_result.StartTransaction(
            transaction_id=result.transaction_id, id_tag_info=id_tag_info(result.id_tag_info)
        )

    @on(Action.stop_transaction)
    async def on_stop_transaction(
        self,
        meter_stop: int,
        timestamp: str,
        transaction_id: int,
        id_tag: str | None = None,
        reason: str | None = None,
        transaction_data: list[dict[str, Any]] | None = None,
    ) -> call_result.StopTransaction:
        result = await transactions.stop(
            self._ctx.store,
            self.id,
            transaction_id=transaction_id,
            meter_stop_wh=meter_stop,
            timestamp=parse_timestamp(timestamp),
            id_tag=id_tag,
            reason=reason,
            transaction_data=sampled_values(transaction_data or [], "sampled_value"),
            now=self._ctx.clock.now(),
        )
        info = id_tag_info(result.id_tag_info) if result.id_tag_info else None
        return call_result.StopTransaction(id_tag_info=info)

    @on(Action.meter_values)
    @camel_case_payload
    async def on_meter_values(self, payload: dict[str, Any]) -> dict[str, Any]:
        samples = sampled_values(payload["meterValue"], "sampledValue")
        message = MeterValuesMessage(
            self.id, payload["connectorId"], payload.get("transactionId"), samples, self._ctx.clock.now()
        )
        await meter_values.receive(self._ctx.store, self._ctx.bus, message)
        return {}

    @on(Action.data_transfer)
    async def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> call_result.DataTransfer:
        status = await data_transfer.receive(
            self._ctx.store,
            self.id,
            vendor_id=vendor_id,
            message_id=message_id,
            data=data,
            known_vendors=self._ctx.data_transfer_vendors,
            now=self._ctx.clock.now(),
        )
        return call_result.DataTransfer(status=status)

    @on(Action.diagnostics_status_notification)
    async def on_diagnostics_status(self, status: str) -> call_result.DiagnosticsStatusNotification:
        await charge_points.diagnostics_status(self._ctx.store, self.id, status, self._ctx.clock.now())
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    async def on_firmware_status(self, status: str) -> call_result.FirmwareStatusNotification:
        await charge_points.firmware_status(self._ctx.store, self.id, status, self._ctx.clock.now())
        return call_result.FirmwareStatusNotification()
