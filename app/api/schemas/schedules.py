"""Shapes of the schedule API (revisions, entries, a transaction's plan and profile, site load)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.api.schemas.common import Schema


class RevisionOut(Schema):
    """One plan of a site: why it was made, how the optimiser did, and site-level series per interval."""

    id: int
    site_id: int
    created_at: datetime
    trigger: str
    status: str = Field(description="optimal, feasible, feasible_relaxed, heuristic, fallback or infeasible")
    strategy: str
    solve_seconds: float
    start: datetime
    interval_minutes: int
    n_intervals: int
    capacity_kw: list[float] = Field(description="what the plan could use per interval")
    planned_kw: list[float] = Field(description="the plan's total per interval")
    binding: list[str] = Field(
        description="the constraint that binds per interval: site, group:<id>, sessions, none"
    )
    shadow_price: list[float] = Field(
        description="value of one more kW of site capacity per interval (LP dual)"
    )
    relaxations: list[dict[str, Any]]
    messages: list[str]


class EntryOut(Schema):
    transaction_id: int
    charge_point_id: str
    connector_id: int
    power_kw: list[float]
    max_kw: float
    energy_kwh: float = Field(description="energy still wanted when planned")
    delivered_kwh: float = Field(description="energy the plan delivers")
    unmet_kwh: float
    departure: datetime
    demand_source: str = Field(description="where energy and departure came from: api, site_default, …")
    assumption: str = Field(
        description="planned; or offline (assumed at the limits it holds) / non_compliant (at its maximum)"
    )


class ScheduleOut(BaseModel):
    revision: RevisionOut
    entries: list[EntryOut]


class DispatchOut(Schema):
    id: int
    revision_id: int | None
    purpose: str
    status: str = Field(description="accepted, rejected, timeout, error or not_sent")
    reason: str | None
    attempt: int
    command_id: int | None
    profile: dict[str, Any] | None = Field(description="the ChargingProfile as sent (OCPP camelCase)")
    verified: bool | None = Field(
        description="read back with GetCompositeSchedule: true when not above the plan"
    )
    verify_detail: str | None
    created_at: datetime


class ComplianceOut(Schema):
    """A transaction found drawing over the limits it accepted, or keeping to them again."""

    id: int
    transaction_id: int
    site_id: int | None
    charge_point_id: str
    connector_id: int
    non_compliant: bool = Field(description="true: over its limits from `at` on; false: compliant again")
    reason: str = Field(description="over_draw, or charge point reset (judged afresh after a reconnect)")
    limit_kw: float = Field(description="the limit in force at the sample that settled it")
    measured_kw: float = Field(description="what it drew then")
    at: datetime = Field(description="the sample that settled it")
    created_at: datetime


class TransactionScheduleOut(BaseModel):
    revision: RevisionOut
    entry: EntryOut
    profile: DispatchOut | None
    compliance: ComplianceOut | None = Field(
        description="its latest compliance event: non-compliant now when `non_compliant` is true"
    )


class LoadIntervalOut(BaseModel):
    start: datetime
    end: datetime
    limit_kw: float = Field(description="forecast limit (or the site's fallback)")
    capacity_kw: float = Field(description="what may be planned: grid-capped, less the safety margin")
    planned_kw: float | None
    measured_kw: float | None


class ReplanOut(BaseModel):
    revision_id: int
