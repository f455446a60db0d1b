"""Meter values kept by month: PostgreSQL range partitions of `meter_value` by `timestamp`, made ahead of
time, and a retention that drops whole months (SQLite keeps one plain table and deletes old rows in batches).

One partition per calendar month (UTC): a year is 12 partitions, so the queries that cannot name a time range
(a transaction's samples, the latest energy register the planner reads, paging by id) probe 13 indexes, not
the 366 of daily partitions, while a one-day query still reads one partition. At 10,000 connectors sampling
every minute a month is 440 million rows; each month has indexes of its own, so writes touch only the
current month's and a past month is never written again. Retention frees whole months: data is kept between
the retention and the retention plus one month.

A row that no partition takes (a charge point whose clock is years off, or the service down past the months
made ahead) goes to the DEFAULT partition: no insert fails. A month's partition made later takes its rows
out of the default one (`ensure_months`).
"""

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

from sqlalchemy import BindParameter, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.types import UTCDateTime

__all__ = [
    "DEFAULT_PARTITION",
    "MONTHS_AHEAD",
    "POSTGRESQL_DDL",
    "TABLE",
    "delete_older",
    "delete_rows_older",
    "ensure_months",
    "is_partition",
    "month_partition",
    "month_start",
    "months",
]

TABLE = "meter_value"
DEFAULT_PARTITION = f"{TABLE}_default"
MONTHS_AHEAD = 2  # the current month and the next two exist at every maintenance round
_MONTH_PARTITION = re.compile(rf"^{TABLE}_p(\d{{4}})(\d{{2}})$")
_LOCK = 0x6D657465  # the advisory lock that serialises maintenance of several processes ("mete")

# What `metadata.create_all` adds on PostgreSQL after the partitioned table (the migration makes the same):
# the primary key holds the partition key (SQLite's is `id`, its rowid), and the default partition.
POSTGRESQL_DDL = (
    f'ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, "timestamp")',
    f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF {TABLE} DEFAULT",
)


def month_start(at: datetime | date) -> date:
    return date(at.year, at.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months(first: date, last: date) -> Iterator[date]:
    """The months from `first`'s to `last`'s, both included."""
    month = month_start(first)
    while month <= last:
        yield month
        month = next_month(month)


def month_partition(month: date) -> str:
    return f"{TABLE}_p{month:%Y%m}"


def is_partition(name: str) -> bool:
    """Whether a table is one of `meter_value`'s partitions (the database's, not the models')."""
    return name == DEFAULT_PARTITION or _MONTH_PARTITION.match(name) is not None


def _bound(month: date) -> str:
    return f"'{month.isoformat()} 00:00:00+00'"


async def _months_held(connection: AsyncConnection) -> dict[date, str]:
    """The month partitions that exist, by month."""
    found = await connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = CAST(:table AS regclass)"
        ),
        {"table": TABLE},
    )
    held = {}
    for (name,) in found:
        if (match := _MONTH_PARTITION.match(name)) is not None:
            held[date(int(match[1]), int(match[2]), 1)] = name
    return held


async def ensure_months(connection: AsyncConnection, now: datetime) -> list[str]:
    """PostgreSQL: make the partitions of `now`'s month and the `MONTHS_AHEAD` after it that are missing;
    returns their names. A new month's rows already in the default partition move into it (a partition
    cannot be attached over rows the default one holds in its range)."""
    await connection.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _LOCK})
    first = month_start(now.astimezone(UTC))
    last = first
    for _ in range(MONTHS_AHEAD):
        last = next_month(last)
    held = await _months_held(connection)
    made = []
    for month in months(first, last):
        if month in held:
            continue
        name, start, end = month_partition(month), _bound(month), _bound(next_month(month))
        await connection.execute(text(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS)"))
        await connection.execute(
            text(
                f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION}"
                f' WHERE "timestamp" >= {start} AND "timestamp" < {end} RETURNING *)'
                f" INSERT INTO {name} SELECT * FROM moved"
            )
        )
        await connection.execute(
            text(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM ({start}) TO ({end})")
        )
        made.append(name)
    return made


async def delete_older(connection: AsyncConnection, cutoff: datetime) -> int:
    """PostgreSQL: detach and drop the month partitions that end at or before `cutoff`, and delete the
    default partition's rows older than it; returns the partitions dropped. (SQLite: `delete_rows_older`.)"""
    await connection.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _LOCK})
    dropped = 0
    for month, name in sorted((await _months_held(connection)).items()):
        end = next_month(month)
        if datetime(end.year, end.month, 1, tzinfo=UTC) > cutoff:
            break
        await connection.execute(text(f"ALTER TABLE {TABLE} DETACH PARTITION {name}"))
        await connection.execute(text(f"DROP TABLE {name}"))
        dropped += 1
    await connection.execute(
        text(f'DELETE FROM {DEFAULT_PARTITION} WHERE "timestamp" < :cutoff').bindparams(_cutoff(cutoff))
    )
    return dropped


async def delete_rows_older(connection: AsyncConnection, cutoff: datetime, limit: int) -> int:
    """SQLite: delete up to `limit` rows sampled before `cutoff`; returns how many went (fewer than `limit`:
    no more to delete)."""
    statement = text(
        f"DELETE FROM {TABLE} WHERE id IN"
        f' (SELECT id FROM {TABLE} WHERE "timestamp" < :cutoff ORDER BY "timestamp" LIMIT :limit)'
    )
    result = await connection.execute(statement.bindparams(_cutoff(cutoff)), {"limit": limit})
    return int(result.rowcount)


def _cutoff(cutoff: datetime) -> BindParameter[datetime]:
    return bindparam("cutoff", cutoff, type_=UTCDateTime())
