"""An operator's decision on a charge point from its page: accept a pending one (or reject, or hold it
pending), through the registry service that `PATCH /charge-points/{id}` uses; the next BootNotification is
answered with it."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import StoreDep
from app.console.auth import ConsoleUser, check_csrf
from app.console.templating import render
from app.domain.enums import RegistrationStatus
from app.services.errors import NotFound
from app.services.ocpp import registry

router = APIRouter(include_in_schema=False)


@router.post("/charge-points/{charge_point_id}/registration")
async def set_registration(
    charge_point_id: str,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    csrf: Annotated[str, Form()] = "",
    registration_status: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf)

    def refused(status: int, detail: str) -> HTMLResponse:
        return render(request, "error.html", status, viewer=viewer, title="Not changed", detail=detail)

    if not viewer.may_operate:
        return refused(403, f"The role {viewer.principal.role.value!r} may not change registrations.")
    if registration_status not in {s.value for s in RegistrationStatus}:
        choices = ", ".join(s.value for s in RegistrationStatus)
        return refused(422, f"registration_status: one of {choices}")
    try:
        async with store.unit_of_work() as uow:
            await registry.update_charge_point(
                uow, charge_point_id, {"registration_status": registration_status}
            )
    except NotFound as exc:
        return refused(404, exc.detail)
    return RedirectResponse(f"/charge-points/{charge_point_id}", status_code=303)
