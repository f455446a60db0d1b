"""minimum charging current: per site (default 6 A), charge point, connector and session

Below 6 A per phase (IEC 61851-1) an EV does not charge: every limit sent is 0 or at least this.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NULLABLE = ("charge_point", "connector", "session_demand")


def upgrade() -> None:
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("min_current_a", sa.Float(), nullable=False, server_default="6"))
    for table in NULLABLE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("min_current_a", sa.Float(), nullable=True))


def downgrade() -> None:
    for table in ("site", *NULLABLE):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("min_current_a")
