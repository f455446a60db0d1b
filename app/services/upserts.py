"""`INSERT … ON CONFLICT DO NOTHING` for SQLite and PostgreSQL: race-safe creation and idempotent writes."""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession


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
        await session.exec(insert_ignore(session, table, rows, conflict))
