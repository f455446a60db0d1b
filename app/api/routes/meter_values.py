"""Meter values: query and CSV export."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from app.api.csv import csv_response
from app.api.deps import ReaderDep, StoreDep, UowDep
from app.api.schemas import INT32_MAX, MeterValueOut, Page, RowId, problems
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
from app.services.ocpp import reporting
from app.services.ocpp.reporting import MeterValueFilter

router = APIRouter(
    tags=["meter values"], responses=problems(401, 403, 422), generate_unique_id_function=operation_id
)


def meter_value_filter(
    scope: ScopeDep,
    site_id: SiteFilterDep,
    charge_point_id: str | None = None,
    connector_id: Annotated[int | None, Query(ge=0, le=INT32_MAX)] = None,
    transaction_id: RowId | None = None,
    measurand: Annotated[str | None, Query(examples=["Energy.Active.Import.Register"])] = None,
    since: Since = None,
    until: Until = None,
) -> MeterValueFilter:
    since, until = time_range(since, until)
    return MeterValueFilter(
        charge_point_id, connector_id, transaction_id, measurand, since, until, scope, site_id=site_id
    )


FilterDep = Annotated[MeterValueFilter, Depends(meter_value_filter)]


@router.get(
    "/meter-values",
    summary="Sampled values, oldest first",
    description="`from`/`to`: sampled in [from, to).",
    responses=problems(404, 422),
)
async def list_meter_values(
    uow: UowDep, _: ReaderDep, window: WindowDep, filters: FilterDep
) -> Page[MeterValueOut]:
    page = await reporting.list_meter_values(uow, window, filters)
    return paged([MeterValueOut.model_validate(row) for row in page.items], page, window)


@router.get(
    "/meter-values.csv",
    summary="All matching sampled values as CSV",
    description="The filters of `GET /meter-values`; columns as its items.",
    response_class=StreamingResponse,
    responses={**CSV_RESPONSE, **problems(404, 422)},
)
async def meter_values_csv(store: StoreDep, _: ReaderDep, filters: FilterDep) -> StreamingResponse:
    async def rows() -> AsyncIterator[dict[str, Any]]:
        async for value in reporting.iter_meter_values(store, filters):
            yield MeterValueOut.model_validate(value).model_dump(mode="json")

    return csv_response(list(MeterValueOut.model_fields), rows(), "meter-values.csv")
