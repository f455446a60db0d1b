"""The home page: SteVe's counts and more — charge points connected, pending and offline, connectors by
status, heartbeats by day, active transactions and reservations, each site's load against its limit,
non-compliant transactions, recent command failures."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.api.deps import ClockDep, CommandsDep, StoreDep
from app.console.auth import ConsoleUser
from app.console.overview import overview
from app.console.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(
    request: Request, viewer: ConsoleUser, store: StoreDep, clock: ClockDep, commands: CommandsDep
) -> HTMLResponse:
    now = clock.now()
    async with store.unit_of_work() as uow:
        found = await overview(uow, viewer.principal, now=now, connected_ids=commands.connected_ids())
    return render(request, "home.html", viewer=viewer, overview=found, now=now)
