"""Fewer round trips to PostgreSQL, the same guarantees: a pooled connection is pinged only when it sat idle
or the server hung up on it (and one the server closed is replaced, never handed out); reads run without a
transaction around them; a single one-statement write runs as its own transaction, durable once it
returns; and none of it leaks into the transactions that follow on the same connection."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.db import batched, engine
from app.db.engine import Database, create_engine, sync_url
from app.domain.messages import NewCommand
from app.domain.ocpp import ChargePoint
from tests.conftest import POSTGRES_URL
from tests.gateway.helpers import eventually

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(POSTGRES_URL is None, reason="PostgreSQL's: set SMARTCHARGE_TEST_POSTGRES_URL"),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def postgres(migrated_url: str) -> AsyncIterator[Database]:
    """A `Database` on PostgreSQL whose pool keeps one connection (so each session reuses it)."""
    database = Database(create_engine(migrated_url, pool_size=1))
    try:
        yield database
    finally:
        await database.dispose()


async def sql(session: Any, query: str, **params: Any) -> Any:
    return await (await session.connection()).execute(text(query), params)


async def backend_pid(database: Database) -> int:
    async with database.session() as session:
        return int((await sql(session, "SELECT pg_backend_pid()")).scalar_one())


def pings(database: Database) -> list[None]:
    """Count the pool's pings of `database` from now on."""
    dialect: Any = database.engine.dialect
    counted: list[None] = []
    original = dialect.do_ping

    def do_ping(dbapi_connection: Any) -> bool:
        counted.append(None)
        return bool(original(dbapi_connection))

    dialect.do_ping = do_ping
    return counted


async def stored_commands(database: Database) -> int:
    async with database.session() as session:
        return int((await sql(session, "SELECT count(*) FROM command")).scalar_one())


async def add_charge_point(database: Database, cp_id: str) -> None:
    async with database.session() as session:
        session.add(ChargePoint(id=cp_id))


async def add_then_fail(database: Database, cp_id: str) -> None:
    async with database.session() as session:
        session.add(ChargePoint(id=cp_id))
        await session.flush()
        raise RuntimeError("roll back")


async def test_a_connection_used_a_moment_ago_goes_out_without_a_ping(
    postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "PING_IDLE_S", 3600.0)  # "a moment ago", however slow the machine
    first = await backend_pid(postgres)
    counted = pings(postgres)
    assert await backend_pid(postgres) == first
    assert counted == []


async def test_a_connection_the_server_closed_is_replaced_not_handed_out(
    postgres: Database, migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "PING_IDLE_S", 3600.0)  # not idle for long: only the hang-up tells
    pid = await backend_pid(postgres)
    admin = create_sync_engine(sync_url(migrated_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
            alive = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
            await eventually(lambda: connection.execute(alive, {"pid": pid}).scalar() == 0, timeout_s=10)
    finally:
        admin.dispose()
    counted = pings(postgres)
    assert await backend_pid(postgres) != pid
    assert counted, "the closed connection was pinged, failed, and was replaced"


async def test_reads_run_without_a_transaction_and_leave_none_behind(postgres: Database) -> None:
    await add_charge_point(postgres, "CP1")
    async with postgres.reading() as session:
        await sql(session, "SELECT 1")
        # each statement is a transaction of its own: its start is the transaction's
        own = await sql(session, "SELECT now() = statement_timestamp()")
        assert own.scalar_one() is True
    # the same connection is transactional again: a failed unit of work stores nothing
    with pytest.raises(RuntimeError):
        await add_then_fail(postgres, "CP2")
    async with postgres.reading() as session:
        found = await sql(session, "SELECT id FROM charge_point ORDER BY id")
        assert list(found.scalars()) == ["CP1"]


async def test_a_single_write_is_its_own_transaction_and_durable_when_it_returns(postgres: Database) -> None:
    await add_charge_point(postgres, "CP1")
    before = postgres.group_commit.stats.alone
    command = NewCommand("CP1", "GetConfiguration", {}, "operator", NOW)
    command_id = await postgres.run_bulk(batched.create_commands, command)
    assert postgres.group_commit.stats.alone == before + 1
    async with postgres.reading() as session:  # committed: anyone reads it now
        found = await sql(session, "SELECT status FROM command WHERE id = :id", id=command_id)
        assert found.scalar_one() == "pending"
    await postgres.run_bulk(batched.commands_sent, (command_id, NOW))
    async with postgres.reading() as session:
        found = await sql(session, "SELECT sent_at FROM command WHERE id = :id", id=command_id)
        assert found.scalar_one() == NOW


async def test_a_single_write_that_fails_stores_nothing_and_its_caller_hears_why(postgres: Database) -> None:
    unknown = NewCommand("NOT-REGISTERED", "GetConfiguration", {}, "operator", NOW)
    with pytest.raises(IntegrityError):
        await postgres.run_bulk(batched.create_commands, unknown)
    assert await stored_commands(postgres) == 0
    # and the connection it used is transactional again for the next batch of several units
    await add_charge_point(postgres, "CP1")
    new = [NewCommand("CP1", "GetConfiguration", {}, "operator", NOW) for _ in range(3)]
    ids = await asyncio.gather(*(postgres.run_bulk(batched.create_commands, c) for c in new))
    assert len(set(ids)) == 3
    assert await stored_commands(postgres) == 3
