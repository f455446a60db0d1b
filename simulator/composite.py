"""The composite charging schedule as an OCPP 1.6 charge point computes it (spec §3.13).

Pure functions over parsed charging profiles. Limits are compared as power (W); a current limit (A, per
phase) becomes power with its period's `numberPhases` (3 when absent) and the nominal voltage, and a power
limit keeps the phase count it was given for, so that it can be turned back into a per-phase current.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.v16.enums import (
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingRateUnitType,
    RecurrencyKind,
)

DEFAULT_PHASES = 3
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class SchedulePeriod:
    start_period_s: int
    limit: float
    number_phases: int | None = None


@dataclass(frozen=True)
class ChargingSchedule:
    unit: ChargingRateUnitType
    periods: tuple[SchedulePeriod, ...]
    start_schedule: datetime | None = None
    duration_s: int | None = None
    min_charging_rate: float | None = None


@dataclass(frozen=True)
class ChargingProfile:
    """One `csChargingProfiles` as received, with instants parsed to aware `datetime`."""

    id: int
    stack_level: int
    purpose: ChargingProfilePurposeType
    kind: ChargingProfileKindType
    schedule: ChargingSchedule
    recurrency_kind: RecurrencyKind | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: int | None = None

    @classmethod
    def from_ocpp(cls, data: Mapping[str, Any]) -> "ChargingProfile":
        """Parse the snake_case dict the `ocpp` package hands to an `@on` handler."""
        sched = data["charging_schedule"]
        periods = tuple(
            SchedulePeriod(int(p["start_period"]), float(p["limit"]), p.get("number_phases"))
            for p in sched["charging_schedule_period"]
        )
        schedule = ChargingSchedule(
            unit=ChargingRateUnitType(sched["charging_rate_unit"]),
            periods=tuple(sorted(periods, key=lambda p: p.start_period_s)),
            start_schedule=_instant(sched.get("start_schedule")),
            duration_s=sched.get("duration"),
            min_charging_rate=_number(sched.get("min_charging_rate")),
        )
        recurrency = data.get("recurrency_kind")
        return cls(
            id=int(data["charging_profile_id"]),
            stack_level=int(data["stack_level"]),
            purpose=ChargingProfilePurposeType(data["charging_profile_purpose"]),
            kind=ChargingProfileKindType(data["charging_profile_kind"]),
            schedule=schedule,
            recurrency_kind=RecurrencyKind(recurrency) if recurrency else None,
            valid_from=_instant(data.get("valid_from")),
            valid_to=_instant(data.get("valid_to")),
            transaction_id=data.get("transaction_id"),
        )


@dataclass(frozen=True)
class InstalledProfile:
    connector_id: int
    profile: ChargingProfile
    installed_at: datetime


@dataclass(frozen=True)
class Transaction:
    """The transaction running on a connector, as far as profiles care."""

    transaction_id: int | None
    start: datetime


@dataclass(frozen=True)
class Limit:
    """A limit as power, with the phase count it applies to (per-phase current = power / (V × phases))."""

    power_w: float
    phases: int = DEFAULT_PHASES

    def current_a(self, voltage_v: float) -> float:
        return self.power_w / (voltage_v * self.phases)

    @classmethod
    def of(cls, value: float, unit: ChargingRateUnitType, phases: int | None, voltage_v: float) -> "Limit":
        n = phases or DEFAULT_PHASES
        if unit == ChargingRateUnitType.amps:
            return cls(value * voltage_v * n, n)
        return cls(value, n)


@dataclass(frozen=True)
class CompositePeriod:
    start_period_s: int
    limit: float
    number_phases: int


@dataclass(frozen=True)
class CompositeSchedule:
    connector_id: int
    start: datetime
    duration_s: int
    unit: ChargingRateUnitType
    periods: tuple[CompositePeriod, ...]
    min_charging_rate: float | None = None

    def to_ocpp(self) -> dict[str, Any]:
        """The `chargingSchedule` of a GetCompositeSchedule.conf, snake_case as the `ocpp` package wants."""
        schedule: dict[str, Any] = {
            "charging_rate_unit": self.unit.value,
            "duration": self.duration_s,
            "start_schedule": self.start.isoformat().replace("+00:00", "Z"),
            "charging_schedule_period": [
                {"start_period": p.start_period_s, "limit": p.limit, "number_phases": p.number_phases}
                for p in self.periods
            ],
        }
        if self.min_charging_rate is not None:
            schedule["min_charging_rate"] = self.min_charging_rate
        return schedule


@dataclass(frozen=True)
class Electrical:
    """What the charge point is physically capable of: the ceiling when no profile limits it."""

    voltage_v: float = 230.0
    max_current_a: float = 32.0
    phases: int = 3
    connectors: int = 1

    @property
    def connector_max(self) -> Limit:
        return Limit(self.max_current_a * self.voltage_v * self.phases, self.phases)


def schedule_start(
    installed: InstalledProfile, at: datetime, transaction: Transaction | None
) -> datetime | None:
    """Start of the schedule instance that governs `at`, or None when the profile has no start then."""
    profile = installed.profile
    if profile.kind == ChargingProfileKindType.relative:
        if profile.purpose == ChargingProfilePurposeType.charge_point_max_profile:
            return installed.installed_at
        return transaction.start if transaction is not None else None
    start = profile.schedule.start_schedule or installed.installed_at
    if profile.kind == ChargingProfileKindType.recurring:
        period = WEEK if profile.recurrency_kind == RecurrencyKind.weekly else DAY
        if at < start:
            return None
        return start + period * math.floor((at - start) / period)
    return start


def profile_limit(
    installed: InstalledProfile, at: datetime, transaction: Transaction | None, voltage_v: float
) -> Limit | None:
    """The limit one profile imposes at `at`, or None when it does not apply then (validity, window, gap)."""
    profile = installed.profile
    if profile.valid_from is not None and at < profile.valid_from:
        return None
    if profile.valid_to is not None and at >= profile.valid_to:
        return None
    start = schedule_start(installed, at, transaction)
    if start is None or at < start:
        return None
    offset_s = (at - start).total_seconds()
    schedule = profile.schedule
    if schedule.duration_s is not None and offset_s >= schedule.duration_s:
        return None
    if profile.kind == ChargingProfileKindType.recurring:
        period_s = (WEEK if profile.recurrency_kind == RecurrencyKind.weekly else DAY).total_seconds()
        if offset_s >= period_s:
            return None
    current = None
    for period in schedule.periods:
        if period.start_period_s <= offset_s:
            current = period
        else:
            break
    if current is None:
        return None
    return Limit.of(current.limit, schedule.unit, current.number_phases, voltage_v)


def _applies(installed: InstalledProfile, connector_id: int, transaction: Transaction | None) -> bool:
    profile = installed.profile
    if profile.purpose == ChargingProfilePurposeType.charge_point_max_profile:
        return installed.connector_id == 0
    if installed.connector_id not in (0, connector_id) or connector_id == 0:
        return False
    if profile.purpose == ChargingProfilePurposeType.tx_profile:
        if transaction is None:
            return False
        return (
            profile.transaction_id in (None, transaction.transaction_id) or transaction.transaction_id is None
        )
    return True


def _purpose_limit(
    candidates: list[InstalledProfile], at: datetime, transaction: Transaction | None, voltage_v: float
) -> tuple[Limit, InstalledProfile] | None:
    """Highest stack level with a limit at `at`; connector-specific profiles shadow connector 0."""
    specific = [c for c in candidates if c.connector_id != 0]
    general = [c for c in candidates if c.connector_id == 0]
    for group in (specific, general):
        for installed in sorted(group, key=lambda c: -c.profile.stack_level):
            limit = profile_limit(installed, at, transaction, voltage_v)
            if limit is not None:
                return limit, installed
    return None


def limit_at(
    profiles: Iterable[InstalledProfile],
    connector_id: int,
    at: datetime,
    transaction: Transaction | None,
    electrical: Electrical,
) -> Limit:
    """The composite limit at one instant for a connector (connector 0: the charge point as a whole).

    TxProfile overrides TxDefaultProfile; ChargePointMaxProfile caps the result; nothing installed means the
    connector's hardware maximum.
    """
    limit, _ = _limit_and_source(list(profiles), connector_id, at, transaction, electrical)
    return limit


def _limit_and_source(
    profiles: list[InstalledProfile],
    connector_id: int,
    at: datetime,
    transaction: Transaction | None,
    electrical: Electrical,
) -> tuple[Limit, InstalledProfile | None]:
    by_purpose: dict[ChargingProfilePurposeType, list[InstalledProfile]] = {
        p: [] for p in ChargingProfilePurposeType
    }
    for installed in profiles:
        if _applies(installed, connector_id, transaction):
            by_purpose[installed.profile.purpose].append(installed)
    v = electrical.voltage_v
    ceiling = (
        Limit(electrical.connector_max.power_w * electrical.connectors, electrical.phases)
        if connector_id == 0
        else electrical.connector_max
    )
    limit, source = ceiling, None
    if connector_id != 0:
        tx = _purpose_limit(by_purpose[ChargingProfilePurposeType.tx_profile], at, transaction, v)
        if tx is None:
            tx = _purpose_limit(by_purpose[ChargingProfilePurposeType.tx_default_profile], at, transaction, v)
        if tx is not None and tx[0].power_w < limit.power_w:
            limit, source = tx
    cp_max = _purpose_limit(
        by_purpose[ChargingProfilePurposeType.charge_point_max_profile], at, transaction, v
    )
    if cp_max is not None and cp_max[0].power_w < limit.power_w:
        limit, source = cp_max
    return limit, source


def _breakpoints(
    profiles: list[InstalledProfile], start: datetime, end: datetime, transaction: Transaction | None
) -> list[datetime]:
    points = {start}

    def add(moment: datetime | None) -> None:
        if moment is not None and start < moment < end:
            points.add(moment)

    for installed in profiles:
        profile = installed.profile
        add(profile.valid_from)
        add(profile.valid_to)
        instance = schedule_start(installed, start, transaction)
        if profile.kind == ChargingProfileKindType.recurring:
            period = WEEK if profile.recurrency_kind == RecurrencyKind.weekly else DAY
            first = profile.schedule.start_schedule or installed.installed_at
            instance = instance if instance is not None else first
            instances = []
            while instance < end:
                instances.append(instance)
                instance += period
        else:
            instances = [instance] if instance is not None else []
        for begin in instances:
            add(begin)
            for period_ in profile.schedule.periods:
                add(begin + timedelta(seconds=period_.start_period_s))
            if profile.schedule.duration_s is not None:
                add(begin + timedelta(seconds=profile.schedule.duration_s))
    return sorted(points)


def next_change(
    profiles: Iterable[InstalledProfile],
    after: datetime,
    until: datetime,
    transaction: Transaction | None,
) -> datetime | None:
    """The first instant in (after, until] when a period, a schedule or a validity bound begins or ends."""
    points = _breakpoints(list(profiles), after, until + timedelta(microseconds=1), transaction)
    return next((p for p in points if after < p <= until), None)


def composite_schedule(
    profiles: Iterable[InstalledProfile],
    connector_id: int,
    start: datetime,
    duration_s: int,
    transaction: Transaction | None,
    electrical: Electrical,
    unit: ChargingRateUnitType | None = None,
) -> CompositeSchedule:
    """The GetCompositeSchedule answer for `duration_s` seconds from `start`, in `unit` (default amperes).

    Equal consecutive periods are merged; limits are rounded down to 0.1.
    """
    installed = list(profiles)
    out_unit = unit or ChargingRateUnitType.amps
    end = start + timedelta(seconds=duration_s)
    periods: list[CompositePeriod] = []
    min_rate: float | None = None
    for moment in _breakpoints(installed, start, end, transaction):
        limit, source = _limit_and_source(installed, connector_id, moment, transaction, electrical)
        if moment == start and source is not None and source.profile.schedule.min_charging_rate is not None:
            sched = source.profile.schedule
            assert sched.min_charging_rate is not None
            min_limit = Limit.of(sched.min_charging_rate, sched.unit, limit.phases, electrical.voltage_v)
            min_rate = _in_unit(min_limit, out_unit, electrical.voltage_v)
        value = _in_unit(limit, out_unit, electrical.voltage_v)
        offset = round((moment - start).total_seconds())
        if periods and periods[-1].limit == value and periods[-1].number_phases == limit.phases:
            continue
        periods.append(CompositePeriod(offset, value, limit.phases))
    return CompositeSchedule(connector_id, start, duration_s, out_unit, tuple(periods), min_rate)


def _in_unit(limit: Limit, unit: ChargingRateUnitType, voltage_v: float) -> float:
    value = limit.current_a(voltage_v) if unit == ChargingRateUnitType.amps else limit.power_w
    return math.floor(value * 10 + 1e-6) / 10


def _number(value: Any) -> float | None:
    """A JSON number as the `ocpp` package hands it over (a `Decimal` where it has a fraction part)."""
    return None if value is None else float(value)


def _instant(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
