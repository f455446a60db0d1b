"""What a site's page shows of the site itself: its groups (feeders) with their capacity now and the charge
points in each, and its sessions (the active transactions at its charge points) with the schedule the
planner gives each in the site's latest revision, from the interval under way on."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.domain.grid import floor_to_interval
from app.domain.paging import Window
from app.domain.persistence import UnitOfWork
from app.domain.planning import ScheduleEntry, ScheduleRevision, Site, SiteGroup
from app.domain.queries import TransactionFilter
from app.services.errors import NotFound
from app.services.ocpp import reporting
from app.services.ocpp.reporting import TransactionView
from app.services.planning import groups, schedules, topology
from app.services.planning.capacity import group_capacity

__all__ = ["GroupRow", "SessionRow", "Step", "layout_context", "steps_from"]

SESSIONS_SHOWN = 200
STEPS_SHOWN = 12  # changes of power shown per session; the API has the whole plan


@dataclass(frozen=True)
class GroupRow:
    group: SiteGroup
    parent: str | None  # the parent group's name
    capacity_now_kw: float | None  # None: no limit
    charge_point_ids: list[str]


@dataclass(frozen=True)
class Step:
    start: datetime
    power_kw: float


@dataclass(frozen=True)
class SessionRow:
    view: TransactionView
    entry: ScheduleEntry | None  # None: not in the latest revision (started since it was made)
    power_now_kw: float | None
    steps: list[Step]  # the plan from the interval under way, one step per change of power


def steps_from(
    revision: ScheduleRevision, entry: ScheduleEntry, now: datetime
) -> tuple[float | None, list[Step]]:
    """The entry's power in the interval under way (None outside the revision's horizon), and its plan
    from that interval on as steps, equal neighbours merged."""
    step = timedelta(minutes=revision.interval_minutes)
    current = int((floor_to_interval(now, revision.interval_minutes) - revision.start) / step)
    first = max(0, current)
    shown: list[Step] = []
    for t in range(first, len(entry.power_kw)):
        if not shown or entry.power_kw[t] != shown[-1].power_kw:
            shown.append(Step(revision.start + t * step, entry.power_kw[t]))
    now_kw = entry.power_kw[current] if 0 <= current < len(entry.power_kw) else None
    return now_kw, shown[:STEPS_SHOWN]


async def _groups(uow: UnitOfWork, site: Site, now: datetime) -> tuple[list[GroupRow], list[str]]:
    assert site.id is not None
    found = await groups.list_groups(uow, site.id)
    names = {g.id: g.name for g in found}
    charge_points = await topology.list_charge_points(uow, site.id)
    start = floor_to_interval(now, site.interval_minutes)
    rows = []
    for group in found:
        capacity = group_capacity(site, group, start, 1)
        members = [cp.id for cp in charge_points if cp.group_id == group.id]
        parent = names.get(group.parent_id) if group.parent_id is not None else None
        rows.append(GroupRow(group, parent, capacity[0] if capacity else None, members))
    return rows, [cp.id for cp in charge_points if cp.group_id is None]


async def _sessions(
    uow: UnitOfWork, site: Site, now: datetime
) -> tuple[ScheduleRevision | None, list[SessionRow]]:
    assert site.id is not None
    filters = TransactionFilter(active=True, site_id=site.id)
    active = await reporting.list_transactions(uow, Window(SESSIONS_SHOWN, 0), filters)
    try:
        revision: ScheduleRevision | None = await schedules.latest_revision(uow, site.id)
    except NotFound:
        revision = None
    entries: dict[int, ScheduleEntry] = {}
    if revision is not None and revision.id is not None:
        entries = {e.transaction_id: e for e in await schedules.revision_entries(uow, revision.id)}
    rows = []
    for view in active.items:
        entry = entries.get(view.transaction.id or 0)
        now_kw, steps = steps_from(revision, entry, now) if revision and entry else (None, [])
        rows.append(SessionRow(view, entry, now_kw, steps))
    return revision, rows


async def layout_context(uow: UnitOfWork, site: Site, now: datetime) -> dict[str, Any]:
    group_rows, ungrouped = await _groups(uow, site, now)
    revision, sessions = await _sessions(uow, site, now)
    return {"groups": group_rows, "ungrouped": ungrouped, "plan_revision": revision, "sessions": sessions}
