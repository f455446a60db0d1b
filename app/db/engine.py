"""Engine factory and session scope. Built by the composition root, never at import."""

import select
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import PoolResetState
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.group_commit import Bulk, GroupCommitter, Unit

I = TypeVar("I")  # noqa: E741
T = TypeVar("T")

# Writer tasks of the group commit on PostgreSQL (SQLite has one connection, so one writer).
POSTGRES_WRITERS = 4
# A PostgreSQL connection taken from the pool is pinged first (one round trip) when it sat there longer than
# this, or when the server has hung up on it meanwhile (its socket is readable while nothing is asked).
PING_IDLE_S = 1.0


def async_url(url: str) -> str:
    """Map a plain database URL to its asyncio driver (sqlite → aiosqlite, postgresql → psycopg)."""
    parsed = make_url(url)
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}.get(parsed.drivername)
    return parsed.set(drivername=driver).render_as_string(hide_password=False) if driver else url


def sync_url(url: str) -> str:
    """Map a database URL to a synchronous driver (for Alembic)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    driver = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}.get(backend, parsed.drivername)
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_reset(dbapi_connection: Any, _record: Any, reset_state: PoolResetState) -> None:
    """The pool's rollback when a connection comes back, only when SQLite says a transaction is open.

    After a commit there is nothing to roll back, and on aiosqlite the rollback is one more hand-off to the
    driver's thread and back behind every callback the event loop has queued: one per group-commit batch
    and per session. (As in the pool's own reset, nothing is done for a connection collected outside the
    event loop: it cannot be awaited there, and the pool terminates it.)"""
    if not reset_state.asyncio_safe:
        return
    if dbapi_connection.driver_connection.in_transaction:
        dbapi_connection.rollback()


def create_engine(url: str, *, echo: bool = False, pool_size: int = 20) -> AsyncEngine:
    url = async_url(url)
    if is_sqlite(url):
        # SQLite serialises writers anyway; one connection avoids SQLITE_BUSY on lock upgrades.
        engine = create_async_engine(
            url, echo=echo, pool_size=1, max_overflow=0, pool_timeout=60, pool_reset_on_return=None
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "reset", _sqlite_reset)
        return engine
    engine = create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_timeout=30)
    _ping_when_stale(engine)
    return engine


def _ping_when_stale(engine: AsyncEngine) -> None:
    """The pool's pre-ping, for the connections that need it: one that was in use a moment ago and that the
    server has not hung up on (a restart, `pg_terminate_backend`, an idle timeout: the server says so and
    closes the socket, which becomes readable) is handed out as it is, without a round trip before every
    transaction. One that fails its ping is replaced (`DisconnectionError`: the pool connects afresh)."""
    dialect = engine.dialect

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        recent = idle_since is not None and time.monotonic() - idle_since < PING_IDLE_S
        if recent and not _hung_up(dbapi_connection):
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError(f"the connection failed its ping: {error!r}") from error

    event.listen(engine.sync_engine, "connect", checkin)  # new: it answered just now
    event.listen(engine.sync_engine, "checkin", checkin)
    event.listen(engine.sync_engine, "checkout", checkout)


def _hung_up(dbapi_connection: Any) -> bool:
    """Whether the server has sent anything on a connection nobody is using: a goodbye (or it is closed)."""
    try:
        poller = select.poll()  # not select(): a gateway's sockets go past FD_SETSIZE
        poller.register(dbapi_connection.driver_connection.pgconn.socket, select.POLLIN)
        return bool(poller.poll(0))
    except Exception:
        return True


class Database:
    """Holds the engine. `session()` is the unit of work: commits on success, rolls back on error.

    `run(unit)` is the same for hot paths (OCPP messages, commands), group-committed with the units of
    other callers: one transaction per batch instead of one per message (see `app.db.group_commit`).
    """

    def __init__(self, engine: AsyncEngine, *, on_batch: Callable[[float, int], None] | None = None) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        postgres = engine.dialect.name == "postgresql"
        writers = POSTGRES_WRITERS if postgres else 1
        self._autocommit_reads = postgres
        self.group_commit = GroupCommitter(
            self._sessions, writers=writers, on_batch=on_batch, autocommit_alone=postgres
        )

    async def run(self, unit: Unit[T]) -> T:
        """Run `unit(session)` in a group-committed transaction; returns its result after the commit."""
        return await self.group_commit.run(unit)

    async def run_bulk(self, bulk: Bulk[I, T], item: I) -> T:
        """Hand `item` to `bulk(session, items)` with the other callers' items, group-committed."""
        return await self.group_commit.run_bulk(bulk, item)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads. On PostgreSQL its statements run without a transaction around them
        (autocommit): each sees what was committed when it ran, as in a READ COMMITTED transaction, without
        the BEGIN and COMMIT round trips. Nothing written in it is atomic: writes go in `session()`."""
        if not self._autocommit_reads:
            async with self.session() as session:
                yield session
            return
        async with self._sessions() as session:
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            yield session

    async def dispose(self) -> None:
        await self.group_commit.aclose()
        await self.engine.dispose()
