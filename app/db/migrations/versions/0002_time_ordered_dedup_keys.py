"""meter values: time-ordered dedup keys

A meter value's dedup key was the SHA-256 hex digest of the sample; it is now the sample's UTC time
(YYYYMMDDTHHMMSS.ffffff), "|", and the first 40 digits of that same digest, so that new keys are appended
to the unique index instead of landing on a random page each (`app.services.meter_values.dedup_key`).
Stored keys are rewritten the same way, so a replay of a message stored before the upgrade is still
recognised. Downgrade cannot restore the dropped digits: it keeps the new keys, which the old code never
matches again (a replay would then be stored twice).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 16:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Old keys are 64 hex digits, new ones contain "|": the WHERE makes the rewrite idempotent.
_SQLITE = """
UPDATE meter_value SET dedup_key =
    replace(replace(replace(substr(timestamp, 1, 26), '-', ''), ':', ''), ' ', 'T')
    || '|' || substr(dedup_key, 1, 40)
WHERE instr(dedup_key, '|') = 0
"""
_POSTGRESQL = """
UPDATE meter_value SET dedup_key =
    to_char(timestamp AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS.US') || '|' || substr(dedup_key, 1, 40)
WHERE strpos(dedup_key, '|') = 0
"""


def upgrade() -> None:
    op.execute(_POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _SQLITE)


def downgrade() -> None:
    pass
