"""Operations: a form per central-system operation (sent through the same command port as the API's
`POST /charge-points/{id}/commands`), and the task view of each request, whose status follows the
charge point's answer live (waiting → accepted, rejected, error or timeout)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import CommandsDep, StoreDep
from app.console.auth import ConsoleUser, Viewer, check_csrf
from app.console.operations import (
    OPERATIONS,
    SECURITY_OPERATIONS,
    SENDABLE,
    FormErrors,
    field_of,
    form_fields,
    payload_from_form,
)
from app.console.templating import render
from app.domain.enums import CommandStatus
from app.domain.paging import Window
from app.domain.ports import CommandRefused
from app.domain.queries import ChargePointFilter
from app.services.access import charge_point_scope
from app.services.ocpp import reporting

router = APIRouter(include_in_schema=False)

POLL_S = 1  # how often a waiting task asks for its status


def _refused(request: Request, viewer: Viewer, status: int, detail: str) -> HTMLResponse:
    return render(request, "error.html", status, viewer=viewer, title="Not allowed", detail=detail)


def _only_operators(request: Request, viewer: Viewer) -> HTMLResponse | None:
    if viewer.may_operate:
        return None
    role = viewer.principal.role.value
    return _refused(request, viewer, 403, f"The role {role!r} may not send operations.")


@router.get("/operations")
async def operation_index(request: Request, viewer: ConsoleUser, charge_point: str = "") -> HTMLResponse:
    return _only_operators(request, viewer) or render(
        request,
        "operations.html",
        viewer=viewer,
        operations=OPERATIONS,
        security_operations=SECURITY_OPERATIONS,
        charge_point=charge_point,
    )


async def _form(
    request: Request,
    viewer: Viewer,
    store: StoreDep,
    commands: CommandsDep,
    action: str,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    async with store.unit_of_work() as uow:
        found = await reporting.list_charge_points(uow, Window(500), ChargePointFilter())
    connected = commands.connected_ids()
    return render(
        request,
        "operation.html",
        status,
        viewer=viewer,
        action=action,
        fields=form_fields(action),
        charge_points=found.items,
        connected=connected,
        values=values,
        errors=errors or {},
        error=error,
    )


@router.get("/operations/{action}")
async def operation_form(
    action: str,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    commands: CommandsDep,
    charge_point: str = "",
) -> HTMLResponse:
    if (refused := _only_operators(request, viewer)) is not None:
        return refused
    if action not in SENDABLE:
        return _refused(request, viewer, 404, f"{action} is not a central-system operation of OCPP 1.6.")
    names = {f.name for f in form_fields(action)}  # a link may fill fields in (a reservation's cancel)
    given = {name: value for name, value in request.query_params.items() if name in names}
    return await _form(request, viewer, store, commands, action, {"charge_point": charge_point} | given)


@router.post("/operations/{action}")
async def send_operation(
    action: str, request: Request, viewer: ConsoleUser, store: StoreDep, commands: CommandsDep
) -> Response:
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    check_csrf(viewer, form.get("csrf", ""))
    if (refused := _only_operators(request, viewer)) is not None:
        return refused
    if action not in SENDABLE:
        return _refused(request, viewer, 404, f"{action} is not a central-system operation of OCPP 1.6.")
    charge_point_id = form.get("charge_point", "")
    async with store.unit_of_work() as uow:
        registered = await reporting.get_charge_point(uow, charge_point_id) is not None
    if not registered:
        errors = {"charge_point": f"charge point {charge_point_id!r} is not registered"}
        return await _form(request, viewer, store, commands, action, form, errors, status=422)
    try:
        payload = payload_from_form(action, form)
        command_id = await commands.send(charge_point_id, action, payload, author=viewer.principal.name)
    except FormErrors as refused_fields:
        return await _form(request, viewer, store, commands, action, form, refused_fields.errors, status=422)
    except CommandRefused as exc:
        field, message = field_of(action, exc.detail)
        status = 409 if exc.reason == "not_connected" else 422
        if field is None:
            return await _form(
                request, viewer, store, commands, action, form, error=exc.detail, status=status
            )
        return await _form(request, viewer, store, commands, action, form, {field: message}, status=status)
    return RedirectResponse(f"/commands/{command_id}", status_code=303)


async def _command_view(
    request: Request, viewer: Viewer, store: StoreDep, command_id: int, template: str
) -> HTMLResponse:
    async with store.unit_of_work() as uow:
        scope = await charge_point_scope(uow, viewer.principal)
        command = await reporting.get_command(uow, command_id, scope=scope)
    if command is None:
        return _refused(request, viewer, 404, f"Command {command_id} does not exist.")
    waiting = command.status == CommandStatus.pending.value
    return render(request, template, viewer=viewer, command=command, waiting=waiting, poll_s=POLL_S)


@router.get("/commands/{command_id}")
async def command_page(
    command_id: int, request: Request, viewer: ConsoleUser, store: StoreDep
) -> HTMLResponse:
    return await _command_view(request, viewer, store, command_id, "command.html")


@router.get("/commands/{command_id}/status")
async def command_status(
    command_id: int, request: Request, viewer: ConsoleUser, store: StoreDep
) -> HTMLResponse:
    return await _command_view(request, viewer, store, command_id, "_command_status.html")
