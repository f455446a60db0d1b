"""Repositories of the central system."""

from collections.abc import Collection

from sqlmodel import select

from app.db.repositories.base import Repository
from app.db.tables.ocpp import charge_point_table


class SqlChargePointRepository(Repository):
    async def ids_in_sites(self, site_ids: Collection[int]) -> list[str]:
        query = select(charge_point_table.c.id).where(charge_point_table.c.site_id.in_(site_ids))
        return list((await self.session.exec(query)).all())


class SqlIdTagRepository(Repository):
    pass


class SqlTransactionRepository(Repository):
    pass


class SqlMeterValueRepository(Repository):
    pass


class SqlCommandRepository(Repository):
    pass


class SqlReservationRepository(Repository):
    pass


class SqlDataTransferRepository(Repository):
    pass


class SqlStatusRepository(Repository):
    pass
