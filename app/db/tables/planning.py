"""Tables of smart charging; each maps its entity in `app.domain.planning`, but for the append-only
records written in bulk on every plan (schedule entries, profile dispatches) and compliance events: those
are read and written
with Core (`app.db.rows`), since building a mapped object costs more than its row."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from app.db.tables.base import mapper_registry, metadata
from app.db.types import UTCDateTime
from app.domain.planning import (
    Forecast,
    ForecastInterval,
    Override,
    OverrideAudit,
    ScheduleRevision,
    SessionDemand,
    Site,
    SiteGroup,
)

site_table = Table(
    "site",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("timezone", String(64), nullable=False),
    Column("interval_minutes", Integer, nullable=False, default=15),
    Column("grid_connection_limit_kw", Float, nullable=False),
    Column("fallback_limit_kw", Float, nullable=False),
    Column("safety_margin_kw", Float, nullable=False, default=0.0),
    Column("default_duration_minutes", Integer, nullable=True),
    Column("default_energy_kwh", Float, nullable=True),
    Column("min_current_a", Float, nullable=False, default=6.0, server_default="6"),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)


site_group_table = Table(
    "site_group",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("site.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("parent_id", Integer, ForeignKey("site_group.id"), nullable=True, index=True),
    Column("name", String(100), nullable=False),
    Column("capacity_kw", Float, nullable=True),
    Column("capacity_profile", JSON, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("site_id", "name", name="uq_site_group_name"),
)


forecast_table = Table(
    "forecast",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("site.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("forecast_id", String(100), nullable=True),
    Column("issued_at", UTCDateTime(), nullable=False),
    Column("source", String(10), nullable=False),
    Column("author", String(100), nullable=True),
    Column("author_key_id", Integer, nullable=True),
    Column("body_sha256", String(64), nullable=False),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("interval_count", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("site_id", "issued_at", name="uq_forecast_site_issued"),
    UniqueConstraint("site_id", "forecast_id", name="uq_forecast_site_ref"),
    Index("ix_forecast_site_ends", "site_id", "ends_at"),
)


forecast_interval_table = Table(
    "forecast_interval",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("forecast_pk", Integer, ForeignKey("forecast.id", ondelete="CASCADE"), nullable=False),
    Column("site_id", Integer, ForeignKey("site.id"), nullable=False),
    Column("row", Integer, nullable=False),
    Column("start", UTCDateTime(), nullable=False),
    Column("end", UTCDateTime(), nullable=False),
    Column("limit_kw", Float, nullable=False),
    UniqueConstraint("forecast_pk", "row", name="uq_forecast_interval_row"),
    Index("ix_forecast_interval_start", "forecast_pk", "start"),
)


override_table = Table(
    "override",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("scope", String(20), nullable=False),
    Column("site_id", Integer, nullable=True, index=True),
    Column("group_id", Integer, nullable=True, index=True),
    Column("charge_point_id", String(48), nullable=True, index=True),
    Column("connector_id", Integer, nullable=True),
    Column("transaction_id", Integer, nullable=True, index=True),
    Column("kind", String(20), nullable=False),
    Column("value", Float, nullable=True),
    Column("valid_from", UTCDateTime(), nullable=False),
    Column("valid_until", UTCDateTime(), nullable=True),
    Column("reason", String(500), nullable=False),
    Column("author", String(100), nullable=True),
    Column("author_key_id", Integer, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("deleted_at", UTCDateTime(), nullable=True),
    Column("deleted_by", String(100), nullable=True),
    Index("ix_override_window", "valid_from", "valid_until"),
)


override_audit_table = Table(
    "override_audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("override_id", Integer, ForeignKey("override.id"), nullable=False, index=True),
    Column("action", String(20), nullable=False),
    Column("author", String(100), nullable=True),
    Column("author_key_id", Integer, nullable=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("snapshot", JSON, nullable=False),
)


session_demand_table = Table(
    "session_demand",
    metadata,
    Column("transaction_id", Integer, ForeignKey("transaction.id"), primary_key=True),
    Column("departure", UTCDateTime(), nullable=True),
    Column("energy_kwh", Float, nullable=True),
    Column("min_current_a", Float, nullable=True),
    Column("source", String(20), nullable=False, default="api"),
    Column("author", String(100), nullable=True),
    Column("author_key_id", Integer, nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
)


schedule_revision_table = Table(
    "schedule_revision",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("site.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("trigger", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("strategy", String(20), nullable=False),
    Column("solve_seconds", Float, nullable=False),
    Column("start", UTCDateTime(), nullable=False),
    Column("interval_minutes", Integer, nullable=False),
    Column("n_intervals", Integer, nullable=False),
    Column("capacity_kw", JSON, nullable=False),
    Column("planned_kw", JSON, nullable=False),
    Column("binding", JSON, nullable=False),
    Column("shadow_price", JSON, nullable=False),
    Column("relaxations", JSON, nullable=False),
    Column("messages", JSON, nullable=False),
    Column("planned_by", String(100), nullable=True),
    Index("ix_schedule_revision_site_created", "site_id", "created_at"),
)


schedule_entry_table = Table(
    "schedule_entry",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "revision_id",
        Integer,
        ForeignKey("schedule_revision.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("transaction_id", Integer, ForeignKey("transaction.id"), nullable=False),
    Column("charge_point_id", String(48), nullable=False),
    Column("connector_id", Integer, nullable=False),
    Column("power_kw", JSON, nullable=False),
    Column("max_kw", Float, nullable=False),
    Column("energy_kwh", Float, nullable=False),
    Column("delivered_kwh", Float, nullable=False),
    Column("unmet_kwh", Float, nullable=False),
    Column("departure", UTCDateTime(), nullable=False),
    Column("demand_source", String(64), nullable=False),
    Column("assumption", String(20), nullable=False),
    Index("ix_schedule_entry_tx", "transaction_id", "revision_id"),
)


profile_dispatch_table = Table(
    "profile_dispatch",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("transaction_id", Integer, ForeignKey("transaction.id"), nullable=True),
    Column("revision_id", Integer, ForeignKey("schedule_revision.id"), nullable=True),
    Column("charge_point_id", String(48), nullable=False, index=True),
    Column("connector_id", Integer, nullable=False),
    Column("purpose", String(30), nullable=False),
    Column("profile", JSON, nullable=True),
    Column("command_id", Integer, nullable=True),
    Column("status", String(20), nullable=False),
    Column("reason", String, nullable=True),
    Column("attempt", Integer, nullable=False, default=1),
    Column("verified", Boolean, nullable=True),
    Column("verify_detail", String, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_profile_dispatch_tx", "transaction_id", "id"),
)


compliance_event_table = Table(
    "compliance_event",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("transaction_id", Integer, ForeignKey("transaction.id"), nullable=False),
    Column("site_id", Integer, ForeignKey("site.id", ondelete="CASCADE"), nullable=True),
    Column("charge_point_id", String(48), nullable=False),
    Column("connector_id", Integer, nullable=False),
    Column("non_compliant", Boolean, nullable=False),
    Column("reason", String(40), nullable=False),
    Column("limit_kw", Float, nullable=False),
    Column("measured_kw", Float, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_compliance_event_tx", "transaction_id", "id"),
    Index("ix_compliance_event_site", "site_id", "id"),
)


mapper_registry.map_imperatively(Site, site_table)
mapper_registry.map_imperatively(SiteGroup, site_group_table)
mapper_registry.map_imperatively(Forecast, forecast_table)
mapper_registry.map_imperatively(ForecastInterval, forecast_interval_table)
mapper_registry.map_imperatively(Override, override_table)
mapper_registry.map_imperatively(OverrideAudit, override_audit_table)
mapper_registry.map_imperatively(SessionDemand, session_demand_table)
mapper_registry.map_imperatively(ScheduleRevision, schedule_revision_table)
