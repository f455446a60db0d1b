"""the certificates charge points report installed (GetInstalledCertificateIds answers)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "installed_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("charge_point_id", sa.String(length=48), nullable=False),
        sa.Column("certificate_type", sa.String(length=40), nullable=False),
        sa.Column("hash_algorithm", sa.String(length=10), nullable=False),
        sa.Column("issuer_name_hash", sa.String(length=128), nullable=False),
        sa.Column("issuer_key_hash", sa.String(length=128), nullable=False),
        sa.Column("serial_number", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=True),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["charge_point_id"], ["charge_point.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("installed_certificate", schema=None) as batch_op:
        batch_op.create_index(
            "ix_installed_certificate_cp_type", ["charge_point_id", "certificate_type"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("installed_certificate", schema=None) as batch_op:
        batch_op.drop_index("ix_installed_certificate_cp_type")
    op.drop_table("installed_certificate")
