"""Reservations: the list, newest first, with filters (charge point, id tag, status, active), as
`GET /reservations` lists them for the viewer; admins and operators reach the CancelReservation form of an
active one. Reservations carry drivers' id tags: not a grid operator's to see (as in the API)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.api.deps import ClockDep, StoreDep
from app.console.auth import ConsoleUser
from app.console.templating import render
from app.domain.enums import ReservationStatus
from app.domain.paging import Window
from app.domain.queries import ReservationFilter
from app.services.access import charge_point_scope
from app.services.ocpp import reporting

router = APIRouter(include_in_schema=False)

PAGE = 50


@router.get("/reservations")
async def reservation_list(
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    clock: ClockDep,
    charge_point: str = "",
    id_tag: str = "",
    status: str = "",
    offset: int = 0,
) -> HTMLResponse:
    if not viewer.sees_driver_data:
        detail = "Reservations carry drivers' id tags: they are not shown to the grid_operator role."
        return render(request, "error.html", 403, viewer=viewer, title="Not allowed", detail=detail)
    offset, now = max(0, offset), clock.now()
    statuses = [s.value for s in ReservationStatus]
    async with store.unit_of_work() as uow:
        filters = ReservationFilter(
            charge_point_id=charge_point.strip() or None,
            id_tag=id_tag.strip() or None,
            status=status if status in statuses else None,
            active=True if status == "active" else None,
            scope=await charge_point_scope(uow, viewer.principal),
        )
        found = await reporting.list_reservations(uow, Window(PAGE, offset), filters, now=now)
    return render(
        request,
        "reservations.html",
        viewer=viewer,
        found=found,
        active={r.id for r in found.items if reporting.reservation_is_active(r, now)},
        statuses=["active", *statuses],
        charge_point=charge_point,
        id_tag=id_tag,
        status=status,
        offset=offset,
        page=PAGE,
    )
