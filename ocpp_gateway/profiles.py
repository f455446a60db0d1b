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


MIN_SNAP = 1e-6  # a plan a rounding error below the minimum is at the minimum


def floor_tenth(value: float) -> float:
    """Round down to a multiple of 0.1 (never up): a limit may only be lower than planned."""
    return max(0.0, math.floor(value * 10 + 1e-9) / 10)


def power_to_limit(
    power_kw: float, caps: ChargerCapabilities, min_current_a: float = 0.0, *, raise_to_min: bool = False
) -> float:
    """The limit in the charge point's unit, floored to 0.1: 0, or at least the minimum (a plan at the
    minimum that rounding would put just below it is sent at the minimum; anything else below it is 0, as
    an EV would treat it, or, with `raise_to_min`, the minimum)."""
    exact = power_kw * 1000 if caps.rate_unit == "W" else power_kw * 1000 / (caps.phases * caps.voltage_v)
    limit = floor_tenth(exact)
    minimum = min_limit(caps, min_current_a)
    if 0 < limit < minimum or (raise_to_min and 0 < exact < minimum):
        return minimum if raise_to_min or exact >= minimum * (1 - MIN_SNAP) else 0.0
    return limit


def min_limit(caps: ChargerCapabilities, min_current_a: float) -> float:
    """The minimum charging current in the charge point's unit."""
    return min_current_a if caps.rate_unit == "A" else min_current_a * caps.phases * caps.voltage_v


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
    min_current_a: float = 0.0,
    raise_to_min: bool = False,
) -> dict[str, Any]:
    """An Absolute `TxProfile` whose limit never exceeds the plan in any interval (but with `raise_to_min`,
    where a plan under the minimum is raised to it), and is 0 or at least the minimum charging current in
    every period (stated as `minChargingRate`)."""
    limits = [power_to_limit(p, caps, min_current_a, raise_to_min=raise_to_min) for p in power_kw]
    periods = compress(limits, max(1, caps.max_periods))  # merges at the lower limit: 0 or ≥ minimum still
    schedule_periods = []
    for index, limit in periods:
        period: dict[str, Any] = {"startPeriod": index * interval_min * 60, "limit": floor_tenth(limit)}
        if caps.rate_unit == "A":
            period["numberPhases"] = caps.phases
        schedule_periods.append(period)
    schedule: dict[str, Any] = {
        "duration": len(power_kw) * interval_min * 60,
        "startSchedule": format_timestamp(start, timespec="seconds"),
        "chargingRateUnit": caps.rate_unit,
        "chargingSchedulePeriod": schedule_periods,
    }
    if min_current_a > 0:
        schedule["minChargingRate"] = floor_tenth(min_limit(caps, min_current_a))
    return {
        "chargingProfileId": profile_id,
        "transactionId": transaction_id,
        "stackLevel": min(stack_level, caps.max_stack_level),
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": schedule,
    }


def interval_limits_kw(
    profile: dict[str, Any], n_intervals: int, interval_min: int, caps: ChargerCapabilities
) -> tuple[float, ...]:
    """What a TxProfile made by `tx_profile` allows in each interval, in kW (after rounding and merging)."""
    periods = profile["chargingSchedule"]["chargingSchedulePeriod"]
    step_s = interval_min * 60
    out, k = [], 0
    for t in range(n_intervals):
        while k + 1 < len(periods) and periods[k + 1]["startPeriod"] <= t * step_s:
            k += 1
        period = periods[k]
        out.append(
            limit_to_power_kw(
                period["limit"], caps.rate_unit, period.get("numberPhases", caps.phases), caps.voltage_v
            )
        )
    return tuple(out)
