"""The hot-path writes of `BatchedWrites`: each call hands its item to the group commit, which gives all
the items of one batch to one function here, so that they become one statement."""

from dataclasses import asdict
from typing import Any

from sqlalchemy import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.engine import Database
from app.db.tables.planning import profile_dispatch_table
from app.domain.planning import ProfileDispatch


class SqlBatchedWrites:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def record_dispatch(self, dispatch: ProfileDispatch) -> None:
        await self._database.run_bulk(_insert_dispatches, dispatch)


async def _insert_dispatches(session: AsyncSession, dispatches: list[ProfileDispatch]) -> list[None]:
    """Many `ProfileDispatch` rows as one Core executemany INSERT (no ORM object per row)."""
    rows: list[dict[str, Any]] = [asdict(dispatch) for dispatch in dispatches]
    for row in rows:
        del row["id"]
    await session.exec(insert(profile_dispatch_table), params=rows)
    return [None] * len(rows)
