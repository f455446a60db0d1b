"""Drivers, the people who own id tags, listed with their tags."""

from sqlalchemy import exists, func, or_
from sqlmodel import select

from app.db.repositories.base import Repository
from app.db.tables.ocpp import driver_table, id_tag_table
from app.domain.ocpp import Driver
from app.domain.paging import Found, Window
from app.domain.queries import DriverView


class SqlDriverRepository(Repository):
    async def get(self, driver_id: int) -> Driver | None:
        return await self.session.get(Driver, driver_id)

    async def add(self, driver: Driver) -> None:
        self.session.add(driver)
        await self.session.flush()

    async def delete(self, driver: Driver) -> None:
        await self.session.delete(driver)
        await self.session.flush()

    async def list(self, window: Window, *, search: str | None = None) -> Found[DriverView]:
        table = driver_table.c
        query = select(Driver).order_by(func.lower(table.name), table.id)
        if search:
            owns = exists().where(
                id_tag_table.c.driver_id == table.id,
                id_tag_table.c.id_tag.icontains(search, autoescape=True),
            )
            columns = (table.name, table.email, table.phone, table.note)
            query = query.where(or_(owns, *(column.icontains(search, autoescape=True) for column in columns)))
        total = await self.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        drivers = list((await self.session.exec(query.limit(window.limit).offset(window.offset))).all())
        ids = [driver.id for driver in drivers]
        tags: dict[int, list[str]] = {}
        if ids:
            rows = await self.fetch_rows(
                select(id_tag_table.c.driver_id, id_tag_table.c.id_tag)
                .where(id_tag_table.c.driver_id.in_(ids))
                .order_by(id_tag_table.c.id_tag)
            )
            for driver_id, id_tag in rows:
                tags.setdefault(driver_id, []).append(id_tag)
        return Found([DriverView(d, tags.get(d.id or 0, [])) for d in drivers], total or 0)
