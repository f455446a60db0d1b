"""Charge points: the list (search, site, state, and registering one) and one charge point's page
(connectors, boot history, configuration, the profiles it holds and its composite schedule, recent commands,
the address it connects to, and for admin and operator the forms that change it)."""

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app.api.deps import ClockDep, CommandsDep, StoreDep
from app.console.auth import ConsoleUser, Viewer
from app.console.forms import FieldErrors
from app.console.outcomes import outcome_of
from app.console.overview import reachable_sites
from app.console.schedule_rows import schedule_rows
from app.console.templating import render
from app.domain.enums import RegistrationStatus, SecurityProfile
from app.domain.ocpp import Command
from app.domain.paging import Window
from app.domain.ports import ChargePointCommands
from app.domain.queries import ChargePointFilter, CommandFilter
from app.services.access import charge_point_scope
from app.services.ocpp import reporting

__all__ = ["PageForms", "charge_point_detail", "charge_point_listing", "router"]

router = APIRouter(include_in_schema=False)

PAGE = 50
STATES = ("connected", "offline", "pending")
SECTIONS = ("configuration", "composite")  # the parts of the page that follow a request they sent
SENT_FROM_PAGE = {
    "ChangeConfiguration": "configuration",
    "GetConfiguration": "configuration",
    "GetCompositeSchedule": "composite",
}
SECURITY_PROFILES = {
    SecurityProfile.unsecured: "0 or above: the global rules",
    SecurityProfile.basic_auth: "1 or above: password",
    SecurityProfile.tls_basic_auth: "2 or above: TLS and password",
    SecurityProfile.tls_client_certificate: "3: TLS client certificate",
}


@dataclass
class PageForms:
    """What a page's forms show back after a refusal: per form, the values typed and the errors."""

    values: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: dict[str, FieldErrors] = field(default_factory=dict)
    refusal_status: int = 422

    @classmethod
    def refused(
        cls, form: str, values: dict[str, str], errors: FieldErrors, status: int = 422
    ) -> "PageForms":
        return cls({form: values}, {form: errors}, status)

    @property
    def status(self) -> int:
        return self.refusal_status if any(self.errors.values()) else 200


def _templates_context() -> dict[str, object]:
    return {
        "registration_statuses": [s.value for s in RegistrationStatus],
        "security_profiles": SECURITY_PROFILES,
    }


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
    return await charge_point_listing(request, viewer, store, commands, search, site, state, offset)


async def charge_point_listing(
    request: Request,
    viewer: Viewer,
    store: StoreDep,
    commands: ChargePointCommands,
    search: str = "",
    site: str = "",
    state: str = "",
    offset: int = 0,
    forms: PageForms | None = None,
) -> HTMLResponse:
    forms = forms or PageForms()
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
        forms.status,
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
        values=forms.values.get("register", {"registration_status": "Accepted"}),
        errors=forms.errors.get("register", {}),
        **_templates_context(),
    )


@router.get("/charge-points/{charge_point_id}")
async def charge_point_page(
    charge_point_id: str,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    commands: CommandsDep,
    clock: ClockDep,
    command: int | None = None,
) -> HTMLResponse:
    return await charge_point_detail(request, viewer, store, commands, clock, charge_point_id, command)


@router.get("/charge-points/{charge_point_id}/sections/{section}")
async def charge_point_section(
    charge_point_id: str,
    section: str,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    commands: CommandsDep,
    clock: ClockDep,
    command: int | None = None,
) -> HTMLResponse:
    """One part of the page, asked for again while a request it sent waits for its answer."""
    if section not in SECTIONS:
        detail = f"The charge point page has no part {section!r}."
        return render(request, "error.html", 404, viewer=viewer, title="Not found", detail=detail)
    return await charge_point_detail(
        request,
        viewer,
        store,
        commands,
        clock,
        charge_point_id,
        command,
        template=f"_cp_{section}_state.html",
    )


async def charge_point_detail(
    request: Request,
    viewer: Viewer,
    store: StoreDep,
    commands: ChargePointCommands,
    clock: ClockDep,
    charge_point_id: str,
    command_id: int | None = None,
    forms: PageForms | None = None,
    template: str = "charge_point.html",
) -> HTMLResponse:
    """The page (or one `template` part of it); `command_id` a request sent from it, whose outcome it
    shows in the part that sent it; `forms` what a refused form gets back."""
    forms = forms or PageForms()
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
        profiles = await reporting.installed_profiles(uow, charge_point_id, clock.now())
        composites = await reporting.composite_schedules(uow, charge_point_id, Window(1))
        sent = await reporting.get_command(uow, command_id, scope=scope) if command_id else None
        sites = await reachable_sites(uow, viewer.principal)
    if sent is not None and (sent.charge_point_id != charge_point_id or sent.action not in SENT_FROM_PAGE):
        sent = None
    composite = composites[0] if composites else None
    gateway = request.app.state.gateway
    scheme = "wss" if request.app.state.settings.ocpp_tls_cert else "ws"
    ocpp_base = f"{scheme}://{request.url.hostname}:{gateway.port}/ocpp"
    return render(
        request,
        template,
        forms.status,
        viewer=viewer,
        cp=charge_point,
        connected=commands.is_connected(charge_point.id),
        site=next((s for s in sites if s.id == charge_point.site_id), None),
        sites=sites,
        connectors=connectors.items,
        boots=boots.items,
        configuration=configuration.items,
        commands=recent.items,
        profiles=[(p, schedule_rows(p.profile.get("chargingSchedule") or {})) for p in profiles],
        composite=composite,
        composite_rows=schedule_rows(_composite_schedule(composite), _composite_start(composite)),
        sent=sent,
        sent_section=SENT_FROM_PAGE.get(sent.action) if sent else None,
        outcome=outcome_of(sent) if sent else None,
        ocpp_base=ocpp_base,
        ocpp_url=f"{ocpp_base}/{charge_point.id}",
        forms=forms,
        **_templates_context(),
    )


def _composite_schedule(command: Command | None) -> dict[str, Any]:
    schedule = ((command.response if command else None) or {}).get("chargingSchedule")
    return schedule if isinstance(schedule, dict) else {}


def _composite_start(command: Command | None) -> str | None:
    start = ((command.response if command else None) or {}).get("scheduleStart")
    return start if isinstance(start, str) else None
