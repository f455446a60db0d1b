"""Sites: the list with each one's load now, and a site's page with the live chart of measured power,
planned power and the limit per interval (the chart and the figures of the interval under way refresh
themselves: `load.json` and the `now` fragment)."""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from app.api.deps import ClockDep, StoreDep
from app.console.auth import ConsoleUser, Viewer
from app.console.overview import reachable_sites, site_now
from app.console.site_layout import layout_context
from app.console.site_views import planning_context
from app.console.templating import render
from app.domain.persistence import Store, UnitOfWork
from app.domain.planning import Site
from app.domain.ports import Clock
from app.services.errors import NotFound
from app.services.planning import sites
from app.services.planning.site_load import site_load

router = APIRouter(include_in_schema=False)

REFRESH_S = 2  # how often the site page asks for new figures


async def _site(uow: UnitOfWork, viewer: Viewer, site_id: int) -> Site | None:
    """The site, when the viewer's key reaches it (else it is "not found" to it, as in the API)."""
    if not viewer.principal.may_reach(site_id):
        return None
    try:
        return await sites.get_site(uow, site_id)
    except NotFound:
        return None


def _not_found(request: Request, viewer: Viewer, site_id: int) -> HTMLResponse:
    detail = f"Site {site_id} not found."
    return render(request, "error.html", 404, viewer=viewer, title="Not found", detail=detail)


@router.get("/sites")
async def site_list(request: Request, viewer: ConsoleUser, store: StoreDep, clock: ClockDep) -> HTMLResponse:
    now = clock.now()
    async with store.unit_of_work() as uow:
        found = [await site_now(uow, site, now) for site in await reachable_sites(uow, viewer.principal)]
    return render(request, "sites.html", viewer=viewer, sites=found)


@router.get("/sites/{site_id}")
async def site_page(
    site_id: int, request: Request, viewer: ConsoleUser, store: StoreDep, clock: ClockDep
) -> HTMLResponse:
    return await render_site_page(request, viewer, store, clock, site_id)


async def render_site_page(
    request: Request, viewer: Viewer, store: Store, clock: Clock, site_id: int, status: int = 200, **form: Any
) -> HTMLResponse:
    """The site's page; `form` says what a refused form needs to (its errors, what was typed)."""
    now = clock.now()
    async with store.unit_of_work() as uow:
        site = await _site(uow, viewer, site_id)
        if site is None:
            return _not_found(request, viewer, site_id)
        current = await site_now(uow, site, now)
        planning = await planning_context(uow, viewer, site, now)
        layout = await layout_context(uow, site, now)
    posted = request.query_params.get("forecast", "")
    outcome = request.query_params.get("outcome", "") if posted.isdigit() else ""
    return render(
        request,
        "site.html",
        status,
        viewer=viewer,
        site=site,
        current=current,
        refresh_s=REFRESH_S,
        posted=(posted, outcome) if outcome in ("posted", "replayed") else None,
        **planning,
        **layout,
        **form,
    )


@router.get("/sites/{site_id}/now")
async def site_now_fragment(
    site_id: int, request: Request, viewer: ConsoleUser, store: StoreDep, clock: ClockDep
) -> HTMLResponse:
    async with store.unit_of_work() as uow:
        site = await _site(uow, viewer, site_id)
        if site is None:
            return _not_found(request, viewer, site_id)
        current = await site_now(uow, site, clock.now())
    return render(request, "_site_now.html", current=current)


@router.get("/sites/{site_id}/load.json")
async def site_load_series(
    site_id: int,
    viewer: ConsoleUser,
    store: StoreDep,
    clock: ClockDep,
    before_h: Annotated[float, Query(ge=0, le=48)] = 2,
    after_h: Annotated[float, Query(ge=0, le=48)] = 6,
) -> JSONResponse:
    """The site's load per interval as columns for the chart: interval starts (Unix seconds), limit,
    capacity, planned and measured power in kW (null where there is none)."""
    now = clock.now()
    async with store.unit_of_work() as uow:
        site = await _site(uow, viewer, site_id)
        if site is None:
            return JSONResponse({"detail": f"site {site_id} not found"}, status_code=404)
        intervals = await site_load(
            uow, site_id, now - timedelta(hours=before_h), now + timedelta(hours=after_h)
        )
    series: dict[str, Any] = {
        "now": now.timestamp(),
        "start": [i.start.timestamp() for i in intervals],
        "limit_kw": [i.limit_kw for i in intervals],
        "capacity_kw": [i.capacity_kw for i in intervals],
        "planned_kw": [i.planned_kw for i in intervals],
        "measured_kw": [i.measured_kw for i in intervals],
    }
    return JSONResponse(series, headers={"Cache-Control": "no-store"})
