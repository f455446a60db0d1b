"""What the central system sent: commands, the reservations ReserveNow makes, DataTransfer messages."""

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, text, update
from sqlmodel import select

from app.db.repositories.base import Repository, in_scope, page
from app.db.tables.ocpp import command_table, reservation_table
from app.domain.enums import CommandStatus, ReservationStatus
from app.domain.ocpp import Command, DataTransfer, Reservation
from app.domain.paging import Found, Window
from app.domain.queries import CommandFilter, ReservationFilter

# PostgreSQL: an explicit id does not advance the serial sequence; this keeps it ahead of the largest id.
ADVANCE_RESERVATION_IDS = text(
    "SELECT setval(pg_get_serial_sequence('reservation', 'id'), "
    "GREATEST((SELECT MAX(id) FROM reservation), 1))"
)


class SqlCommandRepository(Repository):
    def add(self, command: Command) -> None:
        self.session.add(command)

    async def get(self, command_id: int) -> Command | None:
        return await self.session.get(Command, command_id)

    async def fail_pending(self, now: datetime, charge_point_ids: Collection[str] | None = None) -> int:
        which = command_table.c.status == CommandStatus.pending
        if charge_point_ids is not None:
            which = and_(which, command_table.c.charge_point_id.in_(list(charge_point_ids)))
        result: Any = await self.session.exec(
            update(Command)
            .where(which)
            .values(
                status=CommandStatus.error,
                error_code="Interrupted",
                error_description="the gateway stopped before an answer came",
                completed_at=now,
            )
        )
        return int(result.rowcount)

    async def list(self, window: Window, filters: CommandFilter) -> Found[Command]:
        table = command_table.c
        query = (
            select(Command).where(*in_scope(table.charge_point_id, filters.scope)).order_by(table.id.desc())
        )
        if filters.charge_point_id is not None:
            query = query.where(table.charge_point_id == filters.charge_point_id)
        if filters.action is not None:
            query = query.where(table.action == filters.action)
        if filters.status is not None:
            query = query.where(table.status == filters.status)
        if filters.since is not None:
            query = query.where(table.created_at >= filters.since)
        if filters.until is not None:
            query = query.where(table.created_at < filters.until)
        return await page(self.session, query, window)


class SqlReservationRepository(Repository):
    async def get(self, reservation_id: int) -> Reservation | None:
        return await self.session.get(Reservation, reservation_id)

    async def add(self, reservation: Reservation) -> None:
        chosen_id = reservation.id is not None
        self.session.add(reservation)
        await self.session.flush()
        bind = self.session.bind
        if chosen_id and bind is not None and bind.dialect.name == "postgresql":
            await self.session.exec(ADVANCE_RESERVATION_IDS)  # type: ignore[call-overload]

    async def expire(self, now: datetime) -> int:
        result: Any = await self.session.exec(
            update(Reservation)
            .where(
                reservation_table.c.status.in_([ReservationStatus.requested, ReservationStatus.accepted]),
                reservation_table.c.expiry_date < now,
            )
            .values(status=ReservationStatus.expired)
        )
        return int(result.rowcount)

    async def list(self, window: Window, filters: ReservationFilter, *, now: datetime) -> Found[Reservation]:
        table = reservation_table.c
        query = (
            select(Reservation)
            .where(*in_scope(table.charge_point_id, filters.scope))
            .order_by(table.created_at.desc(), table.id.desc())
        )
        if filters.charge_point_id is not None:
            query = query.where(table.charge_point_id == filters.charge_point_id)
        if filters.id_tag is not None:
            query = query.where(table.id_tag == filters.id_tag)
        if filters.status is not None:
            query = query.where(table.status == filters.status)
        if filters.active is not None:
            query = query.where(active_reservation(now) if filters.active else ~active_reservation(now))
        return await page(self.session, query, window)


def active_reservation(now: datetime) -> ColumnElement[bool]:
    """Accepted and not expired at `now` (`app.services.ocpp.reservations.is_active` in SQL)."""
    return and_(
        reservation_table.c.status == ReservationStatus.accepted.value, reservation_table.c.expiry_date > now
    )


class SqlDataTransferRepository(Repository):
    def add(self, transfer: DataTransfer) -> None:
        self.session.add(transfer)
