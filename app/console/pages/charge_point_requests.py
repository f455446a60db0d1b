"""Requests sent from a charge point's page, through the command port the operation forms use (the same
validation as `POST /api/v1/charge-points/{id}/commands`): change a configuration key (ChangeConfiguration),
read its configuration again (GetConfiguration), ask for its composite schedule (GetCompositeSchedule). The
page then follows the request in the part that sent it until the charge point answers."""

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.api.deps import ClockDep, CommandsDep, StoreDep
from app.console.auth import ConsoleUser, Viewer, check_csrf
from app.console.operations import FormErrors, field_of, payload_from_form
from app.console.pages.charge_points import SENT_FROM_PAGE, PageForms, charge_point_detail
from app.console.templating import render
from app.domain.ports import CommandRefused
from app.services.access import charge_point_scope
from app.services.ocpp import authorization_key, reporting

router = APIRouter(include_in_schema=False)


async def _send(
    request: Request,
    viewer: Viewer,
    store: StoreDep,
    commands: CommandsDep,
    clock: ClockDep,
    charge_point_id: str,
    action: str,
) -> Response:
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    check_csrf(viewer, form.get("csrf", ""))
    if not viewer.may_operate:
        detail = f"The role {viewer.principal.role.value!r} may not send operations."
        return render(request, "error.html", 403, viewer=viewer, title="Not allowed", detail=detail)
    async with store.unit_of_work() as uow:
        scope = await charge_point_scope(uow, viewer.principal)
        registered = await reporting.get_charge_point(uow, charge_point_id, scope=scope) is not None
    if not registered:
        return await charge_point_detail(request, viewer, store, commands, clock, charge_point_id)  # its 404
    section = SENT_FROM_PAGE[action]
    values = {name: value for name, value in form.items() if name != "csrf"}
    if authorization_key.sets_authorization_key(action, values):
        values["value"] = ""  # a password: never sent back, even refused
    try:
        payload = payload_from_form(action, form)
        command_id = await commands.send(charge_point_id, action, payload, author=viewer.principal.name)
    except FormErrors as refused:
        forms = PageForms.refused(section, values, refused.errors)
        return await charge_point_detail(
            request, viewer, store, commands, clock, charge_point_id, forms=forms
        )
    except CommandRefused as exc:
        field, message = field_of(action, exc.detail)
        status = 409 if exc.reason == "not_connected" else 422
        if exc.reason == "not_connected":
            message = f"{charge_point_id} is not connected: nothing was sent"
        elif field is None and authorization_key.sets_authorization_key(action, payload):
            field = "value"  # the key's value is refused (never echoed)
        forms = PageForms.refused(section, values, {field or "": message}, status)
        return await charge_point_detail(
            request, viewer, store, commands, clock, charge_point_id, forms=forms
        )
    target = f"/charge-points/{quote(charge_point_id, safe='')}?command={command_id}#{section}"
    return RedirectResponse(target, status_code=303)


@router.post("/charge-points/{charge_point_id}/configuration")
async def change_configuration(
    charge_point_id: str,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    commands: CommandsDep,
    clock: ClockDep,
) -> Response:
    return await _send(request, viewer, store, commands, clock, charge_point_id, "ChangeConfiguration")


@router.post("/charge-points/{charge_point_id}/configuration/read")
async def read_configuration(
    charge_point_id: str,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    commands: CommandsDep,
    clock: ClockDep,
) -> Response:
    return await _send(request, viewer, store, commands, clock, charge_point_id, "GetConfiguration")


@router.post("/charge-points/{charge_point_id}/composite-schedule")
async def ask_composite_schedule(
    charge_point_id: str,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    commands: CommandsDep,
    clock: ClockDep,
) -> Response:
    return await _send(request, viewer, store, commands, clock, charge_point_id, "GetCompositeSchedule")
