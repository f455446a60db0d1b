"""A planned power series → the OCPP 1.6 `ChargingProfile` a charge point accepts (§3.13, §7.7)."""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ocpp_gateway.wire import format_timestamp

RateUnit = Literal["A", "W"]
# (limits per interval, most periods) → (start interval, limit) periods, never above a limit in any interval:
# the planning side hands its period compression over to the gateway.
Compress = Callable[[Sequence[float], int], list[tuple[int, float]]]


@dataclass(frozen=True)
class ChargerCapabilities:
    """What a charge point told us in GetConfiguration, and the connector's electrical set-up (its phases
    and nominal voltage, from the connector's settings)."""

    phases: int
    voltage_v: float
    rate_units: tuple[RateUnit, ...] = ("A",)
    max_periods: int = 24
    max_stack_level: int = 8

    @property
    def rate_unit(self) -> RateUnit:
        """Amperes where the charge point takes them (finer per phase), else watts."""
        return "W" if self.rate_units == ("W",) else "A"

    @classmethod
    def from_configuration(
        cls, config: dict[str, str | None], *, phases: int, voltage_v: float
    ) -> "ChargerCapabilities":
        allowed = {
            v.strip() for v in (config.get("ChargingScheduleAllowedChargingRateUnit") or "Current").split(",")
        }
        return cls(
            rate_units=tuple(unit for key, unit in _RATE_UNITS.items() if key in allowed),
            max_periods=_int(config.get("ChargingScheduleMaxPeriods"), 24),
            max_stack_level=_int(config.get("ChargeProfileMaxStackLevel"), 8),
            phases=phases,
            voltage_v=voltage_v,
        )


_RATE_UNITS: dict[str, RateUnit] = {"Current": "A", "Power": "W"}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def floor_tenth(value: float) -> float:
    """Round down to a multiple of 0.1 (never up): a limit may only be lower than planned."""
    return max(0.0, math.floor(value * 10 + 1e-9) / 10)


def power_to_limit(power_kw: float, caps: ChargerCapabilities) -> float:
    if caps.rate_unit == "W":
        return floor_tenth(power_kw * 1000)
    return floor_tenth(power_kw * 1000 / (caps.phases * caps.voltage_v))


def limit_to_power_kw(limit: float, unit: RateUnit, phases: int, voltage_v: float) -> float:
    return limit / 1000 if unit == "W" else limit * phases * voltage_v / 1000


def tx_profile(
    *,
    profile_id: int,
    transaction_id: int,
    start: datetime,
    interval_min: int,
    power_kw: Sequence[float],
    caps: ChargerCapabilities,
    stack_level: int,
    compress: Compress,
) -> dict[str, Any]:
    """An Absolute `TxProfile` whose limit never exceeds the plan in any interval."""
    limits = [power_to_limit(p, caps) for p in power_kw]
    periods = compress(limits, max(1, caps.max_periods))
    schedule_periods = []
    for index, limit in periods:
        period: dict[str, Any] = {"startPeriod": index * interval_min * 60, "limit": floor_tenth(limit)}
        if caps.rate_unit == "A":
            period["numberPhases"] = caps.phases
        schedule_periods.append(period)
    return {
        "chargingProfileId": profile_id,
        "transactionId": transaction_id,
        "stackLevel": min(stack_level, caps.max_stack_level),
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "duration": len(power_kw) * interval_min * 60,
            "startSchedule": format_timestamp(start, timespec="seconds"),
            "chargingRateUnit": caps.rate_unit,
            "chargingSchedulePeriod": schedule_periods,
        },
    }
