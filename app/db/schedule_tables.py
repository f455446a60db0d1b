"""Tables of the scheduler: each plan as a revision with its entries, and every profile dispatched."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from app.db.types import utc_column, utc_created


class ScheduleRevision(SQLModel, table=True):
    """One plan of one site: why it was made, how the optimiser did, and the site-level series."""

    __tablename__ = "schedule_revision"
    __table_args__ = (Index("ix_schedule_revision_site_created", "site_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(sa_column=Column(Integer, ForeignKey("site.id", ondelete="CASCADE"), nullable=False))
    created_at: datetime = utc_created()
    trigger: str = Field(max_length=200)
    status: str = Field(max_length=20)
    strategy: str = Field(max_length=20)
    solve_seconds: float
    start: datetime = utc_column(nullable=False)
    interval_minutes: int
    n_intervals: int
    capacity_kw: list[float] = Field(sa_column=Column(JSON, nullable=False))
    planned_kw: list[float] = Field(sa_column=Column(JSON, nullable=False))
    binding: list[str] = Field(sa_column=Column(JSON, nullable=False))
    shadow_price: list[float] = Field(sa_column=Column(JSON, nullable=False))
    relaxations: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    messages: list[str] = Field(sa_column=Column(JSON, nullable=False))


class ScheduleEntry(SQLModel, table=True):
    """The plan of one transaction in a revision; `assumption` says whether it was planned or assumed."""

    __tablename__ = "schedule_entry"
    __table_args__ = (Index("ix_schedule_entry_tx", "transaction_id", "revision_id"),)

    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("schedule_revision.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    transaction_id: int = Field(foreign_key="transaction.id")
    charge_point_id: str = Field(max_length=48)
    connector_id: int
    power_kw: list[float] = Field(sa_column=Column(JSON, nullable=False))
    max_kw: float
    energy_kwh: float
    delivered_kwh: float
    unmet_kwh: float
    departure: datetime = utc_column(nullable=False)
    demand_source: str = Field(max_length=40)
    assumption: str = Field(max_length=20)  # planned | non_compliant | offline


class ProfileDispatch(SQLModel, table=True):
    """A charging profile for a transaction: sent (with its command) or not sent, and why."""

    __tablename__ = "profile_dispatch"
    __table_args__ = (Index("ix_profile_dispatch_tx", "transaction_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    transaction_id: int | None = Field(default=None, foreign_key="transaction.id")
    revision_id: int | None = Field(default=None, foreign_key="schedule_revision.id")
    charge_point_id: str = Field(max_length=48, index=True)
    connector_id: int
    purpose: str = Field(max_length=30)
    profile: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    command_id: int | None = None
    status: str = Field(max_length=20)  # accepted | rejected | timeout | error | not_sent
    reason: str | None = None
    attempt: int = Field(default=1)
    verified: bool | None = None
    verify_detail: str | None = None
    created_at: datetime = utc_created()
