"""Tables of the smart-charging loop: sites, groups (feeders), forecasts, overrides, session demand.

Every timestamp here is a `UTCDateTime`: stored as UTC, read back timezone-aware on SQLite too (SQLite's
DATETIME keeps no offset, so an aware value in another zone would otherwise be stored as its wall time).
The DDL is that of `DateTime(timezone=True)`.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db.types import utc_column, utc_created


class Site(SQLModel, table=True):
    """A grid connection: its limits, planning interval and session defaults.

    Capacity per interval = min(forecast or `fallback_limit_kw`, `grid_connection_limit_kw`)
    − `safety_margin_kw`, never below 0. Intervals are aligned to the UTC epoch.
    """

    __tablename__ = "site"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    timezone: str = Field(max_length=64)
    interval_minutes: int = Field(default=15)
    grid_connection_limit_kw: float
    fallback_limit_kw: float
    safety_margin_kw: float = Field(default=0.0)
    default_duration_minutes: int | None = None
    default_energy_kwh: float | None = None
    created_at: datetime = utc_created()
    updated_at: datetime = utc_created()


class SiteGroup(SQLModel, table=True):
    """A feeder or any other capacity group; groups form a tree per site (`parent_id`).

    Capacity is a constant (`capacity_kw`), a daily step profile in the site's local time
    (`capacity_profile`: `[{"start": "HH:MM", "capacity_kw": float}, …]`, cyclic), or neither (no limit).
    """

    __tablename__ = "site_group"
    __table_args__ = (UniqueConstraint("site_id", "name", name="uq_site_group_name"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(
        sa_column=Column(Integer, ForeignKey("site.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    parent_id: int | None = Field(default=None, foreign_key="site_group.id", index=True)
    name: str = Field(max_length=100)
    capacity_kw: float | None = None
    capacity_profile: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = utc_created()
    updated_at: datetime = utc_created()


class Forecast(SQLModel, table=True):
    """A capacity forecast as a grid operator posted it; its rows are `ForecastInterval`s.

    Idempotency key: (`site_id`, `forecast_id`) when the poster names it, else (`site_id`, `issued_at`);
    `body_sha256` tells a replay from a different forecast under the same key.
    """

    __tablename__ = "forecast"
    __table_args__ = (
        UniqueConstraint("site_id", "forecast_id", name="uq_forecast_site_ref"),
        UniqueConstraint("site_id", "issued_at", name="uq_forecast_site_issued"),
        Index("ix_forecast_site_ends", "site_id", "ends_at"),  # the forecasts still ahead of a window
    )

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(
        sa_column=Column(Integer, ForeignKey("site.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    forecast_id: str | None = Field(default=None, max_length=100)
    issued_at: datetime = utc_column(nullable=False)
    source: str = Field(max_length=10)  # "json" | "csv"
    author: str | None = Field(default=None, max_length=100)
    author_key_id: int | None = None
    body_sha256: str = Field(max_length=64)
    starts_at: datetime = utc_column(nullable=False)
    ends_at: datetime = utc_column(nullable=False)
    interval_count: int
    created_at: datetime = utc_created()


class ForecastInterval(SQLModel, table=True):
    """One row of a forecast exactly as posted (any resolution); resampled when read."""

    __tablename__ = "forecast_interval"
    __table_args__ = (
        UniqueConstraint("forecast_pk", "row", name="uq_forecast_interval_row"),
        Index("ix_forecast_interval_start", "forecast_pk", "start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    forecast_pk: int = Field(
        sa_column=Column(Integer, ForeignKey("forecast.id", ondelete="CASCADE"), nullable=False)
    )
    site_id: int = Field(foreign_key="site.id")
    row: int
    start: datetime = utc_column(nullable=False)
    end: datetime = utc_column(nullable=False)
    limit_kw: float


class Override(SQLModel, table=True):
    """An operator's override. In force while `valid_from <= t < valid_until` (open-ended when null)
    and not deleted; expiry is a query on time, never a cleanup job.

    The scope target is one of `site_id`, `group_id`, `charge_point_id` (+ `connector_id`), `transaction_id`
    according to `scope`; `site_id` (when assigned) and `charge_point_id` (for a transaction) are also
    filled, as they were at creation, so that listeners and filters find them.
    """

    __tablename__ = "override"
    __table_args__ = (Index("ix_override_window", "valid_from", "valid_until"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=20)
    site_id: int | None = Field(default=None, index=True)
    group_id: int | None = Field(default=None, index=True)
    charge_point_id: str | None = Field(default=None, max_length=48, index=True)
    connector_id: int | None = None
    transaction_id: int | None = Field(default=None, index=True)
    kind: str = Field(max_length=20)
    value: float | None = None
    valid_from: datetime = utc_column(nullable=False)
    valid_until: datetime | None = utc_column()
    reason: str = Field(max_length=500)
    author: str | None = Field(default=None, max_length=100)
    author_key_id: int | None = None
    created_at: datetime = utc_created()
    updated_at: datetime = utc_created()
    deleted_at: datetime | None = utc_column()
    deleted_by: str | None = Field(default=None, max_length=100)


class OverrideAudit(SQLModel, table=True):
    """Every change to an override: the action, who, when, and the override's state after it."""

    __tablename__ = "override_audit"

    id: int | None = Field(default=None, primary_key=True)
    override_id: int = Field(foreign_key="override.id", index=True)
    action: str = Field(max_length=20)  # created | updated | deleted
    author: str | None = Field(default=None, max_length=100)
    author_key_id: int | None = None
    at: datetime = utc_created()
    snapshot: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class SessionDemand(SQLModel, table=True):
    """Departure and energy demand of a transaction as set through the API (driver app or operator)."""

    __tablename__ = "session_demand"

    transaction_id: int = Field(foreign_key="transaction.id", primary_key=True)
    departure: datetime | None = utc_column()
    energy_kwh: float | None = None
    source: str = Field(default="api", max_length=20)
    author: str | None = Field(default=None, max_length=100)
    author_key_id: int | None = None
    updated_at: datetime = utc_created()
