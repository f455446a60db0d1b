"""Reservations as made with ReserveNow."""

from datetime import datetime

from app.domain.access import Scope
from app.domain.ocpp import Reservation
from app.domain.paging import Found, Window
from app.domain.persistence import UnitOfWork
from app.domain.queries import ReservationFilter
from app.services.ocpp.reservations import is_active as reservation_is_active

__all__ = ["get_reservation", "list_reservations", "reservation_is_active"]


async def list_reservations(
    uow: UnitOfWork, window: Window, filters: ReservationFilter, *, now: datetime
) -> Found[Reservation]:
    """Newest first."""
    return await uow.reservations.list(window, filters, now=now)


async def get_reservation(uow: UnitOfWork, reservation_id: int, *, scope: Scope = None) -> Reservation | None:
    reservation = await uow.reservations.get(reservation_id)
    if reservation is None or (scope is not None and reservation.charge_point_id not in scope):
        return None
    return reservation
