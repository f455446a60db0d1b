"""Schedules → charging profiles on the wire: checked against the charge point's capabilities, sent with
SetChargingProfile through the command service, and read back with GetCompositeSchedule."""

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from app.domain.persistence import Store
from app.domain.ports import (
    ChargePointCommands,
    Clock,
    CommandOutcome,
    CommandRefused,
    DispatchResult,
    TxSchedule,
)
from app.services.errors import Unavailable
from app.services.ocpp import charge_points
from ocpp_gateway.profiles import (
    ChargerCapabilities,
    Compress,
    floor_tenth,
    interval_limits_kw,
    limit_to_power_kw,
    min_limit,
    power_to_limit,
    tx_profile,
)
from ocpp_gateway.wire import format_timestamp, parse_timestamp

log = logging.getLogger(__name__)

AUTHOR = "scheduler"
DEFAULT_PROFILE_ID = 1  # the TxDefaultProfile at connector 0
TX_PROFILE_ID_OFFSET = 1_000_000  # chargingProfileId = offset + transactionId: stable per transaction
TX_STACK_LEVEL = 1
DEFAULT_STACK_LEVEL = 0
VERIFY_TOLERANCE_KW = 0.05


def tx_profile_id(transaction_id: int) -> int:
    return TX_PROFILE_ID_OFFSET + transaction_id


class ProfileDispatcher:
    """The `ProfileSender` port over OCPP 1.6."""

    def __init__(
        self,
        commands: ChargePointCommands,
        store: Store,
        clock: Clock,
        *,
        compress: Compress,
        verify: bool = True,
    ) -> None:
        self._commands = commands
        self._store = store
        self._clock = clock
        self._compress = compress
        self._verify = verify

    def is_connected(self, charge_point_id: str) -> bool:
        return self._commands.is_connected(charge_point_id)

    async def _capabilities(
        self, charge_point_id: str, phases: int, voltage_v: float
    ) -> tuple[ChargerCapabilities, str | None]:
        """The charge point's capabilities, and why it cannot take a profile (None when it can)."""
        config = await charge_points.configuration_of(self._store, charge_point_id)
        caps = ChargerCapabilities.from_configuration(config, phases=phases, voltage_v=voltage_v)
        features = config.get("SupportedFeatureProfiles")
        if features is not None and "SmartCharging" not in features:
            return caps, "SupportedFeatureProfiles lacks SmartCharging"
        if config.get("MaxChargingProfilesInstalled") == "0":
            return caps, "MaxChargingProfilesInstalled is 0"
        if not caps.rate_units:
            unit = config.get("ChargingScheduleAllowedChargingRateUnit")
            return caps, f"ChargingScheduleAllowedChargingRateUnit {unit!r} names neither Current nor Power"
        return caps, None

    async def _call(
        self, charge_point_id: str, action: str, payload: dict[str, Any]
    ) -> tuple[int, CommandOutcome] | str:
        """Send and wait; the command's id and outcome, or why it was not sent."""
        try:
            return await self._commands.call(charge_point_id, action, payload, author=AUTHOR)
        except CommandRefused as refused:
            return f"{refused.reason}: {refused.detail}"
        except Unavailable as unavailable:  # the route to the charge point's gateway (scale-out)
            return f"unavailable: {unavailable.detail}"

    async def send_tx_profile(self, schedule: TxSchedule) -> DispatchResult:
        """Check and send one TxProfile (`verify_tx_profile` reads it back)."""
        caps, unsupported = await self._capabilities(
            schedule.charge_point_id, schedule.phases, schedule.voltage_v
        )
        if unsupported:
            return DispatchResult("not_sent", reason=unsupported)
        profile = tx_profile(
            profile_id=tx_profile_id(schedule.transaction_id),
            transaction_id=schedule.transaction_id,
            start=schedule.start,
            interval_min=schedule.interval_min,
            power_kw=schedule.power_kw,
            caps=caps,
            stack_level=TX_STACK_LEVEL,
            compress=self._compress,
            min_current_a=schedule.min_current_a,
            raise_to_min=schedule.raise_to_min,
        )
        payload = {"connectorId": schedule.connector_id, "csChargingProfiles": profile}
        called = await self._call(schedule.charge_point_id, "SetChargingProfile", payload)
        if isinstance(called, str):
            return DispatchResult("not_sent", profile=profile, reason=called)
        command_id, outcome = called
        return DispatchResult(
            outcome.status,
            profile=profile,
            command_id=command_id,
            reason=outcome.error_description or (outcome.response or {}).get("status"),
            limits_kw=interval_limits_kw(profile, len(schedule.power_kw), schedule.interval_min, caps),
        )

    async def verify_tx_profile(self, schedule: TxSchedule, result: DispatchResult) -> DispatchResult:
        """Read an accepted profile back with GetCompositeSchedule (when enabled), with the finding."""
        if result.status != "accepted" or result.profile is None or not self._verify:
            return result
        caps, _ = await self._capabilities(schedule.charge_point_id, schedule.phases, schedule.voltage_v)
        verified, detail = await self._read_back(schedule, caps, result.profile)
        return replace(result, verified=verified, verify_detail=detail)

    async def _read_back(
        self, schedule: TxSchedule, caps: ChargerCapabilities, profile: dict[str, Any]
    ) -> tuple[bool | None, str | None]:
        """Ask for the composite schedule and check that nothing in it is above what we sent."""
        now = self._clock.now()
        end = schedule.start + timedelta(minutes=schedule.interval_min * len(schedule.power_kw))
        duration_s = int(min((end - now).total_seconds(), 86400))
        if duration_s <= 0:
            return None, "schedule already over"
        payload = {
            "connectorId": schedule.connector_id,
            "duration": duration_s,
            "chargingRateUnit": caps.rate_unit,
        }
        called = await self._call(schedule.charge_point_id, "GetCompositeSchedule", payload)
        if isinstance(called, str):
            return None, f"composite schedule unavailable ({called})"
        _, outcome = called
        if outcome.status != "accepted" or not outcome.response:
            return None, f"composite schedule unavailable ({outcome.status})"
        composite = outcome.response.get("chargingSchedule")
        if not composite:
            return None, "composite schedule empty"
        start_text = outcome.response.get("scheduleStart") or composite.get("startSchedule")
        composite_start = parse_timestamp(start_text) if start_text else now
        sent = _series(profile["chargingSchedule"], schedule.start, caps)
        got = _series(composite, composite_start, caps)
        horizon = composite_start + timedelta(seconds=composite.get("duration") or duration_s)
        for at in sorted({t for t, _ in sent + got if composite_start <= t < horizon} | {composite_start}):
            got_kw, planned_kw = _value_at(got, at), _value_at(sent, at)
            if got_kw is not None and planned_kw is not None and got_kw > planned_kw + VERIFY_TOLERANCE_KW:
                return False, f"composite {got_kw:.2f} kW above sent {planned_kw:.2f} kW at {at.isoformat()}"
        return True, None

    async def send_default_profile(
        self, charge_point_id: str, limit_kw: float, *, phases: int, voltage_v: float, min_current_a: float
    ) -> DispatchResult:
        caps, unsupported = await self._capabilities(charge_point_id, phases, voltage_v)
        if unsupported:
            return DispatchResult("not_sent", reason=unsupported)
        period: dict[str, Any] = {"startPeriod": 0, "limit": power_to_limit(limit_kw, caps, min_current_a)}
        if caps.rate_unit == "A":
            period["numberPhases"] = phases
        start = self._clock.now().replace(second=0, microsecond=0)
        schedule: dict[str, Any] = {
            "startSchedule": format_timestamp(start, timespec="seconds"),
            "chargingRateUnit": caps.rate_unit,
            "chargingSchedulePeriod": [period],
        }
        if min_current_a > 0:
            schedule["minChargingRate"] = floor_tenth(min_limit(caps, min_current_a))
        profile = {
            "chargingProfileId": DEFAULT_PROFILE_ID,
            "stackLevel": DEFAULT_STACK_LEVEL,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": schedule,
        }
        payload = {"connectorId": 0, "csChargingProfiles": profile}
        called = await self._call(charge_point_id, "SetChargingProfile", payload)
        if isinstance(called, str):
            return DispatchResult("not_sent", profile=profile, reason=called)
        command_id, outcome = called
        return DispatchResult(
            outcome.status, profile=profile, command_id=command_id, reason=outcome.error_description
        )

    async def request_meter_values(self, charge_point_id: str, connector_id: int) -> bool:
        payload = {"requestedMessage": "MeterValues", "connectorId": connector_id}
        called = await self._call(charge_point_id, "TriggerMessage", payload)
        return not isinstance(called, str) and called[1].status == "accepted"


def _series(
    schedule: dict[str, Any], start: datetime, caps: ChargerCapabilities
) -> list[tuple[datetime, float]]:
    unit = schedule.get("chargingRateUnit", caps.rate_unit)
    if "startSchedule" in schedule and schedule["startSchedule"]:
        start = parse_timestamp(schedule["startSchedule"])
    return [
        (
            start + timedelta(seconds=p["startPeriod"]),
            limit_to_power_kw(p["limit"], unit, p.get("numberPhases", caps.phases), caps.voltage_v),
        )
        for p in schedule.get("chargingSchedulePeriod", [])
    ]


def _value_at(series: list[tuple[datetime, float]], at: datetime) -> float | None:
    value = None
    for start, kw in series:
        if start <= at:
            value = kw
    return value
