"""drivers: the people who own id tags (name, e-mail, phone, note), and each id tag's owner

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-07 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "driver",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("id_tag", schema=None) as batch_op:
        batch_op.add_column(sa.Column("driver_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_id_tag_driver_id"), ["driver_id"], unique=False)
        batch_op.create_foreign_key("fk_id_tag_driver_id", "driver", ["driver_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("id_tag", schema=None) as batch_op:
        batch_op.drop_constraint("fk_id_tag_driver_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_id_tag_driver_id"))
        batch_op.drop_column("driver_id")
    op.drop_table("driver")
