"""Charge points: the list (search, site, state) and one charge point's page (connectors, boot history,
configuration, recent commands, the address it connects to)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app.api.deps import CommandsDep, StoreDep
from app.console.auth import ConsoleUser
from app.console.overview import reachable_sites
from app.console.templating import render
from app.domain.enums import RegistrationStatus
from app.domain.paging import Window
from app.domain.queries import ChargePointFilter, CommandFilter
from app.services.access import charge_point_scope
from app.services.ocpp import reporting

router = APIRouter(include_in_schema=False)

PAGE = 50
STATES = ("connected", "offline", "pending")


@router.get("/charge-points")
async def charge_point_list(
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    commands: CommandsDep,
    search: str = "",
    site: str = "",
    state: str = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    connected = commands.connected_ids()
    site_id = int(site) if site.isdigit() else None  # the form's "any" is an empty value
    async with store.unit_of_work() as uow:
        scope = await charge_point_scope(uow, viewer.principal)
        filters = ChargePointFilter(
            registration_status=RegistrationStatus.pending.value if state == "pending" else None,
            site_id=site_id,
            search=search.strip() or None,
            connected={"connected": True, "offline": False}.get(state),
            connected_ids=connected,
            scope=scope,
        )
        found = await reporting.list_charge_points(uow, Window(PAGE, offset), filters)
        connectors = await reporting.connectors_of(uow, [cp.id for cp in found.items])
        sites = await reachable_sites(uow, viewer.principal)
    return render(
        request,
        "charge_points.html",
        viewer=viewer,
        found=found,
        connectors=connectors,
        connected=connected,
        sites=sites,
        search=search,
        site=site_id,
        state=state,
        states=STATES,
        offset=offset,
        page=PAGE,
    )


@router.get("/charge-points/{charge_point_id}")
async def charge_point_page(
    charge_point_id: str, request: Request, viewer: ConsoleUser, store: StoreDep, commands: CommandsDep
) -> HTMLResponse:
    async with store.unit_of_work() as uow:
        scope = await charge_point_scope(uow, viewer.principal)
        charge_point = await reporting.get_charge_point(uow, charge_point_id, scope=scope)
        if charge_point is None:
            detail = f"Charge point {charge_point_id!r} is not registered."
            return render(request, "error.html", 404, viewer=viewer, title="Not found", detail=detail)
        connectors = await reporting.list_connectors(uow, charge_point_id, Window(100))
        boots = await reporting.list_boot_notifications(uow, charge_point_id, Window(10))
        configuration = await reporting.list_configuration(uow, charge_point_id, Window(500))
        recent = await reporting.list_commands(
            uow, Window(20), CommandFilter(charge_point_id=charge_point_id, scope=scope)
        )
        sites = {s.id: s for s in await reachable_sites(uow, viewer.principal)}
    gateway = request.app.state.gateway
    scheme = "wss" if request.app.state.settings.ocpp_tls_cert else "ws"
    ocpp_url = f"{scheme}://{request.url.hostname}:{gateway.port}/ocpp/{charge_point.id}"
    return render(
        request,
        "charge_point.html",
        viewer=viewer,
        cp=charge_point,
        connected=commands.is_connected(charge_point.id),
        site=sites.get(charge_point.site_id),
        connectors=connectors.items,
        boots=boots.items,
        configuration=configuration.items,
        commands=recent.items,
        ocpp_url=ocpp_url,
    )
