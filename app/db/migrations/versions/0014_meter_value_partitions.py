"""meter values partitioned by month on PostgreSQL; the dedup key unique with the sample's time

PostgreSQL: `meter_value` becomes a table partitioned by range of `timestamp`, one partition per calendar
month (UTC) that holds rows, the current month and the next two, and a DEFAULT partition; every row moves
over, the id sequence stays. A partitioned table's keys hold the partition key: the primary key is (id,
timestamp) and the dedup key is unique with the timestamp (the key starts with the sample's time, so this is
as unique as the key alone). The service makes later months and drops old ones (`app.db.partitions`).
SQLite keeps a plain table; its unique constraint changes to the same (dedup_key, timestamp). On both, the
index on the charge point becomes one on (charge point, timestamp): one charge point's day is a range of it.

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-07 17:30:00
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

from alembic import op
from sqlalchemy import text

revision: str = "0014"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONTHS_AHEAD = 2
_FOREIGN_KEYS = (
    "ADD CONSTRAINT meter_value_charge_point_id_fkey FOREIGN KEY (charge_point_id) REFERENCES charge_point (id)",
    'ADD CONSTRAINT meter_value_transaction_id_fkey FOREIGN KEY (transaction_id) REFERENCES "transaction" (id)',
)
# A charge point's samples by time: one charge point's day is a range of this index (the index on the charge
# point alone read all of its samples of the month, or of every month, and filtered them by time).
_CHARGE_POINT_INDEX = {
    "ix_meter_value_charge_point_id": "charge_point_id",
    "ix_mv_cp_time": 'charge_point_id, "timestamp"',
}
_INDEXES = {"ix_meter_value_timestamp": '"timestamp"', "ix_mv_tx_time": 'transaction_id, "timestamp"'}
_SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}  # names the unique constraint 0001 left unnamed


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _months() -> list[date]:
    """The months (UTC) that hold rows, and the current one and the `MONTHS_AHEAD` after it."""
    found = op.get_bind().execute(
        text("""SELECT DISTINCT date_trunc('month', "timestamp" AT TIME ZONE 'UTC') FROM meter_value_old""")
    )
    months = {stamp.date() for (stamp,) in found if stamp.year < 9999}
    month = datetime.now(UTC).date().replace(day=1)
    for _ in range(MONTHS_AHEAD + 1):
        months.add(month)
        month = _next_month(month)
    return sorted(months)


def _move_aside(charge_point_index: str) -> None:
    """Rename `meter_value` to `meter_value_old` and drop what would clash with the new table's names."""
    op.execute("ALTER TABLE meter_value RENAME TO meter_value_old")
    for index in (charge_point_index, *_INDEXES):
        op.execute(f"DROP INDEX {index}")
    op.execute("ALTER TABLE meter_value_old DROP CONSTRAINT meter_value_pkey")


def _take_over(keys: tuple[str, ...], charge_point_index: str) -> None:
    """Rows, then the `keys`, foreign keys and indexes (faster built than kept during the copy), and the id
    sequence from `meter_value_old` to the new `meter_value`; the old table goes."""
    op.execute("INSERT INTO meter_value SELECT * FROM meter_value_old")
    for key in keys:
        op.execute(f"ALTER TABLE meter_value {key}")
    for foreign_key in _FOREIGN_KEYS:
        op.execute(f"ALTER TABLE meter_value {foreign_key}")
    for index in (charge_point_index, *_INDEXES):
        columns = _INDEXES.get(index) or _CHARGE_POINT_INDEX[index]
        op.execute(f"CREATE INDEX {index} ON meter_value ({columns})")
    op.execute("ALTER SEQUENCE meter_value_id_seq OWNED BY meter_value.id")
    op.execute("DROP TABLE meter_value_old CASCADE")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table("meter_value", naming_convention=_SQLITE_NAMES) as batch_op:
            batch_op.drop_constraint("uq_meter_value_dedup_key", type_="unique")
            batch_op.create_unique_constraint("uq_meter_value_dedup_key", ["dedup_key", "timestamp"])
            batch_op.drop_index("ix_meter_value_charge_point_id")
            batch_op.create_index("ix_mv_cp_time", ["charge_point_id", "timestamp"])
        return
    _move_aside("ix_meter_value_charge_point_id")
    op.execute("ALTER TABLE meter_value_old DROP CONSTRAINT meter_value_dedup_key_key")
    op.execute(
        'CREATE TABLE meter_value (LIKE meter_value_old INCLUDING DEFAULTS) PARTITION BY RANGE ("timestamp")'
    )
    for month in _months():
        bounds = f"FROM ('{month} 00:00:00+00') TO ('{_next_month(month)} 00:00:00+00')"
        op.execute(f"CREATE TABLE meter_value_p{month:%Y%m} PARTITION OF meter_value FOR VALUES {bounds}")
    op.execute("CREATE TABLE meter_value_default PARTITION OF meter_value DEFAULT")
    _take_over(
        (
            'ADD CONSTRAINT meter_value_pkey PRIMARY KEY (id, "timestamp")',
            'ADD CONSTRAINT uq_meter_value_dedup_key UNIQUE (dedup_key, "timestamp")',
        ),
        "ix_mv_cp_time",
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table("meter_value") as batch_op:
            batch_op.drop_constraint("uq_meter_value_dedup_key", type_="unique")
            batch_op.create_unique_constraint("uq_meter_value_dedup_key", ["dedup_key"])
            batch_op.drop_index("ix_mv_cp_time")
            batch_op.create_index("ix_meter_value_charge_point_id", ["charge_point_id"])
        return
    _move_aside("ix_mv_cp_time")
    op.execute("ALTER TABLE meter_value_old DROP CONSTRAINT uq_meter_value_dedup_key")
    op.execute("CREATE TABLE meter_value (LIKE meter_value_old INCLUDING DEFAULTS)")
    _take_over(
        (
            "ADD CONSTRAINT meter_value_pkey PRIMARY KEY (id)",
            "ADD CONSTRAINT meter_value_dedup_key_key UNIQUE (dedup_key)",
        ),
        "ix_meter_value_charge_point_id",
    )
