"""Sites, their groups (feeders) and the charge points in them; the site as a tree."""

from datetime import datetime, time
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, field_validator

from app.api.schemas.common import INT32_MAX, MinCurrent, RowId, Schema, not_null
from app.domain.ocpp import DEFAULT_MIN_CURRENT_A
from app.services.errors import Invalid
from app.services.planning.sites import ALLOWED_INTERVAL_MINUTES, validate_timezone

Kilowatts = Annotated[float, Field(ge=0, allow_inf_nan=False)]


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
    default_duration_minutes: int | None = Field(
        default=None, gt=0, le=INT32_MAX, description="session departure default"
    )
    default_energy_kwh: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    min_current_a: MinCurrent = DEFAULT_MIN_CURRENT_A


class SiteUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    timezone: Annotated[str | None, AfterValidator(_timezone)] = None
    interval_minutes: Annotated[int | None, AfterValidator(_interval)] = None
    grid_connection_limit_kw: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    fallback_limit_kw: Kilowatts | None = None
    safety_margin_kw: Kilowatts | None = None
    default_duration_minutes: int | None = Field(default=None, gt=0, le=INT32_MAX)
    default_energy_kwh: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    min_current_a: MinCurrent | None = None

    _present = field_validator(
        "name", "timezone", "interval_minutes", "grid_connection_limit_kw", "fallback_limit_kw",
        "safety_margin_kw", "min_current_a", mode="before",
    )(not_null)  # fmt: skip


class SiteOut(Schema):
    id: int
    name: str
    timezone: str
    interval_minutes: int
    grid_connection_limit_kw: float
    fallback_limit_kw: float
    safety_margin_kw: float
    default_duration_minutes: int | None
    default_energy_kwh: float | None
    min_current_a: float
    created_at: datetime
    updated_at: datetime


class CapacityStep(BaseModel):
    """From `start` (local time of day at the site) until the next step, cyclic over the day."""

    start: time = Field(examples=["17:00"])
    capacity_kw: Kilowatts


class GroupCreate(BaseModel):
    """A feeder or other capacity group: a constant capacity, a daily profile, or neither (no limit)."""

    name: str = Field(min_length=1, max_length=100)
    parent_id: RowId | None = None
    capacity_kw: Kilowatts | None = None
    capacity_profile: list[CapacityStep] | None = Field(default=None, min_length=1)


class GroupUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    parent_id: RowId | None = None
    capacity_kw: Kilowatts | None = None
    capacity_profile: list[CapacityStep] | None = Field(default=None, min_length=1)


class GroupOut(Schema):
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
    group_id: RowId | None = Field(
        default=None, description="a group of the site; null: directly under the site"
    )


class SiteChargePointOut(BaseModel):
    charge_point_id: str
    site_id: int
    group_id: int | None
    connected: bool


class ConnectorNodeOut(Schema):
    connector_id: int
    phases: int
    nominal_voltage_v: float
    max_current_a: float
    max_kw: float
    status: str | None


class ChargePointNodeOut(Schema):
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
