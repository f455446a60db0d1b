"""`INSERT … ON CONFLICT DO NOTHING` for SQLite and PostgreSQL: race-safe creation and idempotent writes."""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import CursorResult, Executable, Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession


async def execute_core(session: AsyncSession, statement: Executable, params: Any = None) -> CursorResult[Any]:
    """Execute a Core statement on the session's connection, past the ORM's per-statement execute path
    (which costs more than a hot-path statement itself); pending ORM changes are flushed first, as
    autoflush would."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    connection = await session.connection()
    return await connection.execute(statement, params)


def insert_ignore(
    session: AsyncSession, table: type[SQLModel], rows: Sequence[Mapping[str, Any]], conflict: Sequence[str]
) -> Insert:
    """An insert of `rows` that skips rows colliding on the unique columns `conflict`."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).values(list(rows))
    return statement.on_conflict_do_nothing(index_elements=list(conflict))  # type: ignore[no-any-return]


async def insert_ignore_returning(
    session: AsyncSession,
    table: type[SQLModel],
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    returning: Any,
) -> list[Any]:
    """Insert, skipping conflicts; return `returning` for the rows actually inserted."""
    if not rows:
        return []
    result = await session.exec(insert_ignore(session, table, rows, conflict).returning(returning))
    return list(result.scalars().all())


async def execute_insert_ignore(
    session: AsyncSession, table: type[SQLModel], rows: Sequence[Mapping[str, Any]], conflict: Sequence[str]
) -> None:
    if rows:
        await execute_core(session, insert_ignore(session, table, rows, conflict))


async def insert_ignore_many(
    session: AsyncSession,
    table: type[SQLModel],
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    returning: str,
) -> list[Any]:
    """`insert_ignore_returning` as an executemany of one cached single-row statement (SQLAlchemy's
    "insertmanyvalues" sends it in multi-row batches): no per-call compilation of a statement with a
    parameter for every value, which costs more than the insert itself for hundreds of rows.
    """
    if not rows:
        return []
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module: Any = postgresql if dialect == "postgresql" else sqlite
    core = table.__table__  # type: ignore[attr-defined]
    statement = module.insert(core).on_conflict_do_nothing(index_elements=list(conflict))
    result = await execute_core(session, statement.returning(core.c[returning]), list(rows))
    return list(result.scalars().all())
