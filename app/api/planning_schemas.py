"""Shapes of the planning API (sites, groups, forecasts, overrides, demand), each declared once."""

from datetime import datetime, time
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from app.api.schemas import as_utc
from app.domain.planning import OverrideKind, OverrideScope
from app.services.planning.demand import DemandSource
from app.services.planning.sites import ALLOWED_INTERVAL_MINUTES, Invalid, validate_timezone

__all__ = [
    "CapacityStep",
    "ChargePointAssignment",
    "ChargePointNodeOut",
    "ConnectorNodeOut",
    "DemandOut",
    "DemandSet",
    "EffectiveForecastOut",
    "EffectiveIntervalOut",
    "ForecastDetail",
    "ForecastIn",
    "ForecastIntervalIn",
    "ForecastIntervalOut",
    "ForecastOut",
    "ForecastRef",
    "GroupCreate",
    "GroupNodeOut",
    "GroupOut",
    "GroupUpdate",
    "OverrideAuditOut",
    "OverrideCreate",
    "OverrideOut",
    "OverrideUpdate",
    "ResampledIntervalOut",
    "SiteChargePointOut",
    "SiteCreate",
    "SiteOut",
    "SiteUpdate",
    "TopologyOut",
]

Kilowatts = Annotated[float, Field(ge=0, allow_inf_nan=False)]
AwareUtc = Annotated[AwareDatetime, AfterValidator(as_utc)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return validate_timezone(value)
    except Invalid as exc:
        raise ValueError("not an IANA time zone, e.g. Europe/Amsterdam") from exc


def _interval(value: int | None) -> int | None:
    if value is not None and value not in ALLOWED_INTERVAL_MINUTES:
        raise ValueError(f"must be one of {', '.join(map(str, ALLOWED_INTERVAL_MINUTES))}")
    return value


# --- sites ---------------------------------------------------------------------------------------------


class SiteCreate(BaseModel):
    """A grid connection. Capacity per interval = min(forecast or fallback, grid connection limit) − safety
    margin (kW, absolute), never below 0; intervals are aligned to the UTC epoch."""

    name: str = Field(min_length=1, max_length=100)
    timezone: Annotated[str, AfterValidator(_timezone)] = Field(default="UTC", examples=["Europe/Amsterdam"])
    interval_minutes: Annotated[int, AfterValidator(_interval)] = Field(
        default=15, description="divides 60, or whole hours dividing a day"
    )
    grid_connection_limit_kw: float = Field(gt=0, allow_inf_nan=False)
    fallback_limit_kw: Kilowatts = Field(description="limit where no forecast covers an interval")
    safety_margin_kw: Kilowatts = Field(default=0.0, description="kW kept free below every limit")
    default_duration_minutes: int | None = Field(default=None, gt=0, description="session departure default")
    default_energy_kwh: float | None = Field(default=None, gt=0, allow_inf_nan=False)


class SiteUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    timezone: Annotated[str | None, AfterValidator(_timezone)] = None
    interval_minutes: Annotated[int | None, AfterValidator(_interval)] = None
    grid_connection_limit_kw: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    fallback_limit_kw: Kilowatts | None = None
    safety_margin_kw: Kilowatts | None = None
    default_duration_minutes: int | None = Field(default=None, gt=0)
    default_energy_kwh: float | None = Field(default=None, gt=0, allow_inf_nan=False)

    @field_validator(
        "name", "timezone", "interval_minutes", "grid_connection_limit_kw", "fallback_limit_kw",
        "safety_margin_kw", mode="before",
    )  # fmt: skip
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class SiteOut(_Out):
    id: int
    name: str
    timezone: str
    interval_minutes: int
    grid_connection_limit_kw: float
    fallback_limit_kw: float
    safety_margin_kw: float
    default_duration_minutes: int | None
    default_energy_kwh: float | None
    created_at: datetime
    updated_at: datetime


# --- groups and charge points --------------------------------------------------------------------------


class CapacityStep(BaseModel):
    """From `start` (local time of day at the site) until the next step, cyclic over the day."""

    start: time = Field(examples=["17:00"])
    capacity_kw: Kilowatts


class GroupCreate(BaseModel):
    """A feeder or other capacity group: a constant capacity, a daily profile, or neither (no limit)."""

    name: str = Field(min_length=1, max_length=100)
    parent_id: int | None = None
    capacity_kw: Kilowatts | None = None
    capacity_profile: list[CapacityStep] | None = Field(default=None, min_length=1)


class GroupUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    parent_id: int | None = None
    capacity_kw: Kilowatts | None = None
    capacity_profile: list[CapacityStep] | None = Field(default=None, min_length=1)


class GroupOut(_Out):
    id: int
    site_id: int
    name: str
    parent_id: int | None
    capacity_kw: float | None
    capacity_profile: list[CapacityStep] | None
    charge_point_ids: list[str]
    created_at: datetime
    updated_at: datetime


class ChargePointAssignment(BaseModel):
    group_id: int | None = Field(
        default=None, description="a group of the site; null: directly under the site"
    )


class SiteChargePointOut(BaseModel):
    charge_point_id: str
    site_id: int
    group_id: int | None
    connected: bool


class ConnectorNodeOut(_Out):
    connector_id: int
    phases: int
    nominal_voltage_v: float
    max_current_a: float
    max_kw: float
    status: str | None


class ChargePointNodeOut(_Out):
    id: str
    group_id: int | None
    connected: bool
    connectors: list[ConnectorNodeOut]


class GroupNodeOut(BaseModel):
    id: int
    name: str
    capacity_kw: float | None
    capacity_profile: list[CapacityStep] | None
    groups: list["GroupNodeOut"]
    charge_points: list[ChargePointNodeOut]


class TopologyOut(BaseModel):
    """The site as a tree: groups nest; charge points sit in a group or directly under the site."""

    site: SiteOut
    groups: list[GroupNodeOut]
    charge_points: list[ChargePointNodeOut]


# --- forecasts -----------------------------------------------------------------------------------------


class ForecastIntervalIn(BaseModel):
    start: datetime = Field(description="ISO 8601 with an offset")
    end: datetime
    limit_kw: float = Field(ge=0)


class ForecastIn(BaseModel):
    """A forecast; a bare JSON list of intervals or `text/csv` (columns start,end,limit_kw) also work."""

    forecast_id: str | None = Field(default=None, max_length=100, description="idempotency key")
    issued_at: datetime | None = Field(default=None, description="idempotency key without forecast_id")
    intervals: list[ForecastIntervalIn]


class ForecastOut(_Out):
    id: int
    site_id: int
    forecast_id: str | None
    issued_at: datetime
    source: str = Field(description="json or csv")
    author: str | None
    created_at: datetime
    starts_at: datetime
    ends_at: datetime
    interval_count: int


class ForecastIntervalOut(_Out):
    start: datetime
    end: datetime
    limit_kw: float


class ResampledIntervalOut(BaseModel):
    start: datetime
    end: datetime
    limit_kw: float = Field(description="minimum of the posted rows overlapping the interval")
    covered: float = Field(description="fraction of the interval the forecast covers")


class ForecastDetail(ForecastOut):
    interval_minutes: int
    intervals: list[ForecastIntervalOut] = Field(description="as posted")
    resampled: list[ResampledIntervalOut] = Field(description="on the site's interval grid")


class ForecastRef(BaseModel):
    id: int
    forecast_id: str | None
    issued_at: datetime


class EffectiveIntervalOut(BaseModel):
    start: datetime
    end: datetime
    limit_kw: float = Field(description="forecast (or fallback) limit for the interval")
    capacity_kw: float = Field(description="what may be planned: min(limit, grid limit) − margin")
    source: str = Field(description="forecast or fallback")
    forecast: ForecastRef | None
    lowered_by: list[int] = Field(description="more recent forecasts covering part of it, lowering it")


class EffectiveForecastOut(BaseModel):
    site_id: int
    interval_minutes: int
    grid_connection_limit_kw: float
    fallback_limit_kw: float
    safety_margin_kw: float
    intervals: list[EffectiveIntervalOut]


# --- overrides -----------------------------------------------------------------------------------------


class OverrideCreate(BaseModel):
    """Scope target: `site_id`, `group_id`, `charge_point_id` (+ `connector_id`) or `transaction_id`."""

    scope: OverrideScope
    kind: OverrideKind
    value: float | None = Field(
        default=None, allow_inf_nan=False, description="kW (cap_kw, fixed_kw) or priority; none for pause"
    )
    site_id: int | None = None
    group_id: int | None = None
    charge_point_id: str | None = Field(default=None, max_length=48)
    connector_id: int | None = None
    transaction_id: int | None = None
    valid_from: AwareUtc | None = Field(default=None, description="default: now")
    valid_until: AwareUtc | None = Field(default=None, description="null: until deleted")
    reason: str = Field(min_length=1, max_length=500)


class OverrideUpdate(BaseModel):
    """Change the value, end the override earlier or later (null: open-ended), or correct the reason."""

    value: float | None = Field(default=None, allow_inf_nan=False)
    valid_until: AwareUtc | None = None
    reason: str | None = Field(default=None, min_length=1, max_length=500)

    @field_validator("reason", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class OverrideOut(_Out):
    id: int
    scope: OverrideScope
    kind: OverrideKind
    value: float | None
    site_id: int | None
    group_id: int | None
    charge_point_id: str | None
    connector_id: int | None
    transaction_id: int | None
    valid_from: datetime
    valid_until: datetime | None
    reason: str
    author: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    deleted_by: str | None
    status: str = Field(description="scheduled, active, expired or deleted (now)")


class OverrideAuditOut(_Out):
    id: int
    override_id: int
    action: str
    author: str | None
    at: datetime
    snapshot: dict[str, Any]


# --- session demand ------------------------------------------------------------------------------------


class DemandSet(BaseModel):
    """Replace the demand set for a transaction; a field left out falls back to the defaults."""

    departure: AwareUtc | None = None
    energy_kwh: float | None = Field(default=None, gt=0, allow_inf_nan=False)


class DemandOut(_Out):
    transaction_id: int
    charge_point_id: str
    connector_id: int
    site_id: int | None
    id_tag: str
    started_at: datetime
    departure: datetime | None
    departure_source: DemandSource
    energy_kwh: float | None
    energy_source: DemandSource
    history_sessions: int = Field(description="completed sessions of the tag the estimate looked at")
    set_by: str | None
    set_at: datetime | None
