"""Charging transactions: lists, CSV export, detail with meter values and energy."""

from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import StreamingResponse

from app.api.csv import csv_response
from app.api.deps import ReaderDep, StoreDep, UowDep, sees_driver_data
from app.api.errors import Problem
from app.api.schemas import INT32_MAX, MeterValueOut, Page, RowId, TransactionDetail, TransactionOut, problems
from app.api.support import (
    CSV_RESPONSE,
    ScopeDep,
    Since,
    SiteFilterDep,
    Until,
    WindowDep,
    operation_id,
    paged,
    time_range,
)
from app.domain.access import Principal
from app.services.ocpp import reporting
from app.services.ocpp.reporting import TransactionFilter, TransactionView

router = APIRouter(
    tags=["transactions"], responses=problems(401, 403, 422), generate_unique_id_function=operation_id
)


def present(view: TransactionView, principal: Principal) -> TransactionOut:
    fields = {**asdict(view.transaction), "active": view.active, "energy_wh": view.energy_wh}
    if not sees_driver_data(principal):
        fields |= {"id_tag": None, "stop_id_tag": None}
    return TransactionOut.model_validate(fields)


def transaction_filter(
    scope: ScopeDep,
    principal: ReaderDep,
    site_id: SiteFilterDep,
    charge_point_id: str | None = None,
    connector_id: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
    id_tag: str | None = None,
    since: Since = None,
    until: Until = None,
    active: Annotated[bool | None, Query(description="true: not stopped yet")] = None,
) -> TransactionFilter:
    if id_tag is not None and not sees_driver_data(principal):
        raise Problem(
            403, f"role {principal.role.value!r} may not select by id tag: drivers' tags are not its data"
        )
    since, until = time_range(since, until)
    return TransactionFilter(
        charge_point_id=charge_point_id,
        connector_id=connector_id,
        id_tag=id_tag,
        since=since,
        until=until,
        active=active,
        scope=scope,
        site_id=site_id,
    )


FilterDep = Annotated[TransactionFilter, Depends(transaction_filter)]
OVERLAP = "`from`/`to` select the transactions that overlap [from, to)."


@router.get(
    "/transactions",
    summary="List transactions, newest first",
    description=OVERLAP,
    responses=problems(404, 422),
)
async def list_transactions(
    uow: UowDep, principal: ReaderDep, window: WindowDep, filters: FilterDep
) -> Page[TransactionOut]:
    page = await reporting.list_transactions(uow, window, filters)
    return paged([present(view, principal) for view in page.items], page, window)


@router.get(
    "/transactions.csv",
    summary="All matching transactions as CSV, oldest first",
    description=f"The filters of `GET /transactions`; columns as its items. {OVERLAP}",
    response_class=StreamingResponse,
    responses={**CSV_RESPONSE, **problems(404, 422)},
)
async def transactions_csv(store: StoreDep, principal: ReaderDep, filters: FilterDep) -> StreamingResponse:
    async def rows() -> AsyncIterator[dict[str, Any]]:
        async for view in reporting.iter_transactions(store, filters):
            yield present(view, principal).model_dump(mode="json")

    return csv_response(list(TransactionOut.model_fields), rows(), "transactions.csv")


@router.get(
    "/transactions/{transaction_id}",
    summary="A transaction with its meter values and energy",
    responses=problems(404),
)
async def get_transaction(
    transaction_id: Annotated[RowId, Path(description="the OCPP transactionId")],
    uow: UowDep,
    principal: ReaderDep,
    scope: ScopeDep,
) -> TransactionDetail:
    view = await reporting.get_transaction(uow, transaction_id, scope=scope)
    if view is None:
        raise Problem(404, f"transaction {transaction_id} does not exist")
    values = await reporting.transaction_meter_values(uow, transaction_id)
    return TransactionDetail.model_validate(
        {
            **present(view, principal).model_dump(),
            "meter_values": [MeterValueOut.model_validate(value) for value in values],
        }
    )
