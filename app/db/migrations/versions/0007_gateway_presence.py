"""scale-out: gateway leases and charge-point presence

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-20 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gateway_lease",
        sa.Column("gateway_id", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("gateway_id"),
    )
    op.create_table(
        "charge_point_presence",
        sa.Column("charge_point_id", sa.String(length=48), nullable=False),
        sa.Column("gateway_id", sa.String(length=100), nullable=False),
        sa.Column("connection_id", sa.String(length=64), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("charge_point_id"),
    )
    with op.batch_alter_table("charge_point_presence", schema=None) as batch_op:
        batch_op.create_index("ix_charge_point_presence_gateway", ["gateway_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("charge_point_presence", schema=None) as batch_op:
        batch_op.drop_index("ix_charge_point_presence_gateway")
    op.drop_table("charge_point_presence")
    op.drop_table("gateway_lease")
