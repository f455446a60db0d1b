"""Meter values: inserted once per dedup key, read as series, and the energy register of transactions."""

from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, and_, func
from sqlmodel import select

from app.db.repositories.base import Repository, in_scope, of_site, page
from app.db.sql import insert_new_many
from app.db.tables.ocpp import meter_value_table
from app.domain.metering import COLUMNS, DEDUP_KEY, ENERGY_REGISTER, Row
from app.domain.ocpp import MeterValue
from app.domain.paging import Found, Window
from app.domain.queries import MeterValueFilter


class SqlMeterValueRepository(Repository):
    async def add_new(self, rows: Sequence[Row]) -> set[str]:
        return await insert_new_many(self.session, meter_value_table, COLUMNS, rows, DEDUP_KEY)

    async def latest_register_wh(self, transaction_ids: Collection[int]) -> dict[int, float]:
        if not transaction_ids:
            return {}
        table = meter_value_table.c
        register = [
            table.transaction_id.in_(transaction_ids),
            table.measurand == ENERGY_REGISTER,
            table.phase.is_(None),
            table.unit_normalised == "Wh",
            table.value_normalised.is_not(None),
        ]
        latest = (
            select(table.transaction_id.label("tx"), func.max(table.timestamp).label("ts"))
            .where(*register)
            .group_by(table.transaction_id)
            .subquery()
        )
        query = (
            select(table.transaction_id, func.max(table.value_normalised))
            .join(latest, and_(latest.c.tx == table.transaction_id, latest.c.ts == table.timestamp))
            .where(*register)
            .group_by(table.transaction_id)
        )
        found = (await self.session.exec(query)).all()
        return {tx: float(wh) for tx, wh in found if tx is not None and wh is not None}

    async def of_transaction(self, transaction_id: int) -> list[MeterValue]:
        query = (
            select(MeterValue)
            .where(meter_value_table.c.transaction_id == transaction_id)
            .order_by(meter_value_table.c.timestamp, meter_value_table.c.id)
        )
        return list((await self.session.exec(query)).all())

    async def after(self, filters: MeterValueFilter, meter_value_id: int, limit: int) -> list[MeterValue]:
        query = (
            select(MeterValue)
            .where(*_where(filters), meter_value_table.c.id > meter_value_id)
            .order_by(meter_value_table.c.id)
            .limit(limit)
        )
        return list((await self.session.exec(query)).all())

    async def list(self, window: Window, filters: MeterValueFilter) -> Found[MeterValue]:
        query = (
            select(MeterValue)
            .where(*_where(filters))
            .order_by(meter_value_table.c.timestamp, meter_value_table.c.id)
        )
        return await page(self.session, query, window)


def _where(filters: MeterValueFilter) -> list[ColumnElement[bool]]:
    table = meter_value_table.c
    clauses = in_scope(table.charge_point_id, filters.scope)
    if filters.charge_point_id is not None:
        clauses.append(table.charge_point_id == filters.charge_point_id)
    if filters.site_id is not None:
        clauses.append(table.charge_point_id.in_(of_site(filters.site_id)))
    if filters.connector_id is not None:
        clauses.append(table.connector_id == filters.connector_id)
    if filters.transaction_id is not None:
        clauses.append(table.transaction_id == filters.transaction_id)
    if filters.measurand is not None:
        clauses.append(table.measurand == filters.measurand)
    if filters.since is not None:
        clauses.append(table.timestamp >= filters.since)
    if filters.until is not None:
        clauses.append(table.timestamp < filters.until)
    return clauses
