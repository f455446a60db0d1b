"""Schedules: a site's current plan and its history, a transaction's plan and profile, a site's load."""

from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import StreamingResponse

from app.api.csv import csv_response
from app.api.deps import OperatorDep, ReaderDep, SessionDep, check_site_access
from app.api.schedule_schemas import (
    EntryOut,
    LoadIntervalOut,
    ReplanOut,
    RevisionOut,
    ScheduleOut,
    TransactionScheduleOut,
)
from app.api.schemas import Page, problems
from app.api.support import CSV_RESPONSE, Since, Until, WindowDep, service_problems, time_range
from app.services.planning import schedules, sites

router = APIRouter(tags=["schedules"], responses=problems(401, 403, 404))


async def _schedule(session: SessionDep, site_id: int, revision_id: int | None = None) -> ScheduleOut:
    with service_problems():
        if revision_id is None:
            revision = await schedules.latest_revision(session, site_id)
        else:
            revision = await schedules.get_revision(session, site_id, revision_id)
        assert revision.id is not None
        entries = await schedules.revision_entries(session, revision.id)
    return ScheduleOut(
        revision=RevisionOut.model_validate(revision), entries=[EntryOut.model_validate(e) for e in entries]
    )


@router.get("/sites/{site_id}/schedule", summary="The site's current schedule: every transaction's plan")
async def current_schedule(site_id: int, session: SessionDep, principal: ReaderDep) -> ScheduleOut:
    check_site_access(principal, site_id)
    return await _schedule(session, site_id)


@router.get(
    "/sites/{site_id}/schedule.csv",
    summary="The site's current schedule as CSV: one row per transaction and interval",
    response_class=StreamingResponse,
    responses=CSV_RESPONSE,
)
async def current_schedule_csv(site_id: int, session: SessionDep, principal: ReaderDep) -> StreamingResponse:
    check_site_access(principal, site_id)
    schedule = await _schedule(session, site_id)
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
    return csv_response(columns, rows(), f"site-{site_id}-schedule.csv")


@router.get("/sites/{site_id}/schedule/revisions", summary="The site's schedule revisions, newest first")
async def list_revisions(
    site_id: int, session: SessionDep, principal: ReaderDep, window: WindowDep
) -> Page[RevisionOut]:
    check_site_access(principal, site_id)
    with service_problems():
        items, total = await schedules.list_revisions(
            session, site_id, limit=window.limit, offset=window.offset
        )
    return Page(
        items=[RevisionOut.model_validate(r) for r in items],
        total=total,
        limit=window.limit,
        offset=window.offset,
    )


@router.get(
    "/sites/{site_id}/schedule/revisions/{revision_id}", summary="One schedule revision with its plans"
)
async def get_revision(
    site_id: int, revision_id: int, session: SessionDep, principal: ReaderDep
) -> ScheduleOut:
    check_site_access(principal, site_id)
    return await _schedule(session, site_id, revision_id)


@router.post(
    "/sites/{site_id}/schedule/replan",
    status_code=status.HTTP_201_CREATED,
    summary="Plan the site now and send the profiles that change",
)
async def replan(site_id: int, request: Request, session: SessionDep, _: OperatorDep) -> ReplanOut:
    with service_problems():
        await sites.get_site(session, site_id)
    revision_id = await request.app.state.scheduler.replan_now(site_id, "operator request")
    return ReplanOut(revision_id=revision_id)


@router.get(
    "/transactions/{transaction_id}/schedule",
    summary="A transaction's current plan and the charging profile sent for it, with its acceptance",
)
async def transaction_schedule(
    transaction_id: int, session: SessionDep, _: ReaderDep
) -> TransactionScheduleOut:
    with service_problems():
        found = await schedules.transaction_schedule(session, transaction_id)
    return TransactionScheduleOut.model_validate(
        {"revision": found.revision, "entry": found.entry, "profile": found.dispatch}, from_attributes=True
    )


@router.get(
    "/sites/{site_id}/load",
    summary="Per interval: forecast limit, capacity, planned and measured site power",
    responses=problems(422),
)
async def site_load(
    site_id: int,
    request: Request,
    session: SessionDep,
    principal: ReaderDep,
    since: Since = None,
    until: Until = None,
) -> list[LoadIntervalOut]:
    check_site_access(principal, site_id)
    since, until = time_range(since, until)
    with service_problems():
        site = await sites.get_site(session, site_id)
        since = since or request.app.state.clock.now() - timedelta(hours=1)
        until = until or since + timedelta(days=1)
        if (until - since) / timedelta(minutes=site.interval_minutes) > 10_000:
            raise sites.Invalid("query.to: at most 10,000 intervals at a time")
        load = await schedules.site_load(session, site_id, since, until)
    return [LoadIntervalOut.model_validate(i, from_attributes=True) for i in load]
