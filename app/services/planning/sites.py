"""Sites: grid connections with their limits, planning interval and session defaults."""

import math
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from app.domain.clock import utcnow
from app.domain.events import SiteChanged
from app.domain.persistence import UnitOfWork
from app.domain.planning import Site
from app.services.errors import Conflict, Invalid, NotFound

__all__ = [
    "ALLOWED_INTERVAL_MINUTES",
    "create_site",
    "delete_site",
    "get_site",
    "list_sites",
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
        "min_current_a",
    }
)


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


async def _name_taken(uow: UnitOfWork, name: str, site_id: int | None) -> bool:
    other = await uow.sites.named(name)
    return other is not None and other.id != site_id


async def create_site(uow: UnitOfWork, values: Mapping[str, Any]) -> Site:
    site = Site(**{k: v for k, v in values.items() if k in SITE_FIELDS})
    _check_site(site)
    if await _name_taken(uow, site.name, None):
        raise Conflict(f"a site named {site.name!r} exists")
    uow.sites.add(site)
    await uow.flush()
    return site


async def get_site(uow: UnitOfWork, site_id: int) -> Site:
    site = await uow.sites.get(site_id)
    if site is None:
        raise NotFound(f"site {site_id} not found")
    return site


async def list_sites(uow: UnitOfWork, site_ids: Iterable[int] | None = None) -> list[Site]:
    """By id; all sites, or those of `site_ids`."""
    return await uow.sites.list(None if site_ids is None else list(site_ids))


async def update_site(uow: UnitOfWork, site_id: int, changes: Mapping[str, Any]) -> Site:
    """Change a site's settings; the fields whose value changed are announced (`SiteChanged`): the
    scheduler replans the site and, when its fallback capacity changed, sends new default profiles."""
    site = await get_site(uow, site_id)
    if "name" in changes and await _name_taken(uow, changes["name"], site_id):
        raise Conflict(f"a site named {changes['name']!r} exists")
    changed = frozenset(
        key for key, value in changes.items() if key in SITE_FIELDS and getattr(site, key) != value
    )
    for key in changed:
        setattr(site, key, changes[key])
    _check_site(site)
    site.updated_at = utcnow()
    await uow.flush()
    if changed:
        uow.record(SiteChanged(site_id, changed))
    return site


async def delete_site(uow: UnitOfWork, site_id: int) -> None:
    """Delete a site with its forecasts; refused while it has groups or charge points."""
    site = await get_site(uow, site_id)
    groups, cps = await uow.sites.member_counts(site_id)
    if groups or cps:
        raise Conflict(f"site {site_id} still has {groups} group(s) and {cps} charge point(s)")
    if not await uow.sites.delete(site):
        raise Conflict(f"site {site_id} is still referenced (e.g. by dispatched profiles)")
