"""Meter values at scale on PostgreSQL: the month-partitioned table against an unpartitioned copy of the same
rows (the baseline of the same run).

A scaled-down year (`python -m benchmarks meter_values`): N connectors (one charge point each, default 4)
sampling the energy register every minute through 2026 (525,600 rows per connector), written into the
partitioned `meter_value` of a throwaway schema migrated to head, and the same rows into an unpartitioned
table with the same columns and indexes. Then, on each table:
1. the load (one INSERT ... SELECT of the whole year, as rows/s);
2. the API's one-day range queries, through the repository the API uses (`GET /meter-values` with `from`/`to`:
   its count and first page of 1,000; with and without `charge_point_id`), over days spread through the year,
   warm cache; the unpartitioned copy is swapped in under the table's name, so the statements are the same;
3. the retention of the oldest month: a partition detached and dropped, against a DELETE of its rows;
4. disk per row (table and indexes), for the extrapolation to 10,000 connectors x a year (5.3 billion rows).

Needs PostgreSQL (SMARTCHARGE_BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test). Size:
SMARTCHARGE_BENCH_CONNECTORS.
"""

import asyncio
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

from benchmarks.schemas import postgres_schema

POSTGRES_URL = os.environ.get("SMARTCHARGE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
CONNECTORS = int(os.environ.get("SMARTCHARGE_BENCH_CONNECTORS", "4"))
YEAR = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 365
QUERY_DAYS = 24  # one-day queries per table and kind, spread over the year
FULL_SCALE_ROWS = 10_000 * DAYS * 24 * 60

# One row per connector per minute of the year, as the gateway stores an energy register sample.
_LOAD = """
INSERT INTO {table} (charge_point_id, connector_id, transaction_id, "timestamp", value, context, format,
    measurand, phase, location, unit, value_normalised, unit_normalised, source, dedup_key, received_at)
SELECT cp, 1, NULL, at, (minute * 100)::text, 'Sample.Periodic', 'Raw', 'Energy.Active.Import.Register',
    NULL, 'Outlet', 'Wh', minute * 100, 'Wh', 'MeterValues',
    to_char(at AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS.US') || '|'
        || left(md5(cp || at::text) || md5(cp), 40),
    at + interval '2 seconds'
FROM generate_series(1, :connectors) AS c(n), LATERAL (SELECT 'CP' || lpad(n::text, 5, '0') AS cp) AS named,
    generate_series(0, :minutes - 1) AS m(minute),
    LATERAL (SELECT CAST(:start AS timestamptz) + minute * interval '1 minute' AS at) AS timed
"""


async def _load(url: str) -> dict[str, float]:
    """The year into the partitioned table (its months made first, as the upkeep makes them) and into an
    unpartitioned copy `meter_value_flat`; seconds of each load, rows, bytes of each table with indexes."""
    from sqlalchemy import text

    from app.db import partitions
    from app.db.engine import create_engine

    engine = create_engine(url)
    params = {"connectors": CONNECTORS, "minutes": DAYS * 24 * 60, "start": YEAR}
    figures: dict[str, float] = {}
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO charge_point (id, registration_status, connected, security_profile, created_at)"
                " SELECT 'CP' || lpad(n::text, 5, '0'), 'Accepted', false, 0, now()"
                " FROM generate_series(1, :n) AS n"
            ),
            {"n": CONNECTORS},
        )
        for month in partitions.months(YEAR.date(), (YEAR + timedelta(days=DAYS - 1)).date()):
            await partitions.ensure_months(connection, datetime(month.year, month.month, 1, tzinfo=UTC))
        await connection.execute(text("CREATE TABLE meter_value_flat (LIKE meter_value INCLUDING ALL)"))
    for table in ("meter_value_flat", "meter_value"):
        began = time.perf_counter()
        async with engine.begin() as connection:
            await connection.execute(text(_LOAD.format(table=table)), params)
        figures[f"{table}_load_s"] = time.perf_counter() - began
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE meter_value"))
        await connection.execute(text("ANALYZE meter_value_flat"))
        for name, query in (
            ("rows", "SELECT count(*) FROM meter_value"),
            (
                "meter_value_bytes",
                "SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits"
                " WHERE inhparent = 'meter_value'::regclass",
            ),
            ("meter_value_flat_bytes", "SELECT pg_total_relation_size('meter_value_flat')"),
        ):
            figures[name] = float((await connection.execute(text(query))).scalar_one())
    await engine.dispose()
    return figures


async def _queries(url: str, charge_point_id: str | None) -> list[float]:
    """Seconds of each one-day query through the API's repository (its count and first page), warm: each
    day asked once before the timed round."""
    from app.db.engine import Database, create_engine
    from app.db.store import SqlUnitOfWork
    from app.domain.paging import Window
    from app.domain.queries import MeterValueFilter

    database = Database(create_engine(url))
    step = DAYS // QUERY_DAYS
    days = [YEAR + timedelta(days=step * n + step // 2, hours=n % 24) for n in range(QUERY_DAYS)]
    timings = []
    for timed in (False, True):
        for since in days:
            filters = MeterValueFilter(
                charge_point_id=charge_point_id, since=since, until=since + timedelta(days=1)
            )
            began = time.perf_counter()
            async with database.session() as session:
                found = await SqlUnitOfWork(session).meter_values.list(Window(limit=1000), filters)
            if timed:
                timings.append(time.perf_counter() - began)
            assert found.total == 1440 * (1 if charge_point_id else CONNECTORS), found.total
    await database.dispose()
    return timings


async def _swap(url: str) -> None:
    """Swap the names of the partitioned table and its unpartitioned copy."""
    from sqlalchemy import text

    from app.db.engine import create_engine

    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("ALTER TABLE meter_value RENAME TO meter_value_swap"))
        await connection.execute(text("ALTER TABLE meter_value_flat RENAME TO meter_value"))
        await connection.execute(text("ALTER TABLE meter_value_swap RENAME TO meter_value_flat"))
    await engine.dispose()


async def _retention(url: str) -> dict[str, float]:
    """Seconds to remove January: its partition detached and dropped, and a DELETE of its rows from the
    unpartitioned copy, then the VACUUM that makes their space reusable (a dropped partition's is freed)."""
    from sqlalchemy import text

    from app.db import partitions
    from app.db.engine import create_engine

    engine = create_engine(url)
    cutoff = datetime(2026, 2, 1, tzinfo=UTC)
    began = time.perf_counter()
    async with engine.begin() as connection:
        dropped = await partitions.delete_older(connection, cutoff)
    drop_s = time.perf_counter() - began
    assert dropped == 1
    began = time.perf_counter()
    async with engine.begin() as connection:
        deleted = await connection.execute(
            text('DELETE FROM meter_value_flat WHERE "timestamp" < :cutoff'), {"cutoff": cutoff}
        )
    delete_s = time.perf_counter() - began
    assert deleted.rowcount == CONNECTORS * 31 * 1440
    began = time.perf_counter()
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM meter_value_flat"))
    vacuum_s = time.perf_counter() - began
    await engine.dispose()
    return {"drop_s": drop_s, "delete_s": delete_s, "vacuum_s": vacuum_s, "rows": deleted.rowcount}


def _ms(timings: list[float]) -> str:
    return f"{1000 * statistics.median(timings):.1f}"


def main() -> None:
    from sqlalchemy import create_engine, text

    from app.db.engine import sync_url

    try:
        with create_engine(sync_url(POSTGRES_URL)).connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        reason = type(exc).__name__
        print(f"skipped: no PostgreSQL at {POSTGRES_URL} ({reason}; set SMARTCHARGE_BENCH_POSTGRES_URL)")
        return
    rows = CONNECTORS * DAYS * 1440
    print(f"{CONNECTORS} connectors x one-minute samples x {DAYS} days = {rows:,} rows per table;")
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start\n")
    with postgres_schema(POSTGRES_URL) as url:
        loaded = asyncio.run(_load(url))
        one_cp = {"partitioned": asyncio.run(_queries(url, "CP00001"))}
        all_cps = {"partitioned": asyncio.run(_queries(url, None))}
        asyncio.run(_swap(url))
        one_cp["unpartitioned"] = asyncio.run(_queries(url, "CP00001"))
        all_cps["unpartitioned"] = asyncio.run(_queries(url, None))
        asyncio.run(_swap(url))
        removed = asyncio.run(_retention(url))
    per_row = {
        table: loaded[f"{table}_bytes"] / loaded["rows"] for table in ("meter_value", "meter_value_flat")
    }
    print("| | unpartitioned (baseline) | by month | ratio |")
    print("| --- | --- | --- | --- |")
    flat_load, part_load = loaded["meter_value_flat_load_s"], loaded["meter_value_load_s"]
    print(
        f"| load, rows/s | {rows / flat_load:,.0f} | {rows / part_load:,.0f} | {flat_load / part_load:.2f}x |"
    )
    for what, timings in (("one charge point's day", one_cp), ("a day of all charge points", all_cps)):
        flat, part = statistics.median(timings["unpartitioned"]), statistics.median(timings["partitioned"])
        print(
            f"| API one-day query, {what} (count + page of 1,000), median ms "
            f"| {_ms(timings['unpartitioned'])} | {_ms(timings['partitioned'])} | {flat / part:.2f}x |"
        )
    delete_s, drop_s = removed["delete_s"], removed["drop_s"]
    print(
        f"| retention of a month ({removed['rows']:,.0f} rows), s | DELETE {delete_s:.2f} "
        f"| detach + drop {drop_s:.3f} | {delete_s / drop_s:.1f}x |"
    )
    print(
        f"| the same and VACUUM, s | {delete_s + removed['vacuum_s']:.2f} | {drop_s:.3f} "
        f"| {(delete_s + removed['vacuum_s']) / drop_s:.1f}x |"
    )
    flat_b, part_b = per_row["meter_value_flat"], per_row["meter_value"]
    print(f"| disk per row (table + indexes), bytes | {flat_b:.0f} | {part_b:.0f} | |")
    full_tb = FULL_SCALE_ROWS * per_row["meter_value"] / 1e12
    print(
        f"\n10,000 connectors x a year = {FULL_SCALE_ROWS / 1e9:.2f} billion rows: {full_tb:.1f} TB at "
        f"{per_row['meter_value']:.0f} bytes a row, a month {full_tb / 12 * 1000:.0f} GB"
    )
