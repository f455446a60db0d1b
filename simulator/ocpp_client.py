# The `ocpp` package ships no type information: its base class and decorators are `Any` to mypy.
# mypy: disable-error-code="misc, untyped-decorator"
"""The `ocpp.v16.ChargePoint` a simulated charge point speaks through: thin handlers for central-system calls.

Each handler translates to the simulator and answers; follow-up CALLs run as tasks from `@after` hooks.
"""

import itertools
import json
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import (
    Action,
    AvailabilityType,
    CancelReservationStatus,
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ChargingRateUnitType,
    ClearCacheStatus,
    DataTransferStatus,
    GetCompositeScheduleStatus,
    MessageTrigger,
    Reason,
    RemoteStartStopStatus,
    ReservationStatus,
    ResetStatus,
    TriggerMessageStatus,
    UnlockStatus,
    UpdateStatus,
)
from websockets.asyncio.client import ClientConnection

from simulator.composite import ChargingProfile
from simulator.connector import RemoteStart, Reservation

if TYPE_CHECKING:
    from simulator.charge_point import SimulatedChargePoint

TRIGGERABLE = {
    MessageTrigger.boot_notification,
    MessageTrigger.heartbeat,
    MessageTrigger.status_notification,
    MessageTrigger.meter_values,
    MessageTrigger.diagnostics_status_notification,
    MessageTrigger.firmware_status_notification,
}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class OcppClient(ChargePoint):
    def __init__(self, sim: "SimulatedChargePoint", connection: ClientConnection, response_timeout_s: float):
        super().__init__(sim.id, connection, response_timeout=response_timeout_s)
        self.sim = sim
        prefix = f"{secrets.token_hex(4)}-"  # unique message ids without a uuid4 per message
        counter = itertools.count(1)
        self._unique_id_generator = lambda: f"{prefix}{next(counter)}"

    async def _send(self, message: str) -> None:
        """Count each CALL when its frame goes out (a call cancelled before that was never sent)."""
        await super()._send(message)
        if message.startswith("[2,"):
            _, unique_id, action, payload = json.loads(message)
            self.sim.stats.sent[action] += 1
            if self.sim.stats.journal is not None:
                self.sim.stats.journal.append((unique_id, action, payload))

    def _count(self, action: Action) -> None:
        self.sim.stats.received[action.value] += 1

    # ---- configuration ---------------------------------------------------------------------------------

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None) -> call_result.GetConfiguration:
        self._count(Action.get_configuration)
        known, unknown = self.sim.config.get(key)
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str) -> call_result.ChangeConfiguration:
        self._count(Action.change_configuration)
        return call_result.ChangeConfiguration(status=self.sim.config.change(key, value))

    # ---- smart charging --------------------------------------------------------------------------------

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any]
    ) -> call_result.SetChargingProfile:
        self._count(Action.set_charging_profile)
        self.sim.stats.profiles_received += 1
        profile: ChargingProfile | None = None
        try:
            profile = ChargingProfile.from_ocpp(cs_charging_profiles)
        except (KeyError, ValueError, TypeError):
            status = ChargingProfileStatus.rejected
        else:
            status = self.sim.profiles.set(connector_id, profile, self.sim.clock.now())
        if status == ChargingProfileStatus.accepted:
            self.sim.stats.profiles_accepted += 1
            self.sim.apply_limits()
        self.sim.stats.profile_received(self.sim.clock.now(), connector_id, profile, status)
        return call_result.SetChargingProfile(status=status)

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        id: int | None = None,  # noqa: A002 - the OCPP field name
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
    ) -> call_result.ClearChargingProfile:
        self._count(Action.clear_charging_profile)
        status = self.sim.profiles.clear(
            profile_id=id,
            connector_id=connector_id,
            purpose=ChargingProfilePurposeType(charging_profile_purpose)
            if charging_profile_purpose
            else None,
            stack_level=stack_level,
        )
        self.sim.apply_limits()
        return call_result.ClearChargingProfile(status=status)

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None
    ) -> call_result.GetCompositeSchedule:
        self._count(Action.get_composite_schedule)
        unit = ChargingRateUnitType(charging_rate_unit) if charging_rate_unit else None
        if connector_id not in (0, *self.sim.connectors) or (
            unit is not None and unit not in self.sim.profiles.limits.allowed_units
        ):
            return call_result.GetCompositeSchedule(status=GetCompositeScheduleStatus.rejected)
        now = self.sim.clock.now().replace(microsecond=0)
        composite = self.sim.profiles.composite(connector_id, now, duration, unit)
        schedule = composite.to_ocpp()
        return call_result.GetCompositeSchedule(
            status=GetCompositeScheduleStatus.accepted,
            connector_id=connector_id,
            schedule_start=schedule["start_schedule"],
            charging_schedule=schedule,
        )

    # ---- transactions ----------------------------------------------------------------------------------

    @on(Action.remote_start_transaction)
    def on_remote_start_transaction(
        self, id_tag: str, connector_id: int | None = None, charging_profile: dict[str, Any] | None = None
    ) -> call_result.RemoteStartTransaction:
        self._count(Action.remote_start_transaction)
        profile = None
        if charging_profile is not None:
            try:
                profile = ChargingProfile.from_ocpp(charging_profile)
            except (KeyError, ValueError, TypeError):
                return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.rejected)
            if profile.purpose != ChargingProfilePurposeType.tx_profile:
                return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.rejected)
        candidates = (
            [self.sim.connectors.get(connector_id)] if connector_id else list(self.sim.connectors.values())
        )
        for connector in candidates:
            if (
                connector is None
                or connector.tx is not None
                or not connector.operative
                or connector.ev is not None
            ):
                continue
            if connector.reservation is not None and connector.reservation.id_tag != id_tag:
                continue
            timeout_s = self.sim.config.get_int("ConnectionTimeOut")
            expiry = self.sim.clock.now() + timedelta(seconds=timeout_s)
            connector.remote_start = RemoteStart(id_tag, expiry, profile)
            self.sim.refresh_status(connector)
            return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.accepted)
        return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.rejected)

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(self, transaction_id: int) -> call_result.RemoteStopTransaction:
        self._count(Action.remote_stop_transaction)
        connector = self.sim.find_transaction(transaction_id)
        if connector is None:
            return call_result.RemoteStopTransaction(status=RemoteStartStopStatus.rejected)
        self.sim.stop_transaction(connector, Reason.remote)
        return call_result.RemoteStopTransaction(status=RemoteStartStopStatus.accepted)

    @on(Action.unlock_connector)
    def on_unlock_connector(self, connector_id: int) -> call_result.UnlockConnector:
        self._count(Action.unlock_connector)
        connector = self.sim.connectors.get(connector_id)
        if connector is None:
            return call_result.UnlockConnector(status=UnlockStatus.not_supported)
        self.sim.stop_transaction(connector, Reason.unlock_command)
        return call_result.UnlockConnector(status=UnlockStatus.unlocked)

    # ---- availability, reset, reservation ---------------------------------------------------------------

    @on(Action.change_availability)
    def on_change_availability(self, connector_id: int, type: str) -> call_result.ChangeAvailability:  # noqa: A002
        self._count(Action.change_availability)
        if connector_id != 0 and connector_id not in self.sim.connectors:
            return call_result.ChangeAvailability(status="Rejected")
        status = self.sim.set_availability(connector_id, type == AvailabilityType.operative)
        return call_result.ChangeAvailability(status=status)

    @on(Action.reset)
    def on_reset(self, type: str) -> call_result.Reset:  # noqa: A002
        self._count(Action.reset)
        return call_result.Reset(status=ResetStatus.accepted)

    @after(Action.reset)
    def after_reset(self, type: str) -> None:  # noqa: A002
        self.sim.spawn(self.sim.reset(type))

    @on(Action.reserve_now)
    def on_reserve_now(
        self,
        connector_id: int,
        expiry_date: str,
        id_tag: str,
        reservation_id: int,
        parent_id_tag: str | None = None,
    ) -> call_result.ReserveNow:
        self._count(Action.reserve_now)
        connector = self.sim.connectors.get(connector_id)
        if connector is None:
            return call_result.ReserveNow(status=ReservationStatus.rejected)
        if not connector.operative:
            return call_result.ReserveNow(status=ReservationStatus.unavailable)
        current = connector.reservation
        if (
            connector.ev is not None
            or connector.tx is not None
            or (current and current.reservation_id != reservation_id)
        ):
            return call_result.ReserveNow(status=ReservationStatus.occupied)
        connector.reservation = Reservation(reservation_id, id_tag, _instant(expiry_date))
        self.sim.refresh_status(connector)
        return call_result.ReserveNow(status=ReservationStatus.accepted)

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int) -> call_result.CancelReservation:
        self._count(Action.cancel_reservation)
        for connector in self.sim.connectors.values():
            if connector.reservation is not None and connector.reservation.reservation_id == reservation_id:
                connector.reservation = None
                self.sim.refresh_status(connector)
                return call_result.CancelReservation(status=CancelReservationStatus.accepted)
        return call_result.CancelReservation(status=CancelReservationStatus.rejected)

    # ---- messages, data, authorisation lists ------------------------------------------------------------

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None
    ) -> call_result.TriggerMessage:
        self._count(Action.trigger_message)
        if connector_id not in (None, 0, *self.sim.connectors):
            return call_result.TriggerMessage(status=TriggerMessageStatus.rejected)
        if requested_message not in TRIGGERABLE:
            return call_result.TriggerMessage(status=TriggerMessageStatus.not_implemented)
        return call_result.TriggerMessage(status=TriggerMessageStatus.accepted)

    @after(Action.trigger_message)
    def after_trigger_message(self, requested_message: str, connector_id: int | None = None) -> None:
        if requested_message in TRIGGERABLE and connector_id in (None, 0, *self.sim.connectors):
            self.sim.spawn(self.sim.trigger(MessageTrigger(requested_message), connector_id))

    @on(Action.data_transfer)
    def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> call_result.DataTransfer:
        self._count(Action.data_transfer)
        if vendor_id != self.sim.spec.vendor:
            return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)
        return call_result.DataTransfer(status=DataTransferStatus.accepted, data=data)

    @on(Action.clear_cache)
    def on_clear_cache(self) -> call_result.ClearCache:
        self._count(Action.clear_cache)
        return call_result.ClearCache(status=ClearCacheStatus.accepted)

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self) -> call_result.GetLocalListVersion:
        self._count(Action.get_local_list_version)
        enabled = self.sim.config.get_bool("LocalAuthListEnabled")
        return call_result.GetLocalListVersion(list_version=self.sim.local_list.version if enabled else -1)

    @on(Action.send_local_list)
    def on_send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
    ) -> call_result.SendLocalList:
        self._count(Action.send_local_list)
        local = self.sim.local_list
        if not self.sim.config.get_bool("LocalAuthListEnabled"):
            return call_result.SendLocalList(status=UpdateStatus.not_supported)
        entries = local_authorization_list or []
        if len(entries) > self.sim.config.get_int("SendLocalListMaxLength"):
            return call_result.SendLocalList(status=UpdateStatus.failed)
        if update_type == "Differential" and list_version <= local.version:
            return call_result.SendLocalList(status=UpdateStatus.version_mismatch)
        tags = {} if update_type == "Full" else dict(local.tags)
        for entry in entries:
            info = entry.get("id_tag_info")
            if info is None:
                tags.pop(entry["id_tag"], None)
            else:
                tags[entry["id_tag"]] = info.get("status", "Accepted")
        local.tags, local.version = tags, list_version
        return call_result.SendLocalList(status=UpdateStatus.accepted)

    # ---- diagnostics and firmware (simulated, nothing is transferred) ----------------------------------

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, location: str, **_: Any) -> call_result.GetDiagnostics:
        self._count(Action.get_diagnostics)
        stamp = self.sim.clock.now().strftime("%Y%m%dT%H%M%SZ")
        return call_result.GetDiagnostics(file_name=f"diagnostics-{self.sim.id}-{stamp}.log")

    @after(Action.get_diagnostics)
    def after_get_diagnostics(self, location: str, **_: Any) -> None:
        self.sim.spawn(self.sim.upload_diagnostics())

    @on(Action.update_firmware)
    def on_update_firmware(self, location: str, retrieve_date: str, **_: Any) -> call_result.UpdateFirmware:
        self._count(Action.update_firmware)
        return call_result.UpdateFirmware()

    @after(Action.update_firmware)
    def after_update_firmware(self, location: str, retrieve_date: str, **_: Any) -> None:
        self.sim.spawn(self.sim.update_firmware(_instant(retrieve_date)))
