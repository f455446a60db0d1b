"""Reservations, made and cancelled with the ReserveNow / CancelReservation commands."""

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import ClockDep, DriverDataReaderDep, UowDep
from app.api.errors import Problem
from app.api.schemas import Page, ReservationOut, RowId, problems
from app.api.support import ScopeDep, WindowDep, operation_id, paged
from app.domain.enums import ReservationStatus
from app.domain.ocpp import Reservation
from app.services.ocpp import reporting
from app.services.ocpp.reporting import ReservationFilter

router = APIRouter(
    prefix="/reservations",
    tags=["reservations"],
    responses=problems(401, 403, 422),
    generate_unique_id_function=operation_id,
)


def present(reservation: Reservation, now: datetime) -> ReservationOut:
    return ReservationOut.model_validate(
        {**asdict(reservation), "active": reporting.reservation_is_active(reservation, now)}
    )


@router.get("", summary="List reservations, newest first")
async def list_reservations(
    uow: UowDep,
    clock: ClockDep,
    _: DriverDataReaderDep,
    scope: ScopeDep,
    window: WindowDep,
    charge_point_id: str | None = None,
    id_tag: str | None = None,
    status: ReservationStatus | None = None,
    active: Annotated[bool | None, Query(description="accepted and not expired")] = None,
) -> Page[ReservationOut]:
    now = clock.now()
    filters = ReservationFilter(charge_point_id, id_tag, status.value if status else None, active, scope)
    page = await reporting.list_reservations(uow, window, filters, now=now)
    return paged([present(row, now) for row in page.items], page, window)


@router.get("/{reservation_id}", summary="A reservation", responses=problems(404))
async def get_reservation(
    reservation_id: RowId, uow: UowDep, clock: ClockDep, _: DriverDataReaderDep, scope: ScopeDep
) -> ReservationOut:
    reservation = await reporting.get_reservation(uow, reservation_id, scope=scope)
    if reservation is None:
        raise Problem(404, f"reservation {reservation_id} does not exist")
    return present(reservation, clock.now())
