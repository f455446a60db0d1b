"""Sites and their topology: groups (feeders) as a tree, charge points assigned to a site and a group.

Also the planning grid every other planning service shares: intervals of `site.interval_minutes`, aligned
to the UTC epoch, and the errors the planning services raise.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.tables.ocpp import charge_point_table, connector_table
from app.db.tables.planning import forecast_interval_table, forecast_table, site_group_table, site_table
from app.domain.clock import utcnow
from app.domain.ocpp import ChargePoint, Connector
from app.domain.planning import Forecast, ForecastInterval, Site, SiteGroup
from app.services.errors import Conflict, Invalid, NotFound
from app.services.planning.capacity import group_capacity

__all__ = [
    "ALLOWED_INTERVAL_MINUTES",
    "ChargePointNode",
    "Conflict",
    "ConnectorNode",
    "GroupNode",
    "Invalid",
    "NotFound",
    "SiteTopology",
    "assign_charge_point",
    "create_group",
    "create_site",
    "delete_group",
    "delete_site",
    "get_group",
    "get_site",
    "group_capacities",
    "list_charge_points",
    "list_groups",
    "list_sites",
    "site_topology",
    "unassign_charge_point",
    "update_group",
    "update_site",
    "validate_timezone",
]

# Intervals divide an hour, or are whole hours that divide a day, so that they align to the UTC epoch.
ALLOWED_INTERVAL_MINUTES = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440)
SITE_FIELDS = frozenset(
    {
        "name",
        "timezone",
        "interval_minutes",
        "grid_connection_limit_kw",
        "fallback_limit_kw",
        "safety_margin_kw",
        "default_duration_minutes",
        "default_energy_kwh",
    }
)
GROUP_FIELDS = frozenset({"name", "parent_id", "capacity_kw", "capacity_profile"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())  # scans the tz database: once


def validate_timezone(name: str) -> str:
    if name not in _zones():
        raise Invalid(f"timezone: {name!r} is not an IANA time zone")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(f"timezone: {name!r} is not an IANA time zone") from exc
    return name


# --- sites ---------------------------------------------------------------------------------------------


def _check_site(site: Site) -> None:
    validate_timezone(site.timezone)
    if site.interval_minutes not in ALLOWED_INTERVAL_MINUTES:
        raise Invalid(f"interval_minutes: must be one of {', '.join(map(str, ALLOWED_INTERVAL_MINUTES))}")
    for name in ("grid_connection_limit_kw", "fallback_limit_kw", "safety_margin_kw", "default_energy_kwh"):
        value = getattr(site, name)
        if value is not None and (not math.isfinite(value) or value < 0):
            raise Invalid(f"{name}: must be a finite number ≥ 0")
    if site.grid_connection_limit_kw <= 0:
        raise Invalid("grid_connection_limit_kw: must be > 0")
    if site.default_duration_minutes is not None and site.default_duration_minutes <= 0:
        raise Invalid("default_duration_minutes: must be > 0")


async def _name_taken(session: AsyncSession, name: str, site_id: int | None) -> bool:
    query = select(site_table.c.id).where(site_table.c.name == name)
    if site_id is not None:
        query = query.where(site_table.c.id != site_id)
    return (await session.exec(query)).first() is not None


async def create_site(session: AsyncSession, values: Mapping[str, Any]) -> Site:
    site = Site(**{k: v for k, v in values.items() if k in SITE_FIELDS})
    _check_site(site)
    if await _name_taken(session, site.name, None):
        raise Conflict(f"a site named {site.name!r} exists")
    session.add(site)
    await session.flush()
    return site


async def get_site(session: AsyncSession, site_id: int) -> Site:
    site = await session.get(Site, site_id)
    if site is None:
        raise NotFound(f"site {site_id} not found")
    return site


async def list_sites(session: AsyncSession, site_ids: Iterable[int] | None = None) -> list[Site]:
    query = select(Site).order_by(site_table.c.id)
    if site_ids is not None:
        query = query.where(site_table.c.id.in_(list(site_ids)))
    return list((await session.exec(query)).all())


async def update_site(session: AsyncSession, site_id: int, changes: Mapping[str, Any]) -> Site:
    site = await get_site(session, site_id)
    if "name" in changes and await _name_taken(session, changes["name"], site_id):
        raise Conflict(f"a site named {changes['name']!r} exists")
    for key, value in changes.items():
        if key in SITE_FIELDS:
            setattr(site, key, value)
    _check_site(site)
    site.updated_at = utcnow()
    await session.flush()
    return site


async def delete_site(session: AsyncSession, site_id: int) -> None:
    """Delete a site with its forecasts; refused while it has groups or charge points."""
    site = await get_site(session, site_id)
    groups = (await session.exec(select(func.count()).where(site_group_table.c.site_id == site_id))).one()
    cps = (await session.exec(select(func.count()).where(charge_point_table.c.site_id == site_id))).one()
    if groups or cps:
        raise Conflict(f"site {site_id} still has {groups} group(s) and {cps} charge point(s)")
    try:
        async with session.begin_nested():
            await session.exec(delete(ForecastInterval).where(forecast_interval_table.c.site_id == site_id))
            await session.exec(delete(Forecast).where(forecast_table.c.site_id == site_id))
            await session.delete(site)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"site {site_id} is still referenced (e.g. by dispatched profiles)") from exc


# --- groups --------------------------------------------------------------------------------------------


def _check_profile(profile: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """A daily step profile in local time: `[{"start": "HH:MM", "capacity_kw": x}, …]`, starts increasing."""
    if profile is None:
        return None
    if not profile:
        raise Invalid("capacity_profile: needs at least one step")
    out: list[dict[str, Any]] = []
    previous: time | None = None
    for i, step in enumerate(profile):
        raw_start, kw = step.get("start"), step.get("capacity_kw")
        try:
            start = raw_start if isinstance(raw_start, time) else time.fromisoformat(str(raw_start))
        except ValueError as exc:
            raise Invalid(f"capacity_profile[{i}].start: not a time of day (HH:MM)") from exc
        if start.tzinfo is not None:
            raise Invalid(f"capacity_profile[{i}].start: local time of day, without an offset")
        if not isinstance(kw, int | float) or isinstance(kw, bool) or not math.isfinite(kw) or kw < 0:
            raise Invalid(f"capacity_profile[{i}].capacity_kw: must be a finite number ≥ 0")
        if previous is not None and start <= previous:
            raise Invalid(f"capacity_profile[{i}].start: steps must be in increasing order")
        previous = start
        out.append({"start": start.strftime("%H:%M:%S" if start.second else "%H:%M"), "capacity_kw": kw})
    return out


def _check_group(group: SiteGroup) -> None:
    if group.capacity_kw is not None and group.capacity_profile is not None:
        raise Invalid("capacity_kw and capacity_profile: give one of them, not both")
    if group.capacity_kw is not None and (not math.isfinite(group.capacity_kw) or group.capacity_kw < 0):
        raise Invalid("capacity_kw: must be a finite number ≥ 0")
    group.capacity_profile = _check_profile(group.capacity_profile)
    if not group.name or not group.name.strip():
        raise Invalid("name: must not be empty")


async def get_group(session: AsyncSession, site_id: int, group_id: int) -> SiteGroup:
    group = await session.get(SiteGroup, group_id)
    if group is None or group.site_id != site_id:
        raise NotFound(f"group {group_id} not found in site {site_id}")
    return group


async def list_groups(session: AsyncSession, site_id: int) -> list[SiteGroup]:
    query = select(SiteGroup).where(site_group_table.c.site_id == site_id).order_by(site_group_table.c.id)
    return list((await session.exec(query)).all())


async def _check_parent(session: AsyncSession, group: SiteGroup) -> None:
    if group.parent_id is None:
        return
    parents = {g.id: g.parent_id for g in await list_groups(session, group.site_id)}
    if group.parent_id not in parents:
        raise NotFound(f"parent group {group.parent_id} not found in site {group.site_id}")
    seen = {group.id}
    cursor: int | None = group.parent_id
    while cursor is not None:
        if cursor in seen:
            raise Conflict(f"parent {group.parent_id} would make a cycle through group {group.id}")
        seen.add(cursor)
        cursor = parents.get(cursor)


async def _group_name_taken(session: AsyncSession, group: SiteGroup) -> bool:
    query = select(site_group_table.c.id).where(
        site_group_table.c.site_id == group.site_id, site_group_table.c.name == group.name
    )
    if group.id is not None:
        query = query.where(site_group_table.c.id != group.id)
    return (await session.exec(query)).first() is not None


async def create_group(session: AsyncSession, site_id: int, values: Mapping[str, Any]) -> SiteGroup:
    await get_site(session, site_id)
    group = SiteGroup(site_id=site_id, **{k: v for k, v in values.items() if k in GROUP_FIELDS})
    _check_group(group)
    await _check_parent(session, group)
    if await _group_name_taken(session, group):
        raise Conflict(f"a group named {group.name!r} exists in site {site_id}")
    session.add(group)
    await session.flush()
    return group


async def update_group(
    session: AsyncSession, site_id: int, group_id: int, changes: Mapping[str, Any]
) -> SiteGroup:
    group = await get_group(session, site_id, group_id)
    changes = dict(changes)
    # setting one kind of capacity replaces the other unless both are given
    for given, other in (("capacity_kw", "capacity_profile"), ("capacity_profile", "capacity_kw")):
        if changes.get(given) is not None and other not in changes:
            changes[other] = None
    with session.no_autoflush:  # nothing is written before the checks pass
        for key, value in changes.items():
            if key in GROUP_FIELDS:
                setattr(group, key, value)
        _check_group(group)
        await _check_parent(session, group)
        if await _group_name_taken(session, group):
            raise Conflict(f"a group named {group.name!r} exists in site {site_id}")
    group.updated_at = utcnow()
    await session.flush()
    return group


async def delete_group(session: AsyncSession, site_id: int, group_id: int) -> None:
    group = await get_group(session, site_id, group_id)
    children = (
        await session.exec(select(func.count()).where(site_group_table.c.parent_id == group_id))
    ).one()
    cps = (await session.exec(select(func.count()).where(charge_point_table.c.group_id == group_id))).one()
    if children or cps:
        raise Conflict(f"group {group_id} still has {children} child group(s) and {cps} charge point(s)")
    await session.delete(group)
    await session.flush()


# --- charge points -------------------------------------------------------------------------------------


async def assign_charge_point(
    session: AsyncSession, site_id: int, charge_point_id: str, group_id: int | None
) -> ChargePoint:
    """Put a charge point in a site, and in one of its groups (or directly under the site when None)."""
    await get_site(session, site_id)
    cp = await session.get(ChargePoint, charge_point_id)
    if cp is None:
        raise NotFound(f"charge point {charge_point_id!r} not found")
    if group_id is not None:
        await get_group(session, site_id, group_id)
    cp.site_id, cp.group_id = site_id, group_id
    await session.flush()
    return cp


async def unassign_charge_point(session: AsyncSession, site_id: int, charge_point_id: str) -> None:
    cp = await session.get(ChargePoint, charge_point_id)
    if cp is None or cp.site_id != site_id:
        raise NotFound(f"charge point {charge_point_id!r} not found in site {site_id}")
    cp.site_id, cp.group_id = None, None
    await session.flush()


async def list_charge_points(
    session: AsyncSession, site_id: int, group_id: int | None = None
) -> list[ChargePoint]:
    query = (
        select(ChargePoint).where(charge_point_table.c.site_id == site_id).order_by(charge_point_table.c.id)
    )
    if group_id is not None:
        query = query.where(charge_point_table.c.group_id == group_id)
    return list((await session.exec(query)).all())


# --- topology and group capacity for the scheduler -----------------------------------------------------


@dataclass(frozen=True)
class ConnectorNode:
    connector_id: int
    phases: int
    nominal_voltage_v: float
    max_current_a: float
    status: str | None

    @property
    def max_kw(self) -> float:
        return self.phases * self.nominal_voltage_v * self.max_current_a / 1000.0


@dataclass(frozen=True)
class ChargePointNode:
    id: str
    group_id: int | None
    connected: bool
    connectors: list[ConnectorNode] = field(default_factory=list)


@dataclass(frozen=True)
class GroupNode:
    id: int
    name: str
    parent_id: int | None
    capacity_kw: float | None
    capacity_profile: list[dict[str, Any]] | None


@dataclass(frozen=True)
class SiteTopology:
    site: Site
    groups: list[GroupNode]
    charge_points: list[ChargePointNode]


async def site_topology(session: AsyncSession, site_id: int) -> SiteTopology:
    """The site, its groups and its charge points with their connectors (connector 0 left out)."""
    site = await get_site(session, site_id)
    groups = [
        GroupNode(g.id or 0, g.name, g.parent_id, g.capacity_kw, g.capacity_profile)
        for g in await list_groups(session, site_id)
    ]
    cps = await list_charge_points(session, site_id)
    connectors: dict[str, list[ConnectorNode]] = {cp.id: [] for cp in cps}
    if cps:
        query = (
            select(Connector)
            .where(
                connector_table.c.charge_point_id.in_(list(connectors)), connector_table.c.connector_id > 0
            )
            .order_by(connector_table.c.charge_point_id, connector_table.c.connector_id)
        )
        for c in (await session.exec(query)).all():
            connectors[c.charge_point_id].append(
                ConnectorNode(c.connector_id, c.phases, c.nominal_voltage_v, c.max_current_a, c.status)
            )
    nodes = [ChargePointNode(cp.id, cp.group_id, cp.connected, connectors[cp.id]) for cp in cps]
    return SiteTopology(site, groups, nodes)


async def group_capacities(
    session: AsyncSession, site_id: int, start: datetime, n_intervals: int
) -> dict[int, list[float] | None]:
    """Capacity per group per interval (kW); None for a group without a limit."""
    site = await get_site(session, site_id)
    groups = await list_groups(session, site_id)
    return {
        group.id: group_capacity(site, group, start, n_intervals) for group in groups if group.id is not None
    }
