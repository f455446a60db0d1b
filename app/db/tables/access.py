"""The API key table; it maps `app.domain.access.ApiKey`."""

from sqlalchemy import (
    JSON,
    Column,
    Integer,
    String,
    Table,
)

from app.db.tables.base import mapper_registry, metadata
from app.db.types import UTCDateTime
from app.domain.access import ApiKey

api_key_table = Table(
    "api_key",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("key_hash", String(64), nullable=False, index=True, unique=True),
    Column("prefix", String(12), nullable=False),
    Column("site_ids", JSON, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
)


mapper_registry.map_imperatively(ApiKey, api_key_table)
