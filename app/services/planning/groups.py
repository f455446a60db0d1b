"""Groups (feeders) of a site, a tree by `parent_id`: a constant capacity, a daily profile in the site's
local time, or neither (no limit); and their capacity per planning interval."""

import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, time
from typing import Any

from app.domain.clock import utcnow
from app.domain.persistence import UnitOfWork
from app.domain.planning import SiteGroup
from app.services.errors import Conflict, Invalid, NotFound
from app.services.planning.capacity import group_capacity
from app.services.planning.sites import get_site

__all__ = [
    "create_group",
    "delete_group",
    "get_group",
    "group_capacities",
    "list_groups",
    "update_group",
]

GROUP_FIELDS = frozenset({"name", "parent_id", "capacity_kw", "capacity_profile"})


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


async def _check_parent(uow: UnitOfWork, group: SiteGroup) -> None:
    if group.parent_id is None:
        return
    parents = {g.id: g.parent_id for g in await uow.groups.list(group.site_id)}
    if group.parent_id not in parents:
        raise NotFound(f"parent group {group.parent_id} not found in site {group.site_id}")
    seen = {group.id}
    cursor: int | None = group.parent_id
    while cursor is not None:
        if cursor in seen:
            raise Conflict(f"parent {group.parent_id} would make a cycle through group {group.id}")
        seen.add(cursor)
        cursor = parents.get(cursor)


async def _check(uow: UnitOfWork, group: SiteGroup) -> None:
    """Valid on its own, under a parent of its site without a cycle, and named uniquely in the site."""
    _check_group(group)
    await _check_parent(uow, group)
    other = await uow.groups.named(group.site_id, group.name)
    if other is not None and other.id != group.id:
        raise Conflict(f"a group named {group.name!r} exists in site {group.site_id}")


async def get_group(uow: UnitOfWork, site_id: int, group_id: int) -> SiteGroup:
    group = await uow.groups.get(group_id)
    if group is None or group.site_id != site_id:
        raise NotFound(f"group {group_id} not found in site {site_id}")
    return group


async def list_groups(uow: UnitOfWork, site_id: int) -> list[SiteGroup]:
    return await uow.groups.list(site_id)


async def create_group(uow: UnitOfWork, site_id: int, values: Mapping[str, Any]) -> SiteGroup:
    await get_site(uow, site_id)
    group = SiteGroup(site_id=site_id, **{k: v for k, v in values.items() if k in GROUP_FIELDS})
    await _check(uow, group)
    uow.groups.add(group)
    await uow.flush()
    return group


async def update_group(uow: UnitOfWork, site_id: int, group_id: int, changes: Mapping[str, Any]) -> SiteGroup:
    group = await get_group(uow, site_id, group_id)
    changes = {k: v for k, v in changes.items() if k in GROUP_FIELDS}
    # setting one kind of capacity replaces the other unless both are given
    for given, other in (("capacity_kw", "capacity_profile"), ("capacity_profile", "capacity_kw")):
        if changes.get(given) is not None and other not in changes:
            changes[other] = None
    changed = replace(group, **changes)  # checked apart: nothing is written before the checks pass
    await _check(uow, changed)
    for key in GROUP_FIELDS:
        setattr(group, key, getattr(changed, key))
    group.updated_at = utcnow()
    await uow.flush()
    return group


async def delete_group(uow: UnitOfWork, site_id: int, group_id: int) -> None:
    group = await get_group(uow, site_id, group_id)
    children, cps = await uow.groups.member_counts(group_id)
    if children or cps:
        raise Conflict(f"group {group_id} still has {children} child group(s) and {cps} charge point(s)")
    await uow.groups.delete(group)
    await uow.flush()


async def group_capacities(
    uow: UnitOfWork, site_id: int, start: datetime, n_intervals: int
) -> dict[int, list[float] | None]:
    """Capacity per group per interval (kW); None for a group without a limit."""
    site = await get_site(uow, site_id)
    return {
        group.id: group_capacity(site, group, start, n_intervals)
        for group in await uow.groups.list(site_id)
        if group.id is not None
    }
