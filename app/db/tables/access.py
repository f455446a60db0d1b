"""API keys, console users and console sessions; they map the entities of `app.domain.access`."""

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
)

from app.db.tables.base import mapper_registry, metadata
from app.db.types import UTCDateTime
from app.domain.access import ApiKey, ConsoleSession, ConsoleUser

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

console_user_table = Table(
    "console_user",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),  # stored in lower case
    Column("password_hash", String(255), nullable=False),
    Column("role", String(20), nullable=False),
    Column("site_ids", JSON, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("disabled_at", UTCDateTime(), nullable=True),
)

console_session_table = Table(
    "console_session",
    metadata,
    Column("id", String(64), primary_key=True),  # SHA-256 of the cookie's token, hex
    Column("csrf", String(64), nullable=False),
    Column("user_id", Integer, ForeignKey("console_user.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("api_key_id", Integer, ForeignKey("api_key.id", ondelete="CASCADE"), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False, index=True),
)


mapper_registry.map_imperatively(ApiKey, api_key_table)
mapper_registry.map_imperatively(ConsoleUser, console_user_table)
mapper_registry.map_imperatively(ConsoleSession, console_session_table)
