"""Schedules: a site's current plan and its history, a transaction's plan and profile, a site's load."""

from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import StreamingResponse

from app.api.csv import csv_response
from app.api.deps import ClockDep, OperatorDep, ReaderDep, StoreDep, UowDep, check_site_access
from app.api.schemas import (
    ComplianceOut,
    EntryOut,
    LoadIntervalOut,
    Page,
    ReplanOut,
    RevisionOut,
    RowId,
    ScheduleOut,
    TransactionScheduleOut,
    problems,
)
from app.api.support import CSV_RESPONSE, Since, Until, WindowDep, paged, service_problems, time_range
from app.domain.enums import Role
from app.domain.persistence import UnitOfWork
from app.domain.ports import Replanner
from app.services.errors import Invalid
from app.services.planning import schedules, sites
from app.services.planning import site_load as load

router = APIRouter(tags=["schedules"], responses=problems(401, 403, 404))


async def _schedule(uow: UnitOfWork, site_id: RowId, revision_id: RowId | None = None) -> ScheduleOut:
    with service_problems():
        if revision_id is None:
            revision = await schedules.latest_revision(uow, site_id)
        else:
            revision = await schedules.get_revision(uow, site_id, revision_id)
        assert revision.id is not None
        entries = await schedules.revision_entries(uow, revision.id)
    return ScheduleOut(
        revision=RevisionOut.model_validate(revision), entries=[EntryOut.model_validate(e) for e in entries]
    )


RevisionQuery = Annotated[
    RowId | None, Query(alias="revision", description="this revision of the site's (default: the latest)")
]


@router.get("/sites/{site_id}/schedule", summary="The site's current schedule: every transaction's plan")
async def current_schedule(
    site_id: RowId, uow: UowDep, principal: ReaderDep, revision_id: RevisionQuery = None
) -> ScheduleOut:
    check_site_access(principal, site_id)
    return await _schedule(uow, site_id, revision_id)


@router.get(
    "/sites/{site_id}/schedule.csv",
    summary="The site's current schedule, or `?revision=`, as CSV: one row per transaction and interval",
    response_class=StreamingResponse,
    responses=CSV_RESPONSE,
)
async def current_schedule_csv(
    site_id: RowId, uow: UowDep, principal: ReaderDep, revision_id: RevisionQuery = None
) -> StreamingResponse:
    check_site_access(principal, site_id)
    schedule = await _schedule(uow, site_id, revision_id)
    revision = schedule.revision
    step = timedelta(minutes=revision.interval_minutes)

    async def rows() -> AsyncIterator[Mapping[str, Any]]:
        for entry in schedule.entries:
            for t, power_kw in enumerate(entry.power_kw):
                yield {
                    "revision_id": revision.id,
                    "transaction_id": entry.transaction_id,
                    "charge_point_id": entry.charge_point_id,
                    "connector_id": entry.connector_id,
                    "start": revision.start + t * step,
                    "end": revision.start + (t + 1) * step,
                    "power_kw": power_kw,
                }

    columns = ["revision_id", "transaction_id", "charge_point_id", "connector_id", "start", "end", "power_kw"]
    name = f"site-{site_id}-schedule" + ("" if revision_id is None else f"-{revision_id}")
    return csv_response(columns, rows(), f"{name}.csv")


@router.get(
    "/sites/{site_id}/schedule/revisions",
    summary="The site's schedule revisions, newest first",
    description="`from`/`to`: made in [from, to).",
    responses=problems(422),
)
async def list_revisions(
    site_id: RowId,
    uow: UowDep,
    principal: ReaderDep,
    window: WindowDep,
    since: Since = None,
    until: Until = None,
) -> Page[RevisionOut]:
    check_site_access(principal, site_id)
    since, until = time_range(since, until)
    with service_problems():
        found = await schedules.list_revisions(uow, site_id, window, since=since, until=until)
    return paged([RevisionOut.model_validate(r) for r in found.items], found, window)


@router.get(
    "/sites/{site_id}/schedule/revisions/{revision_id}", summary="One schedule revision with its plans"
)
async def get_revision(site_id: RowId, revision_id: RowId, uow: UowDep, principal: ReaderDep) -> ScheduleOut:
    check_site_access(principal, site_id)
    return await _schedule(uow, site_id, revision_id)


@router.post(
    "/sites/{site_id}/schedule/replan",
    status_code=status.HTTP_201_CREATED,
    summary="Plan the site now and send the profiles that change",
    description="On an `api` process the scheduler process plans it; 503 when none answers.",
    responses=problems(503),
)
async def replan(site_id: RowId, request: Request, store: StoreDep, _: OperatorDep) -> ReplanOut:
    async with store.unit_of_work() as uow:  # let go of the connection before planning needs one
        with service_problems():
            await sites.get_site(uow, site_id)
    replanner: Replanner = request.app.state.replanner
    with service_problems():
        revision_id = await replanner.replan_now(site_id, "operator request")
    return ReplanOut(revision_id=revision_id)


@router.get(
    "/transactions/{transaction_id}/schedule",
    summary="A transaction's current plan and the charging profile sent for it, with its acceptance",
)
async def transaction_schedule(
    transaction_id: RowId, uow: UowDep, principal: ReaderDep
) -> TransactionScheduleOut:
    site_ids = principal.site_ids if principal.role is Role.grid_operator else None
    with service_problems():
        found = await schedules.transaction_schedule(uow, transaction_id, site_ids=site_ids)
    return TransactionScheduleOut.model_validate(
        {
            "revision": found.revision,
            "entry": found.entry,
            "profile": found.dispatch,
            "compliance": found.compliance,
        },
        from_attributes=True,
    )


@router.get(
    "/sites/{site_id}/compliance",
    summary="Transactions found drawing over the limits they accepted, and compliant again; newest first",
    description="`from`/`to`: settled by a sample taken in [from, to).",
    responses=problems(422),
)
async def compliance_events(
    site_id: RowId,
    uow: UowDep,
    principal: ReaderDep,
    window: WindowDep,
    since: Since = None,
    until: Until = None,
) -> Page[ComplianceOut]:
    check_site_access(principal, site_id)
    since, until = time_range(since, until)
    with service_problems():
        found = await schedules.compliance_events(uow, site_id, window, since=since, until=until)
    return paged([ComplianceOut.model_validate(e) for e in found.items], found, window)


LOAD_WINDOW = "`from`–`to`: default from an hour ago, for a day; at most 10,000 intervals."


async def _site_load(
    uow: UnitOfWork, site_id: int, now: datetime, since: datetime | None, until: datetime | None
) -> list[LoadIntervalOut]:
    since, until = time_range(since, until)
    with service_problems():
        site = await sites.get_site(uow, site_id)
        since = since or now - timedelta(hours=1)
        until = until or since + timedelta(days=1)
        if (until - since) / timedelta(minutes=site.interval_minutes) > 10_000:
            raise Invalid("query.to: at most 10,000 intervals at a time")
        intervals = await load.site_load(uow, site_id, since, until)
    return [LoadIntervalOut.model_validate(i, from_attributes=True) for i in intervals]


@router.get(
    "/sites/{site_id}/load",
    summary="Per interval: forecast limit, capacity, planned and measured site power",
    description=LOAD_WINDOW,
    responses=problems(422),
)
async def site_load(
    site_id: RowId,
    uow: UowDep,
    principal: ReaderDep,
    clock: ClockDep,
    since: Since = None,
    until: Until = None,
) -> list[LoadIntervalOut]:
    check_site_access(principal, site_id)
    return await _site_load(uow, site_id, clock.now(), since, until)


@router.get(
    "/sites/{site_id}/load.csv",
    summary="The site's load as CSV: one row per interval, the columns of `GET /sites/{site_id}/load`",
    description=LOAD_WINDOW,
    response_class=StreamingResponse,
    responses={**CSV_RESPONSE, **problems(422)},
)
async def site_load_csv(
    site_id: RowId,
    uow: UowDep,
    principal: ReaderDep,
    clock: ClockDep,
    since: Since = None,
    until: Until = None,
) -> StreamingResponse:
    check_site_access(principal, site_id)
    intervals = await _site_load(uow, site_id, clock.now(), since, until)

    async def rows() -> AsyncIterator[Mapping[str, Any]]:
        for interval in intervals:
            yield interval.model_dump()

    return csv_response(list(LoadIntervalOut.model_fields), rows(), f"site-{site_id}-load.csv")
