"""Charge points: registration, connectors and their settings, configuration, status and boot history."""

from collections.abc import Sequence
from dataclasses import asdict
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Response, status

from app.api.deps import ClockDep, CommandsDep, OperatorDep, ReaderDep, UowDep
from app.api.errors import Problem
from app.api.schemas import (
    INT32_MAX,
    BootNotificationOut,
    ChargePointCreate,
    ChargePointOut,
    ChargePointUpdate,
    ConfigurationKeyOut,
    ConnectorOut,
    ConnectorUpdate,
    InstalledProfileOut,
    Page,
    RowId,
    StatusNotificationOut,
    problems,
)
from app.api.support import (
    ScopeDep,
    Since,
    Until,
    WindowDep,
    located,
    operation_id,
    paged,
    service_problems,
    time_range,
)
from app.domain.access import Scope
from app.domain.enums import RegistrationStatus
from app.domain.ocpp import ChargePoint
from app.domain.persistence import UnitOfWork
from app.domain.ports import ChargePointCommands
from app.domain.queries import ChargePointFilter
from app.services.ocpp import registry, reporting

router = APIRouter(
    prefix="/charge-points",
    tags=["charge points"],
    responses=problems(401, 403, 422),
    generate_unique_id_function=operation_id,
)

ChargePointId = Annotated[str, Path(description="the charge point's OCPP id")]
ConnectorId = Annotated[int, Path(ge=1, le=100, description="connector number (1…)")]


async def present(
    uow: UnitOfWork, commands: ChargePointCommands, charge_points: Sequence[ChargePoint]
) -> list[ChargePointOut]:
    connectors = await reporting.connectors_of(uow, [cp.id for cp in charge_points])
    return [
        ChargePointOut.model_validate(
            {
                **asdict(cp),
                "has_password": cp.password_hash is not None,
                "connected": commands.is_connected(cp.id),
                "connectors": [ConnectorOut.model_validate(c) for c in connectors[cp.id]],
            }
        )
        for cp in charge_points
    ]


async def found(uow: UnitOfWork, charge_point_id: str, scope: Scope) -> ChargePoint:
    charge_point = await reporting.get_charge_point(uow, charge_point_id, scope=scope)
    if charge_point is None:
        raise Problem(404, f"charge point {charge_point_id!r} is not registered")
    return charge_point


@router.get("", summary="List charge points")
async def list_charge_points(
    uow: UowDep,
    commands: CommandsDep,
    _: ReaderDep,
    scope: ScopeDep,
    window: WindowDep,
    registration_status: RegistrationStatus | None = None,
    site_id: RowId | None = None,
    connected: Annotated[bool | None, Query(description="only (not) connected ones")] = None,
    q: Annotated[str | None, Query(max_length=100, description="text in the id or description")] = None,
) -> Page[ChargePointOut]:
    filters = ChargePointFilter(
        registration_status=registration_status.value if registration_status else None,
        site_id=site_id,
        search=q,
        connected=connected,
        connected_ids=commands.connected_ids() if connected is not None else (),
        scope=scope,
    )
    page = await reporting.list_charge_points(uow, window, filters)
    items = await present(uow, commands, page.items)
    return paged(items, page, window)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a charge point",
    responses={**located(201, "registered"), **problems(409, 422)},
)
async def create_charge_point(
    body: ChargePointCreate, uow: UowDep, commands: CommandsDep, _: OperatorDep, response: Response
) -> ChargePointOut:
    with service_problems():
        charge_point = await registry.create_charge_point(
            uow,
            body.id,
            description=body.description,
            password=body.password,
            registration_status=body.registration_status,
            security_profile=body.security_profile,
        )
    response.headers["Location"] = f"/api/v1/charge-points/{quote(charge_point.id, safe='')}"
    return (await present(uow, commands, [charge_point]))[0]


@router.get("/{charge_point_id}", summary="A charge point", responses=problems(404))
async def get_charge_point(
    charge_point_id: ChargePointId, uow: UowDep, commands: CommandsDep, _: ReaderDep, scope: ScopeDep
) -> ChargePointOut:
    return (await present(uow, commands, [await found(uow, charge_point_id, scope)]))[0]


@router.patch(
    "/{charge_point_id}",
    summary="Change description, password, security profile or registration status (accept a pending one)",
    responses=problems(404, 422),
)
async def update_charge_point(
    charge_point_id: ChargePointId,
    body: ChargePointUpdate,
    uow: UowDep,
    commands: CommandsDep,
    _: OperatorDep,
) -> ChargePointOut:
    with service_problems():
        charge_point = await registry.update_charge_point(
            uow, charge_point_id, body.model_dump(exclude_unset=True)
        )
    return (await present(uow, commands, [charge_point]))[0]


@router.delete(
    "/{charge_point_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a charge point that has no transactions and is not connected",
    responses=problems(404, 409),
)
async def delete_charge_point(
    charge_point_id: ChargePointId, uow: UowDep, commands: CommandsDep, _: OperatorDep
) -> None:
    with service_problems():
        await registry.delete_charge_point(
            uow, charge_point_id, connected=commands.is_connected(charge_point_id)
        )


@router.get("/{charge_point_id}/connectors", summary="Connectors with live status", responses=problems(404))
async def list_connectors(
    charge_point_id: ChargePointId, uow: UowDep, _: ReaderDep, scope: ScopeDep, window: WindowDep
) -> Page[ConnectorOut]:
    await found(uow, charge_point_id, scope)
    page = await reporting.list_connectors(uow, charge_point_id, window)
    return paged([ConnectorOut.model_validate(c) for c in page.items], page, window)


@router.patch(
    "/{charge_point_id}/connectors/{connector_id}",
    summary="Change a connector's phases, nominal voltage or maximum current",
    description="Creates the connector's settings if the charge point has not reported the connector yet.",
    responses=problems(404, 422),
)
async def update_connector(
    charge_point_id: ChargePointId,
    connector_id: ConnectorId,
    body: ConnectorUpdate,
    uow: UowDep,
    _: OperatorDep,
) -> ConnectorOut:
    with service_problems():
        connector = await registry.update_connector(
            uow, charge_point_id, connector_id, body.model_dump(exclude_unset=True)
        )
    return ConnectorOut.model_validate(connector)


@router.get(
    "/{charge_point_id}/configuration",
    summary="Configuration keys as last read from the charge point",
    responses=problems(404),
)
async def list_configuration(
    charge_point_id: ChargePointId, uow: UowDep, _: ReaderDep, scope: ScopeDep, window: WindowDep
) -> Page[ConfigurationKeyOut]:
    await found(uow, charge_point_id, scope)
    page = await reporting.list_configuration(uow, charge_point_id, window)
    items = [ConfigurationKeyOut.model_validate(row) for row in page.items]
    return paged(items, page, window)


@router.get(
    "/{charge_point_id}/charging-profiles",
    summary="Charging profiles it holds: the SetChargingProfile requests it accepted and still holds",
    description=(
        "As the command log tells it: a profile leaves when a later one replaces it (same id, or same "
        "connector, stack level and purpose), an accepted ClearChargingProfile removes it, its validTo "
        "passes or, for a TxProfile, its transaction ends. What the charge point combines from them: "
        "send GetCompositeSchedule (`POST /charge-points/{id}/commands`)."
    ),
    responses=problems(404),
)
async def list_charging_profiles(
    charge_point_id: ChargePointId, uow: UowDep, clock: ClockDep, _: ReaderDep, scope: ScopeDep
) -> list[InstalledProfileOut]:
    await found(uow, charge_point_id, scope)
    held = await reporting.installed_profiles(uow, charge_point_id, clock.now())
    return [
        InstalledProfileOut(
            connector_id=p.connector_id,
            charging_profile_id=p.profile_id,
            purpose=p.purpose,
            stack_level=p.stack_level,
            profile=dict(p.profile),
            command_id=p.command.id or 0,
            author=p.command.author,
            sent_at=p.command.sent_at,
            accepted_at=p.command.completed_at,
        )
        for p in held
    ]


@router.get(
    "/{charge_point_id}/status-history",
    summary="StatusNotifications received, newest first",
    responses=problems(404, 422),
)
async def list_status_history(
    charge_point_id: ChargePointId,
    uow: UowDep,
    _: ReaderDep,
    scope: ScopeDep,
    window: WindowDep,
    since: Since = None,
    until: Until = None,
    connector_id: Annotated[
        int | None, Query(ge=0, le=INT32_MAX, description="0: the charge point itself")
    ] = None,
) -> Page[StatusNotificationOut]:
    since, until = time_range(since, until)
    await found(uow, charge_point_id, scope)
    page = await reporting.list_status_history(
        uow, charge_point_id, window, connector_id=connector_id, since=since, until=until
    )
    items = [StatusNotificationOut.model_validate(row) for row in page.items]
    return paged(items, page, window)


@router.get(
    "/{charge_point_id}/boot-notifications",
    summary="BootNotifications received, newest first",
    responses=problems(404),
)
async def list_boot_notifications(
    charge_point_id: ChargePointId, uow: UowDep, _: ReaderDep, scope: ScopeDep, window: WindowDep
) -> Page[BootNotificationOut]:
    await found(uow, charge_point_id, scope)
    page = await reporting.list_boot_notifications(uow, charge_point_id, window)
    items = [BootNotificationOut.model_validate(row) for row in page.items]
    return paged(items, page, window)
