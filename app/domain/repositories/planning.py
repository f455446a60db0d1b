"""Repositories of smart charging: sites, groups, forecasts, overrides, session demand, schedules."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from app.domain.ocpp import ChargePoint, Connector, Transaction
from app.domain.paging import Found, Window
from app.domain.planning import (
    ComplianceEvent,
    Forecast,
    ForecastInterval,
    Override,
    OverrideAudit,
    OverrideKind,
    OverrideScope,
    ProfileDispatch,
    ScheduleEntry,
    ScheduleRevision,
    SessionDemand,
    Site,
    SiteGroup,
)


@dataclass(frozen=True)
class PowerSample:
    """Active power a charge point of a site reported (the total, not a phase) for a transaction."""

    transaction_id: int | None
    at: datetime
    power_w: float | None


class ForecastLimit(NamedTuple):
    """One posted row of a forecast, as resampling reads it."""

    forecast_pk: int
    start: datetime
    end: datetime
    limit_kw: float


class PostedRow(Protocol):
    """A forecast row as parsed from a post."""

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...

    @property
    def limit_kw(self) -> float: ...


@dataclass(frozen=True)
class SessionContext:
    """A transaction with the demand set for it and the site its charge point is in (None: no site)."""

    transaction: Transaction
    demand: SessionDemand | None
    site: Site | None


@dataclass(frozen=True)
class PastSession:
    """A completed transaction of an id tag: when it ran and the energy its meter counted."""

    id_tag: str
    started_at: datetime
    stopped_at: datetime
    energy_wh: float


class SiteRepository(Protocol):
    """Sites, the charge points assigned to them and what those reported drawing."""

    def add(self, site: Site) -> None: ...

    async def get(self, site_id: int) -> Site | None: ...

    async def named(self, name: str) -> Site | None: ...

    async def member_counts(self, site_id: int) -> tuple[int, int]:
        """How many groups and charge points the site has."""
        ...

    async def delete(self, site: Site) -> bool:
        """Delete the site with its forecasts; False (nothing deleted) while something else refers to it."""
        ...

    async def charge_points(self, site_id: int, group_id: int | None = None) -> list[ChargePoint]:
        """The site's charge points (only those of `group_id` when given), by id."""
        ...

    async def connectors(self, charge_point_ids: Collection[str]) -> list[Connector]:
        """Their connectors (connector 0, the charge point itself, left out), in order."""
        ...

    async def power_samples(self, site_id: int, start: datetime, end: datetime) -> list[PowerSample]:
        """The active power its charge points reported in [start, end)."""
        ...

    async def list(self, site_ids: Collection[int] | None = None) -> list[Site]:
        """By id; all sites, or those of `site_ids`."""
        ...


class GroupRepository(Protocol):
    """Groups (feeders) of a site, a tree by `parent_id`."""

    def add(self, group: SiteGroup) -> None: ...

    async def get(self, group_id: int) -> SiteGroup | None: ...

    async def named(self, site_id: int, name: str) -> SiteGroup | None: ...

    async def member_counts(self, group_id: int) -> tuple[int, int]:
        """How many child groups and charge points the group has."""
        ...

    async def delete(self, group: SiteGroup) -> None: ...

    async def list(self, site_id: int) -> list[SiteGroup]:
        """The site's groups by id."""
        ...


class ForecastRepository(Protocol):
    """Forecasts as posted, their rows, and what covers a window."""

    async def add(self, forecast: Forecast) -> bool:
        """Store `forecast` (it gets its id); False when another one took its key first (nothing stored)."""
        ...

    async def add_rows(self, forecast: Forecast, rows: Sequence[PostedRow]) -> None:
        """Its rows as posted, numbered from 0, in one statement."""
        ...

    async def get(self, forecast_pk: int) -> Forecast | None: ...

    async def named(self, site_id: int, forecast_id: str) -> Forecast | None: ...

    async def issued(self, site_id: int, issued_at: datetime) -> Forecast | None: ...

    async def rows(self, forecast_pk: int) -> list[ForecastInterval]:
        """As posted, in order."""
        ...

    async def covering(
        self, site_id: int, start: datetime, end: datetime, *, as_of: datetime | None = None
    ) -> list[Forecast]:
        """The site's forecasts that reach into [start, end) (received by `as_of`, when given)."""
        ...

    async def limits(
        self, forecast_pks: Collection[int], start: datetime, end: datetime
    ) -> list[ForecastLimit]:
        """The rows of these forecasts that overlap [start, end)."""
        ...

    async def list(
        self,
        site_id: int,
        window: Window,
        *,
        forecast_id: str | None = None,
        issued_from: datetime | None = None,
        issued_to: datetime | None = None,
    ) -> Found[Forecast]:
        """Most recently issued first; `issued_from` inclusive, `issued_to` exclusive."""
        ...


class OverrideRepository(Protocol):
    """Overrides and their audit trail."""

    def add(self, override: Override) -> None: ...

    def add_audit(self, audit: OverrideAudit) -> None: ...

    async def get(self, override_id: int) -> Override | None: ...

    async def audit(self, override_id: int) -> list[OverrideAudit]:
        """Oldest first."""
        ...

    async def in_force(self, site_id: int, start: datetime, end: datetime) -> list[Override]:
        """Not deleted, in force at some time in [start, end), and scoped inside the site by its current
        topology (a charge point, connector or transaction by the site its charge point is in); by id."""
        ...

    async def list(
        self,
        window: Window,
        *,
        now: datetime,
        active: bool | None = None,
        include_deleted: bool = False,
        site_id: int | None = None,
        scope: OverrideScope | None = None,
        kind: OverrideKind | None = None,
        charge_point_id: str | None = None,
        transaction_id: int | None = None,
    ) -> Found[Override]:
        """Newest first. `active` True: in force at `now`; False: not in force at `now`. Deleted ones
        only with `include_deleted` (or `active=False`)."""
        ...


class DemandRepository(Protocol):
    """Transactions as planning sees them: the demand set for them, their site, their tag's history."""

    async def get(self, transaction_id: int) -> SessionDemand | None: ...

    def add(self, demand: SessionDemand) -> None: ...

    async def delete(self, demand: SessionDemand) -> None: ...

    async def sessions(self, transaction_ids: Collection[int]) -> list[SessionContext]:
        """These transactions with their demand and site (unknown ids left out)."""
        ...

    async def past_sessions(self, id_tags: Collection[str], last: int) -> list[PastSession]:
        """Per tag, its `last` completed transactions with a meter stop."""
        ...


class ScheduleRepository(Protocol):
    """Schedule revisions and their entries as read back; profile dispatches."""

    async def get(self, revision_id: int) -> ScheduleRevision | None: ...

    async def latest(self, site_id: int) -> ScheduleRevision | None: ...

    async def starting_before(self, site_id: int, end: datetime) -> list[ScheduleRevision]:
        """The site's revisions that start before `end`, oldest first."""
        ...

    async def entries(self, revision_id: int) -> list[ScheduleEntry]:
        """By transaction id."""
        ...

    async def latest_entry(self, transaction_id: int) -> tuple[ScheduleEntry, ScheduleRevision] | None:
        """The transaction's most recent plan and the revision it belongs to."""
        ...

    async def latest_dispatch(self, transaction_id: int) -> ProfileDispatch | None:
        """The last TxProfile sent (or not sent) for the transaction."""
        ...

    async def list(
        self, site_id: int, window: Window, *, since: datetime | None = None, until: datetime | None = None
    ) -> Found[ScheduleRevision]:
        """Newest first; made in [since, until)."""
        ...

    async def record_compliance(self, event: ComplianceEvent) -> None: ...

    async def latest_compliance(self, transaction_id: int) -> ComplianceEvent | None:
        """The transaction's last compliance event: non-compliant now when it says so."""
        ...

    async def compliance_events(
        self, site_id: int, window: Window, *, since: datetime | None = None, until: datetime | None = None
    ) -> Found[ComplianceEvent]:
        """The site's compliance events, newest first; settled by a sample (`at`) in [since, until)."""
        ...
