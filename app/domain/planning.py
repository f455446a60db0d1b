"""Entities of smart charging: sites and their groups, forecasts, overrides, session demand, schedules.

Plain dataclasses mapped onto tables by `app.db`. Timestamps are UTC and timezone-aware.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from app.domain.clock import utcnow
from app.domain.ocpp import DEFAULT_MIN_CURRENT_A


@dataclass(eq=False, kw_only=True)
class Site:
    """A grid connection: its limits, planning interval and session defaults.

    Capacity per interval = min(forecast or `fallback_limit_kw`, `grid_connection_limit_kw`)
    − `safety_margin_kw`, never below 0. Intervals are aligned to the UTC epoch.
    """

    id: int | None = None
    name: str
    timezone: str
    interval_minutes: int = 15
    grid_connection_limit_kw: float
    fallback_limit_kw: float
    safety_margin_kw: float = 0.0
    default_duration_minutes: int | None = None
    default_energy_kwh: float | None = None
    min_current_a: float = DEFAULT_MIN_CURRENT_A  # per phase: below it an EV does not charge (IEC 61851)
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)


@dataclass(eq=False, kw_only=True)
class SiteGroup:
    """A feeder or any other capacity group; groups form a tree per site (`parent_id`).

    Capacity is a constant (`capacity_kw`), a daily step profile in the site's local time
    (`capacity_profile`: `[{"start": "HH:MM", "capacity_kw": float}, …]`, cyclic), or neither (no limit).
    """

    id: int | None = None
    site_id: int
    parent_id: int | None = None
    name: str
    capacity_kw: float | None = None
    capacity_profile: list[dict[str, Any]] | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)


@dataclass(eq=False, kw_only=True)
class Forecast:
    """A capacity forecast as a grid operator posted it; its rows are `ForecastInterval`s.

    Idempotency key: (`site_id`, `forecast_id`) when the poster names it, else (`site_id`, `issued_at`);
    `body_sha256` tells a replay from a different forecast under the same key.
    """

    id: int | None = None
    site_id: int
    forecast_id: str | None = None
    issued_at: datetime
    source: str
    author: str | None = None
    author_key_id: int | None = None
    body_sha256: str
    starts_at: datetime
    ends_at: datetime
    interval_count: int
    created_at: datetime = field(default_factory=utcnow)


@dataclass(eq=False, kw_only=True)
class ForecastInterval:
    """One row of a forecast exactly as posted (any resolution); resampled when read."""

    id: int | None = None
    forecast_pk: int
    site_id: int
    row: int
    start: datetime
    end: datetime
    limit_kw: float


class OverrideScope(StrEnum):
    site = "site"
    group = "group"
    charge_point = "charge_point"
    connector = "connector"
    transaction = "transaction"


class OverrideKind(StrEnum):
    cap_kw = "cap_kw"
    fixed_kw = "fixed_kw"
    pause = "pause"
    priority = "priority"


@dataclass(eq=False, kw_only=True)
class Override:
    """An operator"s override. In force while `valid_from <= t < valid_until` (open-ended when null)
    and not deleted; expiry is a query on time, never a cleanup job.

    The scope target is one of `site_id`, `group_id`, `charge_point_id` (+ `connector_id`), `transaction_id`
    according to `scope`; `site_id` (when assigned) and `charge_point_id` (for a transaction) are also
    filled, as they were at creation, so that listeners and filters find them.
    """

    id: int | None = None
    scope: str
    site_id: int | None = None
    group_id: int | None = None
    charge_point_id: str | None = None
    connector_id: int | None = None
    transaction_id: int | None = None
    kind: str
    value: float | None = None
    valid_from: datetime
    valid_until: datetime | None = None
    reason: str
    author: str | None = None
    author_key_id: int | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    deleted_at: datetime | None = None
    deleted_by: str | None = None


@dataclass(eq=False, kw_only=True)
class OverrideAudit:
    """Every change to an override: the action, who, when, and the override"s state after it."""

    id: int | None = None
    override_id: int
    action: str
    author: str | None = None
    author_key_id: int | None = None
    at: datetime = field(default_factory=utcnow)
    snapshot: dict[str, Any]


@dataclass(eq=False, kw_only=True)
class SessionDemand:
    """Departure and energy demand of a transaction as set through the API (driver app or operator)."""

    transaction_id: int
    departure: datetime | None = None
    energy_kwh: float | None = None
    min_current_a: float | None = None  # per phase, for this session only
    source: str = "api"
    author: str | None = None
    author_key_id: int | None = None
    updated_at: datetime = field(default_factory=utcnow)


@dataclass(eq=False, kw_only=True)
class ScheduleRevision:
    """One plan of one site: why it was made, how the optimiser did, and the site-level series."""

    id: int | None = None
    site_id: int
    created_at: datetime = field(default_factory=utcnow)
    trigger: str
    status: str
    strategy: str
    solve_seconds: float
    start: datetime
    interval_minutes: int
    n_intervals: int
    capacity_kw: list[float]
    planned_kw: list[float]
    binding: list[str]
    shadow_price: list[float]
    relaxations: list[dict[str, Any]]
    messages: list[str]
    planned_by: str | None = None  # the scheduler process of a scale-out layout (None: role `all`)


@dataclass(eq=False, kw_only=True)
class ScheduleEntry:
    """The plan of one transaction in a revision; `assumption` says whether it was planned or assumed."""

    id: int | None = None
    revision_id: int
    transaction_id: int
    charge_point_id: str
    connector_id: int
    power_kw: list[float]
    max_kw: float
    energy_kwh: float
    delivered_kwh: float
    unmet_kwh: float
    departure: datetime
    demand_source: str
    assumption: str


@dataclass(eq=False, kw_only=True)
class ComplianceEvent:
    """A transaction found drawing over the limits it accepted (`non_compliant`), or keeping to them again:
    what the limit and the measured draw were at the sample that settled it (`at`, the sample's time)."""

    id: int | None = None
    transaction_id: int
    site_id: int | None = None
    charge_point_id: str
    connector_id: int
    non_compliant: bool
    reason: str  # over_draw; charge point reset (judged afresh under the profiles sent again)
    limit_kw: float
    measured_kw: float
    at: datetime
    created_at: datetime = field(default_factory=utcnow)


@dataclass(eq=False, kw_only=True)
class ProfileDispatch:
    """A charging profile for a transaction: sent (with its command) or not sent, and why."""

    id: int | None = None
    transaction_id: int | None = None
    revision_id: int | None = None
    charge_point_id: str
    connector_id: int
    purpose: str
    profile: dict[str, Any] | None = None
    command_id: int | None = None
    status: str
    reason: str | None = None
    attempt: int = 1
    verified: bool | None = None
    verify_detail: str | None = None
    created_at: datetime = field(default_factory=utcnow)
