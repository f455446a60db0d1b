"""Transactions as planning sees them: the demand set for them, their site, their tag's history."""

from collections.abc import Collection

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import select

from app.db.repositories.base import Repository
from app.db.tables.ocpp import charge_point_table, transaction_table
from app.db.tables.planning import session_demand_table, site_table
from app.domain.ocpp import ChargePoint, Transaction
from app.domain.planning import SessionDemand, Site
from app.domain.repositories.planning import PastSession, SessionContext

_tx = transaction_table.c


class SqlDemandRepository(Repository):
    async def get(self, transaction_id: int) -> SessionDemand | None:
        return await self.session.get(SessionDemand, transaction_id)

    def add(self, demand: SessionDemand) -> None:
        self.session.add(demand)

    async def delete(self, demand: SessionDemand) -> None:
        await self.session.delete(demand)

    async def sessions(self, transaction_ids: Collection[int]) -> list[SessionContext]:
        if not transaction_ids:
            return []
        query = (
            select(Transaction, SessionDemand, Site)
            .join(SessionDemand, session_demand_table.c.transaction_id == _tx.id, isouter=True)
            .join(ChargePoint, charge_point_table.c.id == _tx.charge_point_id)
            .join(Site, site_table.c.id == charge_point_table.c.site_id, isouter=True)
            .where(_tx.id.in_(list(transaction_ids)))
        )
        return [SessionContext(*row) for row in (await self.session.exec(query)).all()]

    async def past_sessions(self, id_tags: Collection[str], last: int) -> list[PastSession]:
        if not id_tags:
            return []
        ranked = (
            sa_select(
                _tx.id_tag,
                _tx.start_timestamp,
                _tx.stop_timestamp,
                (_tx.meter_stop_wh - _tx.meter_start_wh).label("energy_wh"),
                func.row_number()
                .over(partition_by=_tx.id_tag, order_by=_tx.stop_timestamp.desc())
                .label("n"),
            )
            .where(
                _tx.id_tag.in_(list(id_tags)), _tx.stop_timestamp.is_not(None), _tx.meter_stop_wh.is_not(None)
            )
            .subquery()
        )
        c = ranked.c
        query = select(c.id_tag, c.start_timestamp, c.stop_timestamp, c.energy_wh).where(c.n <= last)
        return [PastSession(*row) for row in (await self.session.exec(query)).all()]
