"""compliance events: transactions found drawing over the limits they accepted, and compliant again

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "compliance_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("charge_point_id", sa.String(length=48), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("non_compliant", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("limit_kw", sa.Float(), nullable=False),
        sa.Column("measured_kw", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["transaction_id"], ["transaction.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("compliance_event", schema=None) as batch_op:
        batch_op.create_index("ix_compliance_event_tx", ["transaction_id", "id"], unique=False)
        batch_op.create_index("ix_compliance_event_site", ["site_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("compliance_event", schema=None) as batch_op:
        batch_op.drop_index("ix_compliance_event_site")
        batch_op.drop_index("ix_compliance_event_tx")
    op.drop_table("compliance_event")
