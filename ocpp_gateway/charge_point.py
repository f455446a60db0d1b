"""The central system's side of one charge point: thin `@on` handlers for the 10 CP-initiated messages.

Each handler translates the payload, calls a service inside one unit of work (group-committed with those
of other connections by `Database.run`, committed before the CALLRESULT is built), publishes domain
events after the commit, and returns the `call_result`.
"""

import functools
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ocpp.charge_point import snake_to_camel_case
from ocpp.v16 import call_result
from ocpp.v16.enums import Action
from websockets.asyncio.connection import Connection

from app.db.engine import Database
from app.domain.bus import EventBus
from app.domain.enums import RegistrationStatus
from app.domain.events import (
    ChargePointBooted,
    MeterValuesReceived,
    StatusChanged,
    TransactionStarted,
)
from app.domain.ports import ChargePointCommands, Clock, CommandRefused
from app.services.ocpp import authorisation, charge_points, data_transfer, meter_values, transactions
from app.services.ocpp.authorisation import IdTagInfo
from app.services.ocpp.charge_points import StatusReport
from app.services.ocpp.meter_values import SampledValue
from app.services.timestamps import format_timestamp, parse_timestamp
from app.settings import Settings
from ocpp_gateway.rpc import OcppJEndpoint, after, camel_case_payload, log, on

PENDING_RETRY_S = 60
TOUCH_INTERVAL = timedelta(seconds=30)  # last_seen_at is refreshed at most this often


@dataclass(frozen=True)
class GatewayContext:
    """What every connection's handlers share."""

    settings: Settings
    database: Database
    clock: Clock
    events: EventBus
    commands: ChargePointCommands
    data_transfer_vendors: Collection[str] = ()


class CentralSystemChargePoint(OcppJEndpoint):
    def __init__(self, charge_point_id: str, connection: Connection, context: GatewayContext) -> None:
        super().__init__(
            charge_point_id, connection, max_message_bytes=context.settings.ocpp_max_message_bytes
        )
        self._ctx = context
        self._registration = RegistrationStatus.pending
        self._last_touch: datetime | None = None

    async def route_message(self, raw_msg: str | bytes) -> None:
        await super().route_message(raw_msg)
        now = self._ctx.clock.now()
        if self._last_touch is None or now - self._last_touch >= TOUCH_INTERVAL:
            self._last_touch = now
            self.spawn(self._touch(now))

    async def _touch(self, now: datetime) -> None:
        await self._ctx.database.run_bulk(charge_points.touch_many, (self.id, now))

    @on(Action.boot_notification)
    async def on_boot_notification(self, **payload: Any) -> call_result.BootNotification:
        now = self._ctx.clock.now()
        boot = charge_points.Boot(self.id, snake_to_camel_case(payload), now)
        status = await self._ctx.database.run_bulk(charge_points.record_boots, boot)
        self._registration = status
        vendor, model = payload["charge_point_vendor"], payload["charge_point_model"]
        self._ctx.events.publish(ChargePointBooted(self.id, status.value, vendor, model, now))
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
        await self._ctx.database.run_bulk(charge_points.record_heartbeats, (self.id, now))
        return {"currentTime": format_timestamp(now)}

    @on(Action.status_notification)
    @camel_case_payload
    async def on_status_notification(self, payload: dict[str, Any]) -> dict[str, Any]:
        now = self._ctx.clock.now()
        connector_id, status = payload["connectorId"], payload["status"]
        timestamp = parse_timestamp(payload["timestamp"]) if "timestamp" in payload else now
        report = StatusReport(
            connector_id,
            status,
            payload["errorCode"],
            timestamp,
            info=payload.get("info"),
            vendor_id=payload.get("vendorId"),
            vendor_error_code=payload.get("vendorErrorCode"),
        )
        changed = await self._ctx.database.run_bulk(charge_points.record_statuses, (self.id, report, now))
        if changed:
            self._ctx.events.publish(StatusChanged(self.id, connector_id, status, timestamp))
        return {}

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str) -> call_result.Authorize:
        now = self._ctx.clock.now()
        info = await self._ctx.database.run(lambda session: authorisation.authorise(session, id_tag, now))
        return call_result.Authorize(id_tag_info=_id_tag_info(info))

    @on(Action.start_transaction)
    async def on_start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: str,
        reservation_id: int | None = None,
    ) -> call_result.StartTransaction:
        started_at, now = parse_timestamp(timestamp), self._ctx.clock.now()
        result = await self._ctx.database.run(
            lambda session: transactions.start_transaction(
                session,
                self.id,
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start_wh=meter_start,
                timestamp=started_at,
                reservation_id=reservation_id,
                now=now,
            )
        )
        if result.created:
            self._ctx.events.publish(
                TransactionStarted(
                    result.transaction_id, self.id, connector_id, id_tag, started_at, meter_start
                )
            )
        return call_result.StartTransaction(
            transaction_id=result.transaction_id, id_tag_info=_id_tag_info(result.id_tag_info)
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
        stopped_at, samples, now = (
            parse_timestamp(timestamp),
            _sampled_values(transaction_data or [], "sampled_value"),
            self._ctx.clock.now(),
        )
        result = await self._ctx.database.run(
            lambda session: transactions.stop_transaction(
                session,
                self.id,
                transaction_id=transaction_id,
                meter_stop_wh=meter_stop,
                timestamp=stopped_at,
                id_tag=id_tag,
                reason=reason,
                transaction_data=samples,
                now=now,
            )
        )
        if result.stopped is not None:
            self._ctx.events.publish(result.stopped)
        info = _id_tag_info(result.id_tag_info) if result.id_tag_info else None
        return call_result.StopTransaction(id_tag_info=info)

    @on(Action.meter_values)
    @camel_case_payload
    async def on_meter_values(self, payload: dict[str, Any]) -> dict[str, Any]:
        connector_id = payload["connectorId"]
        samples = _sampled_values(payload["meterValue"], "sampledValue")
        message = meter_values.MeterValuesMessage(
            self.id, connector_id, payload.get("transactionId"), samples, self._ctx.clock.now()
        )
        tx_id, new = await self._ctx.database.run_bulk(meter_values.store_many, message)
        if new:
            summary = functools.partial(meter_values.summarise, samples)
            self._ctx.events.publish(MeterValuesReceived(self.id, connector_id, tx_id, summary))
        return {}

    @on(Action.data_transfer)
    async def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> call_result.DataTransfer:
        now = self._ctx.clock.now()
        status = await self._ctx.database.run(
            lambda session: data_transfer.receive(
                session,
                self.id,
                vendor_id=vendor_id,
                message_id=message_id,
                data=data,
                known_vendors=self._ctx.data_transfer_vendors,
                now=now,
            )
        )
        return call_result.DataTransfer(status=status)

    @on(Action.diagnostics_status_notification)
    async def on_diagnostics_status(self, status: str) -> call_result.DiagnosticsStatusNotification:
        now = self._ctx.clock.now()
        await self._ctx.database.run(
            lambda session: charge_points.record_diagnostics_status(session, self.id, status, now)
        )
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    async def on_firmware_status(self, status: str) -> call_result.FirmwareStatusNotification:
        now = self._ctx.clock.now()
        await self._ctx.database.run(
            lambda session: charge_points.record_firmware_status(session, self.id, status, now)
        )
        return call_result.FirmwareStatusNotification()


def _id_tag_info(info: IdTagInfo) -> dict[str, Any]:
    expiry = format_timestamp(info.expiry_date) if info.expiry_date else None
    return {"status": info.status, "expiry_date": expiry, "parent_id_tag": info.parent_id_tag}


def _sampled_values(meter_value: list[dict[str, Any]], sampled_key: str) -> list[SampledValue]:
    """meterValue elements → one `SampledValue` per sampledValue (under `sampled_key`: the payload's
    "sampledValue", or "sampled_value" once snake-cased), defaults filled in."""
    samples = []
    for element in meter_value:
        timestamp: datetime = parse_timestamp(element["timestamp"])
        for sampled in element[sampled_key]:
            get = sampled.get
            samples.append(
                SampledValue(  # positional: cheaper than keywords, on every sample
                    timestamp,
                    sampled["value"],
                    get("context") or meter_values.DEFAULT_CONTEXT,
                    get("format") or meter_values.DEFAULT_FORMAT,
                    get("measurand") or meter_values.DEFAULT_MEASURAND,
                    get("phase"),
                    get("location") or meter_values.DEFAULT_LOCATION,
                    get("unit"),
                )
            )
    return samples
