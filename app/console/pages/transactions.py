"""Transactions: the list, newest first, with filters (active or finished, charge point, id tag) and the
energy each delivered, as `GET /transactions` lists them for the viewer's key."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.api.deps import StoreDep
from app.console.auth import ConsoleUser
from app.console.templating import render
from app.domain.paging import Window
from app.domain.queries import TransactionFilter
from app.services.access import charge_point_scope
from app.services.ocpp import reporting

router = APIRouter(include_in_schema=False)

PAGE = 50


@router.get("/transactions")
async def transaction_list(
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    state: str = "",
    charge_point: str = "",
    id_tag: str = "",
    offset: int = 0,
) -> HTMLResponse:
    async with store.unit_of_work() as uow:
        filters = TransactionFilter(
            charge_point_id=charge_point.strip() or None,
            id_tag=id_tag.strip() or None,
            active={"active": True, "finished": False}.get(state),
            scope=await charge_point_scope(uow, viewer.principal),
        )
        found = await reporting.list_transactions(uow, Window(PAGE, max(0, offset)), filters)
    return render(
        request,
        "transactions.html",
        viewer=viewer,
        found=found,
        state=state,
        charge_point=charge_point,
        id_tag=id_tag,
        offset=max(0, offset),
        page=PAGE,
    )
