"""Transactions: the list, newest first, with filters (active or finished, charge point, id tag, site,
days) and the energy each delivered, as `GET /transactions` lists them for the viewer; the same selection
as the API's CSV; a transaction's page with its meter values plotted and the profiles it received."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from app.api.csv import csv_response
from app.api.deps import StoreDep
from app.api.routes.transactions import present
from app.api.schemas import TransactionOut
from app.console.auth import ConsoleUser, Viewer
from app.console.meter_series import meter_series
from app.console.overview import reachable_sites
from app.console.templating import render
from app.domain.paging import Window
from app.domain.persistence import UnitOfWork
from app.domain.queries import TransactionFilter
from app.services.access import charge_point_scope
from app.services.ocpp import reporting
from app.services.ocpp.reporting import TransactionView

router = APIRouter(include_in_schema=False)

PAGE = 50
REFRESH_S = 5  # an active transaction's chart asks for new samples this often


@dataclass(frozen=True)
class Selection:
    """The list's filters as the form sends them (strings), and what was wrong with them."""

    state: str = ""
    charge_point: str = ""
    id_tag: str = ""
    site: str = ""
    day_from: str = ""
    day_to: str = ""

    def query(self) -> str:
        fields = {"state": self.state, "charge_point": self.charge_point, "id_tag": self.id_tag}
        fields |= {"site": self.site, "from": self.day_from, "to": self.day_to}
        return urlencode({name: value for name, value in fields.items() if value})

    def errors(self) -> dict[str, str]:
        errors = {}
        for name, value in (("from", self.day_from), ("to", self.day_to)):
            if value and _day(value) is None:
                errors[name] = "a day as YYYY-MM-DD"
        if self.site and not self.site.isdigit():
            errors["site"] = "a site's id"
        return errors


def selection(
    state: str = "",
    charge_point: str = "",
    id_tag: str = "",
    site: str = "",
    day_from: Annotated[str, Query(alias="from")] = "",
    day_to: Annotated[str, Query(alias="to")] = "",
) -> Selection:
    return Selection(state, charge_point.strip(), id_tag.strip(), site, day_from, day_to)


SelectionDep = Annotated[Selection, Depends(selection)]


def _day(text: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(text), time(), UTC)
    except ValueError:
        return None


async def _filters(uow: UnitOfWork, viewer: Viewer, chosen: Selection) -> TransactionFilter:
    """The API's filter for the viewer: its scope; no id tag for a grid operator; a site it reaches."""
    site_id = int(chosen.site) if chosen.site.isdigit() else None
    if site_id is not None and not viewer.principal.may_reach(site_id):
        site_id = -1  # a site out of reach matches nothing, as in the API
    until = _day(chosen.day_to)
    return TransactionFilter(
        charge_point_id=chosen.charge_point or None,
        id_tag=(chosen.id_tag or None) if viewer.sees_driver_data else None,
        active={"active": True, "finished": False}.get(chosen.state),
        since=_day(chosen.day_from),
        until=until + timedelta(days=1) if until else None,
        site_id=site_id,
        scope=await charge_point_scope(uow, viewer.principal),
    )


@router.get("/transactions")
async def transaction_list(
    request: Request, viewer: ConsoleUser, store: StoreDep, chosen: SelectionDep, offset: int = 0
) -> HTMLResponse:
    offset = max(0, offset)
    async with store.unit_of_work() as uow:
        filters = await _filters(uow, viewer, chosen)
        found = await reporting.list_transactions(uow, Window(PAGE, offset), filters)
        sites = await reachable_sites(uow, viewer.principal)
    return render(
        request,
        "transactions.html",
        viewer=viewer,
        found=found,
        chosen=chosen,
        errors=chosen.errors(),
        sites=sites,
        offset=offset,
        page=PAGE,
    )


@router.get("/transactions.csv")
async def transaction_csv(viewer: ConsoleUser, store: StoreDep, chosen: SelectionDep) -> StreamingResponse:
    """The API's `GET /transactions.csv` (same columns and cells) for the list's filters."""
    async with store.unit_of_work() as uow:
        filters = await _filters(uow, viewer, chosen)

    async def rows() -> Any:
        async for view in reporting.iter_transactions(store, filters):
            yield present(view, viewer.principal).model_dump(mode="json")

    return csv_response(list(TransactionOut.model_fields), rows(), "transactions.csv")


async def _transaction(uow: UnitOfWork, viewer: Viewer, transaction_id: int) -> TransactionView | None:
    scope = await charge_point_scope(uow, viewer.principal)
    return await reporting.get_transaction(uow, transaction_id, scope=scope)


@router.get("/transactions/{transaction_id}")
async def transaction_page(
    transaction_id: int, request: Request, viewer: ConsoleUser, store: StoreDep
) -> HTMLResponse:
    async with store.unit_of_work() as uow:
        view = await _transaction(uow, viewer, transaction_id)
        profiles = [] if view is None else await reporting.transaction_profiles(uow, view.transaction)
    if view is None:
        detail = f"Transaction {transaction_id} does not exist."
        return render(request, "error.html", 404, viewer=viewer, title="Not found", detail=detail)
    return render(
        request,
        "transaction.html",
        viewer=viewer,
        view=view,
        out=present(view, viewer.principal),
        profiles=profiles,
        refresh_s=REFRESH_S if view.active else 0,
    )


@router.get("/transactions/{transaction_id}/meter-values.json")
async def transaction_series(transaction_id: int, viewer: ConsoleUser, store: StoreDep) -> JSONResponse:
    """The transaction's samples as the chart's columns (`meter_series`); times in Unix seconds."""
    async with store.unit_of_work() as uow:
        view = await _transaction(uow, viewer, transaction_id)
        values = [] if view is None else await reporting.transaction_meter_values(uow, transaction_id)
    if view is None:
        return JSONResponse({"detail": f"transaction {transaction_id} not found"}, status_code=404)
    return JSONResponse(meter_series(values), headers={"Cache-Control": "no-store"})
