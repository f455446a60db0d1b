"""What planning reads in one go (a site's snapshot) and the revisions it stores."""

from datetime import datetime
from typing import Protocol

from app.domain.planning import ScheduleEntry, ScheduleRevision
from app.domain.snapshot import DefaultProfileBasis, SiteSnapshot


class PlanRepository(Protocol):
    async def snapshot(
        self, site_id: int, at: datetime, horizon: int, *, history: int
    ) -> SiteSnapshot | None:
        """The site as planning sees it for `horizon` intervals from the one holding `at` (None: no such
        site); `history` completed sessions per id tag for demand estimates."""
        ...

    async def add_revision(self, revision: ScheduleRevision, entries: list[ScheduleEntry]) -> int:
        """Store a revision with its entries (their `revision_id` is set here); returns its id."""
        ...

    async def site_of(self, charge_point_id: str) -> int | None:
        """The site a charge point is assigned to."""
        ...

    async def charge_points_in(self, site_id: int) -> list[str]:
        """The ids of the charge points assigned to a site, in order."""
        ...

    async def site_intervals(self) -> dict[int, int]:
        """Every site's planning interval (minutes), by site id."""
        ...

    async def default_profile_basis(self, charge_point_id: str) -> DefaultProfileBasis | None:
        """None for a charge point that is not assigned to a site."""
        ...
