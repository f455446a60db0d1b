"""Charging transactions: started once per identical StartTransaction, stopped once."""

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, update
from sqlmodel import select

from app.db.repositories.base import Repository, in_scope, of_site, page
from app.db.sql import insert_ignore_returning
from app.db.tables.ocpp import transaction_table
from app.domain.ocpp import Transaction
from app.domain.paging import Found, Window
from app.domain.queries import TransactionFilter

# What makes two StartTransactions the same (unique in the table).
START_KEY = ("charge_point_id", "connector_id", "id_tag", "start_timestamp", "meter_start_wh")
START_FIELDS = (*START_KEY, "id_tag_status", "reservation_id", "start_received_at")


class SqlTransactionRepository(Repository):
    async def get(self, transaction_id: int) -> Transaction | None:
        return await self.session.get(Transaction, transaction_id)

    async def find_start(
        self, charge_point_id: str, connector_id: int, id_tag: str, timestamp: datetime, meter_start_wh: int
    ) -> Transaction | None:
        table = transaction_table.c
        query = select(Transaction).where(
            table.charge_point_id == charge_point_id,
            table.connector_id == connector_id,
            table.id_tag == id_tag,
            table.start_timestamp == timestamp,
            table.meter_start_wh == meter_start_wh,
        )
        return (await self.session.exec(query)).first()

    async def add_start(self, transaction: Transaction) -> int | None:
        row = {name: getattr(transaction, name) for name in START_FIELDS}
        inserted = await insert_ignore_returning(
            self.session, transaction_table, [row], START_KEY, transaction_table.c.id
        )
        return int(inserted[0]) if inserted else None

    async def stop(
        self,
        transaction_id: int,
        *,
        timestamp: datetime,
        meter_stop_wh: int,
        reason: str,
        id_tag: str | None,
        now: datetime,
    ) -> bool:
        table = transaction_table.c
        result: Any = await self.session.exec(
            update(Transaction)
            .where(table.id == transaction_id, table.stop_timestamp.is_(None))
            .values(
                stop_timestamp=timestamp,
                meter_stop_wh=meter_stop_wh,
                stop_reason=reason,
                stop_id_tag=id_tag,
                stop_received_at=now,
            )
        )
        return bool(result.rowcount)

    async def count_active(self, id_tag: str, *, exclude_transaction_id: int | None = None) -> int:
        table = transaction_table.c
        query = select(func.count()).where(table.id_tag == id_tag, table.stop_timestamp.is_(None))
        if exclude_transaction_id is not None:
            query = query.where(table.id != exclude_transaction_id)
        return (await self.session.exec(query)).one()

    async def count_of_charge_point(self, charge_point_id: str) -> int:
        query = (
            select(func.count())
            .select_from(transaction_table)
            .where(transaction_table.c.charge_point_id == charge_point_id)
        )
        return int(await self.session.scalar(query) or 0)

    async def after(self, filters: TransactionFilter, transaction_id: int, limit: int) -> list[Transaction]:
        query = (
            select(Transaction)
            .where(*_where(filters), transaction_table.c.id > transaction_id)
            .order_by(transaction_table.c.id)
            .limit(limit)
        )
        return list((await self.session.exec(query)).all())

    async def list(self, window: Window, filters: TransactionFilter) -> Found[Transaction]:
        query = select(Transaction).where(*_where(filters)).order_by(transaction_table.c.id.desc())
        return await page(self.session, query, window)


def _where(filters: TransactionFilter) -> list[ColumnElement[bool]]:
    table = transaction_table.c
    clauses = in_scope(table.charge_point_id, filters.scope)
    if filters.charge_point_id is not None:
        clauses.append(table.charge_point_id == filters.charge_point_id)
    if filters.site_id is not None:
        clauses.append(table.charge_point_id.in_(of_site(filters.site_id)))
    if filters.connector_id is not None:
        clauses.append(table.connector_id == filters.connector_id)
    if filters.id_tag is not None:
        clauses.append(table.id_tag == filters.id_tag)
    if filters.since is not None:
        clauses.append(or_(table.stop_timestamp.is_(None), table.stop_timestamp >= filters.since))
    if filters.until is not None:
        clauses.append(table.start_timestamp < filters.until)
    if filters.active is not None:
        clauses.append(
            table.stop_timestamp.is_(None) if filters.active else table.stop_timestamp.is_not(None)
        )
    return clauses
