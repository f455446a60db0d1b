"""Changing charge points from the console, through the registry service and request schemas of
`/api/v1/charge-points` (so a form refuses what the API refuses, with the same words, next to its field):
registering one (in a site, when chosen, as `PUT /sites/{id}/charge-points/{cp}` places it), changing its
description, security profile, minimum current and site, setting or removing its password, and accepting a
pending one (or rejecting it, or holding it pending; its next BootNotification is answered with that), and
a reported connector's electrical settings."""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import ClockDep, CommandsDep, StoreDep
from app.api.schemas import ChargePointCreate, ChargePointUpdate, ConnectorUpdate
from app.console.auth import ConsoleUser, Viewer, check_csrf
from app.console.forms import FieldErrors, Refused, field_errors, optional, parsed
from app.console.pages.charge_points import PageForms, charge_point_detail, charge_point_listing
from app.console.templating import render
from app.domain.paging import Window
from app.domain.persistence import UnitOfWork
from app.services.errors import AlreadyExists, NotFound, ServiceError
from app.services.ocpp import registry, reporting
from app.services.planning import topology

router = APIRouter(include_in_schema=False)

CONNECTOR_FIELDS = ("connector_id", "phases", "nominal_voltage_v", "max_current_a", "min_current_a")


def _refused(request: Request, viewer: Viewer, status: int, detail: str) -> HTMLResponse:
    return render(request, "error.html", status, viewer=viewer, title="Not changed", detail=detail)


def _may_not(request: Request, viewer: Viewer, what: str) -> HTMLResponse | None:
    if viewer.may_operate:
        return None
    return _refused(request, viewer, 403, f"The role {viewer.principal.role.value!r} may not {what}.")


def _site_id(text: str) -> int | None:
    """The site a form chose: empty is none."""
    if not text.strip():
        return None
    if not text.strip().isdigit():
        raise Refused({"site_id": "choose one of the sites"})
    return int(text)


async def _place(uow: UnitOfWork, charge_point_id: str, site_id: int | None, current: int | None) -> None:
    """Move the charge point to `site_id` (none: out of its site), as the sites API does."""
    if site_id == current:
        return
    try:
        if site_id is None:
            assert current is not None
            await topology.unassign_charge_point(uow, current, charge_point_id)
        else:
            await topology.assign_charge_point(uow, site_id, charge_point_id, None)
    except NotFound as exc:
        raise Refused({"site_id": exc.detail}) from exc


def _refusal(exc: ServiceError) -> FieldErrors:
    return {"id": exc.detail} if isinstance(exc, AlreadyExists) else field_errors(exc)


@router.post("/charge-points")
async def register_charge_point(
    request: Request, viewer: ConsoleUser, store: StoreDep, commands: CommandsDep
) -> Response:
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    check_csrf(viewer, form.get("csrf", ""))
    if (refused := _may_not(request, viewer, "register charge points")) is not None:
        return refused
    values = {
        name: form.get(name, "")
        for name in ("id", "description", "password", "registration_status", "security_profile", "site_id")
    }
    try:
        body = parsed(
            ChargePointCreate,
            {
                "id": values["id"].strip(),
                "description": optional(values["description"]),
                "password": values["password"] or None,
                "registration_status": values["registration_status"] or "Accepted",
                "security_profile": values["security_profile"] or 0,
            },
        )
        site_id = _site_id(values["site_id"])
        async with store.unit_of_work() as uow:  # registered and placed, or neither
            await registry.create_charge_point(uow, body.id, **body.model_dump(exclude={"id"}))
            await _place(uow, body.id, site_id, None)
    except Refused as bad:
        return await _listing_refused(request, viewer, store, commands, values, bad.errors)
    except ServiceError as exc:
        return await _listing_refused(request, viewer, store, commands, values, _refusal(exc))
    return RedirectResponse(f"/charge-points/{quote(body.id, safe='')}", status_code=303)


async def _listing_refused(
    request: Request,
    viewer: Viewer,
    store: StoreDep,
    commands: CommandsDep,
    values: dict[str, str],
    errors: FieldErrors,
) -> HTMLResponse:
    values = values | {"password": ""}  # never sent back
    return await charge_point_listing(
        request, viewer, store, commands, forms=PageForms.refused("register", values, errors)
    )


async def _change(
    request: Request,
    viewer: Viewer,
    store: StoreDep,
    commands: CommandsDep,
    clock: ClockDep,
    charge_point_id: str,
    form_name: str,
    values: dict[str, str],
    changes: dict[str, Any],
    move_to: tuple[int | None] | None = None,
) -> Response:
    """Apply `changes` (the API's request body) and move it to `move_to`'s site when given, in one unit of
    work; the page again with the form's errors when refused."""
    try:
        body = parsed(ChargePointUpdate, changes)
        async with store.unit_of_work() as uow:
            charge_point = await registry.update_charge_point(
                uow, charge_point_id, body.model_dump(exclude_unset=True)
            )
            if move_to is not None:
                await _place(uow, charge_point_id, move_to[0], charge_point.site_id)
    except NotFound as exc:
        return _refused(request, viewer, 404, exc.detail)
    except (Refused, ServiceError) as exc:
        errors = exc.errors if isinstance(exc, Refused) else field_errors(exc)
        forms = PageForms.refused(form_name, values, errors)
        return await charge_point_detail(
            request, viewer, store, commands, clock, charge_point_id, forms=forms
        )
    return RedirectResponse(
        f"/charge-points/{quote(charge_point_id, safe='')}?saved={form_name}", status_code=303
    )


@router.post("/charge-points/{charge_point_id}")
async def edit_charge_point(
    charge_point_id: str,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    commands: CommandsDep,
    clock: ClockDep,
    csrf: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    security_profile: Annotated[str, Form()] = "",
    min_current_a: Annotated[str, Form()] = "",
    site_id: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf)
    if (refused := _may_not(request, viewer, "change charge points")) is not None:
        return refused
    values = {
        "description": description,
        "security_profile": security_profile,
        "min_current_a": min_current_a,
        "site_id": site_id,
    }
    changes = {
        "description": optional(description),
        "security_profile": security_profile,
        "min_current_a": optional(min_current_a),
    }
    try:
        site = _site_id(site_id)
    except Refused as bad:
        forms = PageForms.refused("edit", values, bad.errors)
        return await charge_point_detail(
            request, viewer, store, commands, clock, charge_point_id, forms=forms
        )
    return await _change(
        request, viewer, store, commands, clock, charge_point_id, "edit", values, changes, (site,)
    )


@router.post("/charge-points/{charge_point_id}/password")
async def set_password(
    charge_point_id: str,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    commands: CommandsDep,
    clock: ClockDep,
    csrf: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    remove: Annotated[str, Form()] = "",
) -> Response:
    """A new HTTP Basic password (from its next connection), or none."""
    check_csrf(viewer, csrf)
    if (refused := _may_not(request, viewer, "change passwords")) is not None:
        return refused
    if not remove and not password:
        forms = PageForms.refused("password", {}, {"password": "enter the new password"})
        return await charge_point_detail(
            request, viewer, store, commands, clock, charge_point_id, forms=forms
        )
    changes = {"password": None if remove else password}
    return await _change(request, viewer, store, commands, clock, charge_point_id, "password", {}, changes)


@router.post("/charge-points/{charge_point_id}/registration")
async def set_registration(
    charge_point_id: str,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    commands: CommandsDep,
    clock: ClockDep,
    csrf: Annotated[str, Form()] = "",
    registration_status: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf)
    if (refused := _may_not(request, viewer, "change registrations")) is not None:
        return refused
    values = {"registration_status": registration_status}
    changes = {"registration_status": registration_status}
    return await _change(
        request, viewer, store, commands, clock, charge_point_id, "registration", values, changes
    )


@router.post("/charge-points/{charge_point_id}/connectors")
async def change_connector(
    charge_point_id: str,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    commands: CommandsDep,
    clock: ClockDep,
) -> Response:
    """A reported connector's phases, nominal voltage, maximum and minimum current (empty: unchanged), as
    `PATCH /charge-points/{id}/connectors/{n}` changes them."""
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    check_csrf(viewer, form.get("csrf", ""))
    if (refused := _may_not(request, viewer, "change connectors")) is not None:
        return refused
    values = {name: form.get(name, "") for name in CONNECTOR_FIELDS}
    changes: dict[str, Any] = {
        name: values[name].strip() for name in CONNECTOR_FIELDS[1:] if values[name].strip()
    }
    if changes.get("phases", "").isdigit():  # the schema's Literal[1, 3] takes a number, not the text
        changes["phases"] = int(changes["phases"])
    try:
        async with store.unit_of_work() as uow:
            reported = await reporting.list_connectors(uow, charge_point_id, Window(100))
        numbers = {str(c.connector_id): c.connector_id for c in reported.items if c.connector_id > 0}
        if values["connector_id"] not in numbers:
            raise Refused({"connector_id": "choose one of its connectors"})
        if not changes:
            raise Refused({"": "Enter the settings to change."})
        body = parsed(ConnectorUpdate, changes)
        async with store.unit_of_work() as uow:
            await registry.update_connector(
                uow, charge_point_id, numbers[values["connector_id"]], body.model_dump(exclude_unset=True)
            )
    except (Refused, ServiceError) as exc:
        errors = exc.errors if isinstance(exc, Refused) else field_errors(exc)
        forms = PageForms.refused("connector", values, errors)
        return await charge_point_detail(
            request, viewer, store, commands, clock, charge_point_id, forms=forms
        )
    return RedirectResponse(
        f"/charge-points/{quote(charge_point_id, safe='')}?saved=connector", status_code=303
    )
