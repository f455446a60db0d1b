"""Reading schedules: a site's current plan and its history, a transaction's plan with the profile it was
sent, and a site's load per interval (forecast, planned and measured side by side)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.tables.ocpp import charge_point_table, meter_value_table
from app.db.tables.planning import profile_dispatch_table, schedule_entry_table, schedule_revision_table
from app.domain.clock import as_utc
from app.domain.ocpp import Transaction
from app.domain.planning import ProfileDispatch, ScheduleEntry, ScheduleRevision
from app.services.planning.capacity import floor_to_interval, interval_starts
from app.services.planning.forecasts import effective_forecast
from app.services.planning.sites import NotFound, get_site

__all__ = [
    "LoadInterval",
    "TransactionSchedule",
    "get_revision",
    "latest_revision",
    "list_revisions",
    "revision_entries",
    "site_load",
    "transaction_schedule",
]


async def latest_revision(session: AsyncSession, site_id: int) -> ScheduleRevision:
    await get_site(session, site_id)
    query = select(ScheduleRevision).where(schedule_revision_table.c.site_id == site_id)
    revision = (await session.exec(query.order_by(schedule_revision_table.c.id.desc()).limit(1))).first()
    if revision is None:
        raise NotFound(f"site {site_id} has no schedule yet")
    return revision


async def get_revision(session: AsyncSession, site_id: int, revision_id: int) -> ScheduleRevision:
    revision = await session.get(ScheduleRevision, revision_id)
    if revision is None or revision.site_id != site_id:
        raise NotFound(f"schedule revision {revision_id} of site {site_id} not found")
    return revision


async def list_revisions(
    session: AsyncSession, site_id: int, *, limit: int, offset: int
) -> tuple[list[ScheduleRevision], int]:
    await get_site(session, site_id)
    where = schedule_revision_table.c.site_id == site_id
    total = (await session.exec(select(func.count()).select_from(ScheduleRevision).where(where))).one()
    query = select(ScheduleRevision).where(where).order_by(schedule_revision_table.c.id.desc())
    return list((await session.exec(query.limit(limit).offset(offset))).all()), total


async def revision_entries(session: AsyncSession, revision_id: int) -> list[ScheduleEntry]:
    query = select(ScheduleEntry).where(schedule_entry_table.c.revision_id == revision_id)
    return list((await session.exec(query.order_by(schedule_entry_table.c.transaction_id))).all())


@dataclass(frozen=True)
class TransactionSchedule:
    entry: ScheduleEntry
    revision: ScheduleRevision
    dispatch: ProfileDispatch | None  # the latest TxProfile sent (or not sent) for the transaction


async def transaction_schedule(session: AsyncSession, transaction_id: int) -> TransactionSchedule:
    if await session.get(Transaction, transaction_id) is None:
        raise NotFound(f"transaction {transaction_id} not found")
    query = select(ScheduleEntry, ScheduleRevision).join(
        ScheduleRevision, schedule_revision_table.c.id == schedule_entry_table.c.revision_id
    )
    row = (
        await session.exec(
            query.where(schedule_entry_table.c.transaction_id == transaction_id)
            .order_by(schedule_entry_table.c.id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        raise NotFound(f"transaction {transaction_id} has not been scheduled")
    dispatch = (
        await session.exec(
            select(ProfileDispatch)
            .where(profile_dispatch_table.c.transaction_id == transaction_id)
            .order_by(profile_dispatch_table.c.id.desc())
            .limit(1)
        )
    ).first()
    return TransactionSchedule(entry=row[0], revision=row[1], dispatch=dispatch)


@dataclass(frozen=True)
class LoadInterval:
    start: datetime
    end: datetime
    limit_kw: float  # the forecast (or fallback) limit
    capacity_kw: float  # what the scheduler may plan: grid-capped, less the safety margin
    planned_kw: float | None  # the plan in force for the interval (the latest revision made before it ended)
    measured_kw: float | None  # mean of the reported active power of the site's transactions


async def site_load(
    session: AsyncSession, site_id: int, since: datetime, until: datetime
) -> list[LoadInterval]:
    site = await get_site(session, site_id)
    step = timedelta(minutes=site.interval_minutes)
    start = floor_to_interval(since, site.interval_minutes)
    n = max(1, int((until - start) / step + 0.999999))
    forecast = await effective_forecast(session, site_id, start, n)
    revisions = (
        await session.exec(
            select(ScheduleRevision)
            .where(
                schedule_revision_table.c.site_id == site_id,
                schedule_revision_table.c.start < start + n * step,
            )
            .order_by(schedule_revision_table.c.id)
        )
    ).all()
    planned: list[float | None] = [None] * n
    for t, at in enumerate(interval_starts(start, n, site.interval_minutes)):
        # in creation order: the last revision made before the interval ended that covers it
        for revision in revisions:
            index = int((at - revision.start) / timedelta(minutes=revision.interval_minutes))
            if 0 <= index < revision.n_intervals and revision.created_at < at + step:
                planned[t] = revision.planned_kw[index]
    measured = await _measured_kw(session, site_id, start, n, step)
    return [
        LoadInterval(f.start, f.end, f.limit_kw, f.capacity_kw, planned[t], measured.get(t))
        for t, f in enumerate(forecast)
    ]


async def _measured_kw(
    session: AsyncSession, site_id: int, start: datetime, n: int, step: timedelta
) -> dict[int, float]:
    """Per interval: the sum over transactions of each one's mean reported active power."""
    site_cps = select(charge_point_table.c.id).where(charge_point_table.c.site_id == site_id)
    rows = (
        await session.exec(
            select(
                meter_value_table.c.transaction_id,
                meter_value_table.c.timestamp,
                meter_value_table.c.value_normalised,
            ).where(
                meter_value_table.c.charge_point_id.in_(site_cps),
                meter_value_table.c.measurand == "Power.Active.Import",
                meter_value_table.c.phase.is_(None),
                meter_value_table.c.value_normalised.is_not(None),
                meter_value_table.c.timestamp >= start,
                meter_value_table.c.timestamp < start + n * step,
            )
        )
    ).all()
    samples: dict[tuple[int, int | None], list[float]] = defaultdict(list)
    for tx, at, watts in rows:
        index = int((as_utc(at) - start) / step)
        samples[(index, tx)].append(float(watts or 0.0) / 1000)
    out: dict[int, float] = defaultdict(float)
    for (index, _), values in samples.items():
        out[index] += sum(values) / len(values)
    return dict(out)
