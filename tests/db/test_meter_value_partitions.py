"""Meter values by month: PostgreSQL partitions (made ahead, a default one, dropped by the retention, pruned
by a time range), the migration that makes them, and SQLite's retention."""

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, insert, text

from app.db import retention
from app.db.engine import Database, sync_url
from app.db.engine import create_engine as create_async_engine
from app.db.migrate import downgrade, upgrade
from app.db.retention import MeterValueUpkeep, Upkept
from app.db.store import SqlUnitOfWork
from app.db.tables import metadata
from app.db.tables.ocpp import charge_point_table, meter_value_table
from app.domain.metering import SampledValue, build_rows
from app.domain.paging import Window
from app.domain.queries import MeterValueFilter
from tests.api import seed
from tests.conftest import POSTGRES_URL, postgres_schema
from tests.fakes import FakeClock

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
FAR_PAST = datetime(1999, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema, migrated to head."""
    if POSTGRES_URL is None:
        pytest.skip("partitions are PostgreSQL's: set SMARTCHARGE_TEST_POSTGRES_URL")
    with postgres_schema() as url:
        upgrade(url, "head")
        yield url


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[Database]:
    database = Database(create_async_engine(pg_url))
    await seed.charge_point(database, "CP1")
    try:
        yield database
    finally:
        await database.dispose()


async def store(database: Database, *times: datetime) -> int:
    """One sample at each of `times`, through the gateway's insert; how many were new."""
    samples = [SampledValue(timestamp=at, value=str(n)) for n, at in enumerate(times)]
    rows = build_rows("CP1", 1, None, samples, "MeterValues", NOW)
    async with database.session() as session:
        return len(await SqlUnitOfWork(session).meter_values.add_new(list(rows.values())))


async def where_stored(database: Database) -> dict[datetime, str]:
    """The partition of each sample, by its time."""
    async with database.engine.connect() as connection:
        found = await connection.execute(text("SELECT timestamp, tableoid::regclass::text FROM meter_value"))
        return {at.astimezone(UTC): partition for at, partition in found}


async def sampled(database: Database) -> list[datetime]:
    async with database.session() as session:
        found = await SqlUnitOfWork(session).meter_values.list(Window(limit=100), MeterValueFilter())
    return [value.timestamp for value in found.items]


async def upkeep(database: Database, now: datetime, retention_days: int | None = None) -> Upkept:
    return await MeterValueUpkeep(database, FakeClock(now), retention_days).upkeep()


@pytest.mark.postgres
async def test_rows_land_in_their_months_partition_and_others_in_the_default(pg: Database) -> None:
    made = await upkeep(pg, NOW)
    assert {"meter_value_p202612", "meter_value_p202701", "meter_value_p202702"} >= set(made.made)
    january = datetime(2027, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert await store(pg, NOW, january, january + timedelta(microseconds=1), FAR_PAST, FAR_FUTURE) == 5
    assert await where_stored(pg) == {
        NOW: "meter_value_p202612",
        january: "meter_value_p202701",
        january + timedelta(microseconds=1): "meter_value_p202702",
        FAR_PAST: "meter_value_default",
        FAR_FUTURE: "meter_value_default",
    }
    assert await store(pg, NOW) == 0  # a replay: the dedup key is unique with the partition key
    assert len(await where_stored(pg)) == 5
    assert (await upkeep(pg, NOW)).made == ()


@pytest.mark.postgres
async def test_a_month_made_later_takes_its_rows_out_of_the_default_partition(pg: Database) -> None:
    june = datetime(2027, 6, 15, tzinfo=UTC)
    await store(pg, june)
    assert (await where_stored(pg))[june] == "meter_value_default"
    made = await upkeep(pg, datetime(2027, 5, 1, tzinfo=UTC))
    assert made.made == ("meter_value_p202705", "meter_value_p202706", "meter_value_p202707")
    assert await where_stored(pg) == {june: "meter_value_p202706"}


@pytest.mark.postgres
async def test_retention_drops_whole_old_months_and_keeps_the_rest(pg: Database) -> None:
    await upkeep(pg, datetime(2026, 9, 1, tzinfo=UTC))
    await upkeep(pg, NOW)
    september, october, november = (datetime(2026, month, 20, tzinfo=UTC) for month in (9, 10, 11))
    await store(pg, FAR_PAST, september, october, november, NOW, FAR_FUTURE)
    # 40 days before NOW is Oct 28: September ends before it, October after it (kept whole)
    done = await upkeep(pg, NOW, retention_days=40)
    assert done.dropped == 1
    assert set(await where_stored(pg)) == {october, november, NOW, FAR_FUTURE}
    async with pg.engine.connect() as connection:
        tables = await connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        )
        assert "meter_value_p202609" not in {name for (name,) in tables}
    await store(pg, NOW + timedelta(minutes=1))
    assert (await upkeep(pg, NOW, retention_days=40)).dropped == 0


@pytest.mark.postgres
async def test_a_one_day_query_reads_only_its_partition(pg: Database) -> None:
    await upkeep(pg, datetime(2026, 11, 1, tzinfo=UTC))
    await upkeep(pg, NOW)
    await store(pg, NOW, NOW - timedelta(days=30), FAR_PAST)
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM meter_value" in statement:
            statements.append((statement, parameters))

    day = MeterValueFilter(
        charge_point_id="CP1", since=NOW - timedelta(hours=1), until=NOW + timedelta(hours=23)
    )
    event.listen(pg.engine.sync_engine, "before_cursor_execute", seen)
    async with pg.session() as session:
        found = await SqlUnitOfWork(session).meter_values.list(Window(limit=100, offset=0), day)
        after = await SqlUnitOfWork(session).meter_values.after(day, 0, 100)
    event.remove(pg.engine.sync_engine, "before_cursor_execute", seen)
    assert [value.timestamp for value in found.items] == [value.timestamp for value in after] == [NOW]
    assert len(statements) == 3  # the count, the page, the CSV export's keyset page
    async with pg.engine.connect() as connection:
        for statement, parameters in statements:
            plan = "\n".join(
                line for (line,) in await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            )
            assert "meter_value_p202612" in plan
            assert "meter_value_p202611" not in plan
            assert "meter_value_default" not in plan


@pytest.mark.postgres
def test_the_migration_moves_every_row_into_partitions_and_back() -> None:
    if POSTGRES_URL is None:
        pytest.skip("partitions are PostgreSQL's: set SMARTCHARGE_TEST_POSTGRES_URL")
    with postgres_schema() as url:
        times = [FAR_PAST, datetime(2026, 10, 3, tzinfo=UTC), NOW, NOW + timedelta(seconds=1), FAR_FUTURE]
        before = migrate_with_rows(url, times)
        engine = create_engine(sync_url(url))
        with engine.connect() as connection:
            where = dict(
                connection.execute(text("SELECT id, tableoid::regclass::text FROM meter_value")).all()
            )
        engine.dispose()
        assert [where[row_id] for row_id, _ in before] == [
            "meter_value_p199901",
            "meter_value_p202610",
            "meter_value_p202612",
            "meter_value_p202612",
            "meter_value_p210001",
        ]
        downgrade(url, "0011")
        assert rows(url) == before
        upgrade(url, "head")
        assert rows(url) == before


def test_the_migration_keeps_every_row(database_url: str) -> None:
    before = migrate_with_rows(database_url, [FAR_PAST, NOW, FAR_FUTURE])
    engine = create_engine(sync_url(database_url))
    with engine.begin() as connection:  # the id sequence goes on where it was
        connection.execute(insert(meter_value_table).values(**sample_row("next", NOW)))
        assert connection.execute(text("SELECT max(id) FROM meter_value")).scalar_one() == before[-1][0] + 1
    engine.dispose()


def migrate_with_rows(url: str, times: list[datetime]) -> list[tuple[int, str]]:
    """Rows at `times` stored at revision 0011, then upgraded to head; (id, time) of the rows before."""
    upgrade(url, "0011")
    engine = create_engine(sync_url(url))
    with engine.begin() as connection:
        connection.execute(
            insert(charge_point_table).values(
                id="CP1", registration_status="Accepted", connected=False, created_at=NOW
            )
        )
        for n, at in enumerate(times):
            connection.execute(insert(meter_value_table).values(**sample_row(str(n), at)))
    engine.dispose()
    before = rows(url)
    assert len(before) == len(times)
    upgrade(url, "head")
    assert rows(url) == before
    return before


def sample_row(key: str, at: datetime) -> dict[str, Any]:
    return {
        "charge_point_id": "CP1",
        "connector_id": 1,
        "timestamp": at,
        "value": key,
        "context": "Sample.Periodic",
        "format": "Raw",
        "measurand": "Energy.Active.Import.Register",
        "location": "Outlet",
        "unit": "Wh",
        "source": "MeterValues",
        "dedup_key": f"{at:%Y%m%dT%H%M%S.%f}|{key}",
        "received_at": at,
    }


def rows(url: str) -> list[tuple[int, str]]:
    """(id, time to the second) of every row, by id."""
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT id, timestamp FROM meter_value ORDER BY id"))
            return [(row_id, str(at)[:19]) for row_id, at in found]
    finally:
        engine.dispose()


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite:///{tmp_path / 'test.db'}"
    engine = create_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    database = Database(create_async_engine(url))
    await seed.charge_point(database, "CP1")
    try:
        yield database
    finally:
        await database.dispose()


async def test_sqlite_retention_deletes_old_rows_in_batches(
    sqlite: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "SQLITE_BATCH_ROWS", 2)
    old = [NOW - timedelta(days=days) for days in (400, 300, 200, 100, 31)]
    assert await store(sqlite, FAR_PAST, *old, NOW - timedelta(days=29), NOW, FAR_FUTURE) == 9
    assert await upkeep(sqlite, NOW) == Upkept()  # no retention: everything kept
    assert await upkeep(sqlite, NOW, retention_days=30) == Upkept(deleted=6)
    assert set(await sampled(sqlite)) == {NOW - timedelta(days=29), NOW, FAR_FUTURE}
