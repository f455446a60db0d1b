"""Reservations: made by ReserveNow, claimed by a StartTransaction, cancelled, expired."""

import logging
from datetime import datetime
from typing import Any

from app.domain.clock import as_utc
from app.domain.enums import ReservationStatus
from app.domain.messages import ReservationRequest
from app.domain.ocpp import Reservation
from app.domain.persistence import UnitOfWork
from app.services.ocpp.authorisation import authorise, parent_of

log = logging.getLogger(__name__)

ACTIVE = ReservationStatus.accepted.value
OPEN = frozenset({ReservationStatus.requested.value, ReservationStatus.accepted.value})


class ReservationConflict(Exception):
    """The requested reservationId names a reservation it may not replace: another charge point's, another
    tag's, or one no longer open (used, cancelled, rejected, expired)."""


class TagRefused(Exception):
    """The tag of a ReserveNow is not one that may charge now: unknown, blocked or expired."""


def is_active(reservation: Reservation, now: datetime) -> bool:
    """Accepted and not expired."""
    return reservation.status == ACTIVE and as_utc(reservation.expiry_date) > now


async def reserve(
    uow: UnitOfWork, charge_point_id: str, request: ReservationRequest, command_id: int, now: datetime
) -> Reservation:
    """Create the reservation, or replace the open one of this charge point and tag that has its
    reservationId (OCPP 1.6 §5.13: the charge point replaces a reservation with the same id). Any other
    reservation with that id is a `ReservationConflict`: it is never replaced in passing. The tag must be
    one that may charge (else `TagRefused`). Without a reservationId the database allocates one.
    """
    status = (await authorise(uow, request.id_tag, now, check_concurrency=False)).status
    if status != "Accepted":
        raise TagRefused(f"idTag {request.id_tag!r} may not reserve: {status}")
    fields: dict[str, Any] = {
        "charge_point_id": charge_point_id,
        "connector_id": request.connector_id,
        "id_tag": request.id_tag,
        "parent_id_tag": request.parent_id_tag,
        "expiry_date": request.expiry_date,
        "status": ReservationStatus.requested,
        "command_id": command_id,
        "transaction_id": None,
    }
    reservation_id = request.reservation_id
    reservation = await uow.reservations.get(reservation_id) if reservation_id is not None else None
    if reservation is None:
        reservation = Reservation(id=reservation_id, created_at=now, **fields)
        await uow.reservations.add(reservation)
        return reservation
    if reservation.charge_point_id != charge_point_id:
        raise ReservationConflict(f"reservationId {reservation_id} belongs to another charge point")
    if reservation.id_tag != request.id_tag:
        raise ReservationConflict(f"reservationId {reservation_id} is another tag's: cancel it first")
    if reservation.status not in OPEN or as_utc(reservation.expiry_date) <= now:
        state = reservation.status if reservation.status not in OPEN else "expired"
        raise ReservationConflict(
            f"reservationId {reservation_id} is {state}: leave reservationId out for a new reservation"
        )
    for name, value in fields.items():
        setattr(reservation, name, value)
    await uow.flush()
    return reservation


async def claimed(uow: UnitOfWork, charge_point_id: str, reservation_id: int | None) -> Reservation | None:
    """The open reservation a StartTransaction claims, when it is this charge point's."""
    if reservation_id is None:
        return None
    reservation = await uow.reservations.get(reservation_id)
    if reservation is None or reservation.charge_point_id != charge_point_id:
        log.warning("%s: StartTransaction with unknown reservation %d", charge_point_id, reservation_id)
        return None
    if reservation.status in (ReservationStatus.cancelled, ReservationStatus.used):
        return None
    return reservation


async def may_use(uow: UnitOfWork, reservation: Reservation, id_tag: str) -> bool:
    """The reserved tag itself, or a tag whose parent is the reservation's parent tag (OCPP 1.6 §5.13)."""
    if reservation.id_tag == id_tag:
        return True
    parent = await parent_of(uow, id_tag)
    return parent is not None and parent in (reservation.parent_id_tag, reservation.id_tag)


async def expire_reservations(uow: UnitOfWork, now: datetime) -> int:
    """Mark requested/accepted reservations past their expiry as expired; returns how many."""
    return await uow.reservations.expire(now)
