"""Id tags, listed with the number of active transactions of each."""

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from app.db.repositories.base import Repository
from app.db.tables.ocpp import id_tag_table, transaction_table
from app.domain.ocpp import IdTag
from app.domain.paging import Found, Window
from app.domain.queries import IdTagFilter, IdTagView


class SqlIdTagRepository(Repository):
    async def get(self, id_tag: str) -> IdTag | None:
        return await self.session.get(IdTag, id_tag)

    async def add(self, tag: IdTag) -> bool:
        self.session.add(tag)
        try:
            await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def delete(self, tag: IdTag) -> None:
        await self.session.delete(tag)
        await self.session.flush()

    async def of_driver(self, driver_id: int) -> list[IdTag]:
        query = select(IdTag).where(id_tag_table.c.driver_id == driver_id).order_by(id_tag_table.c.id_tag)
        return list((await self.session.exec(query)).all())

    async def count_children(self, id_tag: str) -> int:
        query = select(func.count()).select_from(id_tag_table).where(id_tag_table.c.parent_id_tag == id_tag)
        return int(await self.session.scalar(query) or 0)

    async def list(self, window: Window, filters: IdTagFilter, *, now: datetime) -> Found[IdTagView]:
        active = _active_by_tag()
        count = func.coalesce(active.c.active, 0)
        table = id_tag_table.c
        query = select(IdTag, count).outerjoin(active, active.c.id_tag == table.id_tag).order_by(table.id_tag)
        if filters.search:
            query = query.where(
                or_(
                    table.id_tag.icontains(filters.search, autoescape=True),
                    table.note.icontains(filters.search, autoescape=True),
                )
            )
        if filters.blocked is not None:
            query = query.where(table.blocked == filters.blocked)
        if filters.expired is not None:
            is_expired = and_(table.expiry_date.is_not(None), table.expiry_date <= now)
            query = query.where(is_expired if filters.expired else ~is_expired)
        if filters.driver_id is not None:
            query = query.where(table.driver_id == filters.driver_id)
        if filters.in_transaction is not None:
            query = query.where(count > 0 if filters.in_transaction else count == 0)
        total = await self.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        rows = (await self.session.exec(query.limit(window.limit).offset(window.offset))).all()
        return Found([IdTagView(tag, int(n)) for tag, n in rows], total or 0)


def _active_by_tag() -> Any:
    return (
        select(transaction_table.c.id_tag.label("id_tag"), func.count().label("active"))
        .where(transaction_table.c.stop_timestamp.is_(None))
        .group_by(transaction_table.c.id_tag)
        .subquery()
    )
