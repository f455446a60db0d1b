"""Tables of a scale-out layout: gateway processes' leases and which gateway holds which charge point;
scheduler processes' leases and which scheduler plans which site.

Written only by the scale-out roles (on PostgreSQL); the embedded default leaves them empty.
"""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from app.db.tables.base import metadata
from app.db.types import UTCDateTime

gateway_lease_table = Table(
    "gateway_lease",
    metadata,
    Column("gateway_id", String(100), primary_key=True),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("joined_at", UTCDateTime(), nullable=False),
)

charge_point_presence_table = Table(
    "charge_point_presence",
    metadata,
    Column("charge_point_id", String(48), primary_key=True),
    Column("gateway_id", String(100), nullable=False),
    Column("connection_id", String(64), nullable=False),
    Column("since", UTCDateTime(), nullable=False),
    Index("ix_charge_point_presence_gateway", "gateway_id"),
)

scheduler_lease_table = Table(
    "scheduler_lease",
    metadata,
    Column("scheduler_id", String(100), primary_key=True),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("joined_at", UTCDateTime(), nullable=False),
)

site_lease_table = Table(
    "site_lease",
    metadata,
    Column("site_id", Integer, ForeignKey("site.id", ondelete="CASCADE"), primary_key=True),
    Column("scheduler_id", String(100), nullable=False),
    Column("since", UTCDateTime(), nullable=False),
    Index("ix_site_lease_scheduler", "scheduler_id"),
)
