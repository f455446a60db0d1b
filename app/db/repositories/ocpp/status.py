"""The counts of the status summary."""

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, func
from sqlmodel import select

from app.db.repositories.base import Repository, in_scope
from app.db.repositories.ocpp.commands import active_reservation
from app.db.tables.ocpp import (
    charge_point_table,
    connector_table,
    id_tag_table,
    reservation_table,
    transaction_table,
)
from app.domain.access import Scope
from app.domain.enums import RegistrationStatus
from app.domain.queries import StatusSummary


class SqlStatusRepository(Repository):
    async def summary(self, *, now: datetime, connected_ids: Collection[str], scope: Scope) -> StatusSummary:
        charge_points = charge_point_table.c
        scoped = in_scope(charge_points.id, scope)
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        yesterday = today - timedelta(days=1)
        beat = charge_points.last_heartbeat_at
        return StatusSummary(
            charge_points=await self._count(charge_point_table, *scoped),
            connected_charge_points=await self._count(
                charge_point_table, *scoped, charge_points.id.in_(connected_ids)
            ),
            pending_charge_points=await self._count(
                charge_point_table,
                *scoped,
                charge_points.registration_status == RegistrationStatus.pending.value,
            ),
            id_tags=await self._count(id_tag_table),
            active_transactions=await self._count(
                transaction_table,
                transaction_table.c.stop_timestamp.is_(None),
                *in_scope(transaction_table.c.charge_point_id, scope),
            ),
            active_reservations=await self._count(
                reservation_table,
                active_reservation(now),
                *in_scope(reservation_table.c.charge_point_id, scope),
            ),
            connectors_by_status=await self._connectors_by_status(scope),
            heartbeats={
                "today": await self._count(charge_point_table, *scoped, beat >= today),
                "yesterday": await self._count(charge_point_table, *scoped, beat >= yesterday, beat < today),
                "earlier": await self._count(charge_point_table, *scoped, beat < yesterday),
                "never": await self._count(charge_point_table, *scoped, beat.is_(None)),
            },
        )

    async def _count(self, table: Table, *where: ColumnElement[bool] | Any) -> int:
        return (await self.session.scalar(select(func.count()).select_from(table).where(*where))) or 0

    async def _connectors_by_status(self, scope: Scope) -> dict[str, int]:
        """Connectors (not connector 0) by last status; `Unknown` for those that reported none."""
        by_status = (
            select(connector_table.c.status, func.count())
            .where(connector_table.c.connector_id > 0, *in_scope(connector_table.c.charge_point_id, scope))
            .group_by(connector_table.c.status)
        )
        connectors: dict[str, int] = {}
        for status, n in (await self.session.exec(by_status)).all():
            connectors[status or "Unknown"] = connectors.get(status or "Unknown", 0) + n
        return connectors
