"""Commands: any OCPP 1.6 central-system operation sent to a charge point, and its outcome."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from app.api.deps import CommandsDep, DriverDataReaderDep, OperatorDep, ReadingDep, StoreDep, UowDep
from app.api.errors import Problem
from app.api.schemas import CommandCreate, CommandOut, Page, RowId, problems
from app.api.support import (
    ReadingScopeDep,
    ScopeDep,
    Since,
    Until,
    WindowDep,
    located,
    operation_id,
    paged,
    time_range,
)
from app.domain.enums import CommandStatus
from app.domain.ports import CommandRefused
from app.services.ocpp import reporting
from app.services.ocpp.reporting import CommandFilter

router = APIRouter(
    tags=["commands"], responses=problems(401, 403, 422), generate_unique_id_function=operation_id
)

REFUSALS: dict[str, tuple[int, str | None]] = {
    "not_connected": (409, None),
    "conflict": (409, None),
    "unknown_action": (422, "action"),
    "invalid": (422, "payload"),
    "id_tag": (422, "payload.idTag"),
}


@router.post(
    "/charge-points/{charge_point_id}/commands",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send an OCPP operation to a charge point",
    description=(
        "Records the command and sends it; the answer is at the `Location` (`GET /commands/{id}`). "
        "With `wait=true` the response comes once the charge point has answered (or the call timed out). "
        "Date-times in the payload are RFC 3339 with an offset (422 otherwise) and are sent as UTC `Z`. "
        "A ReserveNow's `idTag` must be one that may charge (422); its `reservationId` may only replace "
        "this charge point's open reservation for the same tag (409 otherwise; leave it out for a new one)."
    ),
    responses={**located(202, "recorded and sent (`wait=true`: answered)"), **problems(404, 409, 422)},
)
async def send_command(
    charge_point_id: Annotated[str, Path(description="the charge point's OCPP id")],
    body: CommandCreate,
    store: StoreDep,
    commands: CommandsDep,
    principal: OperatorDep,
    response: Response,
    wait: Annotated[bool, Query(description="answer once the outcome is stored")] = False,
) -> CommandOut:
    # No unit of work is held while sending: the command service writes in its own
    # (on SQLite the pool has a single connection).
    async with store.reading() as uow:
        if await reporting.get_charge_point(uow, charge_point_id) is None:
            raise Problem(404, f"charge point {charge_point_id!r} is not registered")
    try:
        command_id = await commands.send(
            charge_point_id, body.action, body.payload, author=principal.name, wait=wait
        )
    except CommandRefused as exc:
        code, field = REFUSALS.get(exc.reason, (422, None))
        if field is None:
            raise Problem(code, exc.detail, reason=exc.reason) from exc
        error: dict[str, Any] = {"loc": ["body", *field.split(".")], "msg": exc.detail, "type": exc.reason}
        raise Problem(code, f"body.{field}: {exc.detail}", reason=exc.reason, errors=[error]) from exc
    async with store.reading() as uow:
        command = await reporting.get_command(uow, command_id)
    assert command is not None
    response.headers["Location"] = f"/api/v1/commands/{command_id}"
    return CommandOut.model_validate(command)


@router.get("/commands", summary="List commands, newest first", responses=problems(422))
async def list_commands(
    uow: UowDep,
    _: DriverDataReaderDep,
    scope: ScopeDep,
    window: WindowDep,
    charge_point_id: str | None = None,
    action: str | None = None,
    status: CommandStatus | None = None,
    since: Since = None,
    until: Until = None,
) -> Page[CommandOut]:
    since, until = time_range(since, until)
    filters = CommandFilter(charge_point_id, action, status.value if status else None, since, until, scope)
    page = await reporting.list_commands(uow, window, filters)
    return paged([CommandOut.model_validate(row) for row in page.items], page, window)


@router.get(
    "/commands/{command_id}",
    summary="A command: status, response, error, timestamps",
    responses=problems(404),
)
async def get_command(
    command_id: RowId, uow: ReadingDep, _: DriverDataReaderDep, scope: ReadingScopeDep
) -> CommandOut:
    command = await reporting.get_command(uow, command_id, scope=scope)
    if command is None:
        raise Problem(404, f"command {command_id} does not exist")
    return CommandOut.model_validate(command)
