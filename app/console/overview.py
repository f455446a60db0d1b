"""What the console's pages show, composed from the services the API reads through (one read path): the
home page's counts and lists, a site's load now. Each is limited to what the viewer's key may see."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.access import Principal
from app.domain.enums import CommandStatus, Role
from app.domain.ocpp import Command
from app.domain.paging import Window
from app.domain.persistence import UnitOfWork
from app.domain.planning import ComplianceEvent, Site
from app.domain.queries import CommandFilter, StatusSummary
from app.services.access import charge_point_scope
from app.services.ocpp import reporting
from app.services.planning import schedules, sites
from app.services.planning.site_load import LoadInterval, site_load

__all__ = ["Overview", "SiteNow", "overview", "reachable_sites", "site_now"]

FAILED = (CommandStatus.rejected, CommandStatus.error, CommandStatus.timeout)
RECENT = 10


@dataclass(frozen=True)
class SiteNow:
    site: Site
    now: LoadInterval  # the interval under way

    @property
    def share_of_limit(self) -> float | None:
        measured = self.now.measured_kw
        return None if measured is None or self.now.limit_kw <= 0 else measured / self.now.limit_kw


@dataclass(frozen=True)
class Overview:
    summary: StatusSummary
    sites: list[SiteNow]
    non_compliant: list[ComplianceEvent]  # transactions drawing over their limits now
    failures: list[Command]  # the latest commands refused, failed or unanswered

    @property
    def offline(self) -> int:
        return self.summary.charge_points - self.summary.connected_charge_points


async def reachable_sites(uow: UnitOfWork, principal: Principal) -> list[Site]:
    """The sites the API lists for this key (a grid operator's: its own)."""
    reach = principal.site_ids if principal.role is Role.grid_operator else None
    return await sites.list_sites(uow, reach)


async def site_now(uow: UnitOfWork, site: Site, now: datetime) -> SiteNow:
    assert site.id is not None
    interval = await site_load(uow, site.id, now, now + timedelta(minutes=site.interval_minutes))
    return SiteNow(site, interval[0])


async def _non_compliant(uow: UnitOfWork, site_ids: list[int]) -> list[ComplianceEvent]:
    """Per transaction still active, its latest compliance event when that says non-compliant."""
    latest: dict[int, ComplianceEvent] = {}
    for site_id in site_ids:
        for event in (await schedules.compliance_events(uow, site_id, Window(limit=100))).items:
            latest.setdefault(event.transaction_id, event)
    out = []
    for event in latest.values():
        transaction = await reporting.get_transaction(uow, event.transaction_id)
        if event.non_compliant and transaction is not None and transaction.active:
            out.append(event)
    return sorted(out, key=lambda e: e.at, reverse=True)


async def overview(
    uow: UnitOfWork, principal: Principal, *, now: datetime, connected_ids: Collection[str]
) -> Overview:
    scope = await charge_point_scope(uow, principal)
    summary = await reporting.status_summary(uow, now=now, connected_ids=connected_ids, scope=scope)
    reachable = await reachable_sites(uow, principal)
    failures: list[Command] = []
    for status in FAILED:
        found = await reporting.list_commands(
            uow, Window(limit=RECENT), CommandFilter(status=status.value, scope=scope)
        )
        failures.extend(found.items)
    failures.sort(key=lambda c: c.created_at, reverse=True)
    return Overview(
        summary=summary,
        sites=[await site_now(uow, site, now) for site in reachable],
        non_compliant=await _non_compliant(uow, [s.id for s in reachable if s.id is not None]),
        failures=failures[:RECENT],
    )
