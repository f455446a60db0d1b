"""scale-out: scheduler leases, site leases, who planned a revision; a longer demand source

A schedule entry's demand source from two site defaults is 42 characters: more than the 40 it had.

Revision ID: 0011
Revises: 0013
Create Date: 2026-12-07 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduler_lease",
        sa.Column("scheduler_id", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scheduler_id"),
    )
    op.create_table(
        "site_lease",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("scheduler_id", sa.String(length=100), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("site_id"),
    )
    with op.batch_alter_table("site_lease", schema=None) as batch_op:
        batch_op.create_index("ix_site_lease_scheduler", ["scheduler_id"], unique=False)
    with op.batch_alter_table("schedule_revision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("planned_by", sa.String(length=100), nullable=True))
    with op.batch_alter_table("schedule_entry", schema=None) as batch_op:
        batch_op.alter_column(
            "demand_source",
            existing_type=sa.String(length=40),
            type_=sa.String(length=64),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("schedule_entry", schema=None) as batch_op:
        batch_op.alter_column(
            "demand_source",
            existing_type=sa.String(length=64),
            type_=sa.String(length=40),
            existing_nullable=False,
        )
    with op.batch_alter_table("schedule_revision", schema=None) as batch_op:
        batch_op.drop_column("planned_by")
    with op.batch_alter_table("site_lease", schema=None) as batch_op:
        batch_op.drop_index("ix_site_lease_scheduler")
    op.drop_table("site_lease")
    op.drop_table("scheduler_lease")
