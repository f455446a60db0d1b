"""What every repository shares: the unit of work's session and paging."""

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Executable, Row, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from app.db.tables.ocpp import charge_point_table
from app.domain.paging import Found, Window

T = TypeVar("T")


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def fetch_rows(self, query: Executable) -> Sequence[Row[Any]]:
        """The rows of a Core query of plain columns (no ORM objects; any number of columns), on the
        session's connection: pending changes are flushed first."""
        if self.session.new or self.session.dirty or self.session.deleted:
            await self.session.flush()
        return (await (await self.session.connection()).execute(query)).all()


async def page(session: AsyncSession, query: SelectOfScalar[T], window: Window) -> Found[T]:
    """One window of `query`'s rows and how many it matches in all."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = (await session.exec(query.limit(window.limit).offset(window.offset))).all()
    return Found(list(rows), total or 0)


def in_scope(column: Any, scope: frozenset[str] | None) -> list[Any]:
    """The condition that `column` is one of `scope`'s ids (none when the scope is everything)."""
    return [] if scope is None else [column.in_(scope)]


def of_site(site_id: int) -> Any:
    """The ids of the charge points in a site now (a subquery for `column.in_(...)`)."""
    return select(charge_point_table.c.id).where(charge_point_table.c.site_id == site_id)
