"""A scheduler's share of the sites: `SiteShards` is the `SiteShard` of a scheduler process, kept by its
lease in PostgreSQL (`app.db.site_leases`).

Every third of the lease it renews the lease and takes its round: sites nobody holds (new ones, or those
of a scheduler whose lease lapsed) are claimed up to a fair share, sites over it given back; each site
gained is replanned at once. A site counts as held only while the lease last renewed runs by this process's
own clock, so a scheduler that cannot reach the database stops planning before another may take its sites.
"""

import logging
import time
from collections.abc import Callable

from app.cluster.renewal import Renewing
from app.db.site_leases import SqlSiteLeases

__all__ = ["SiteShards"]

log = logging.getLogger(__name__)


class SiteShards(Renewing):
    def __init__(
        self,
        leases: SqlSiteLeases,
        name: str,
        *,
        lease_s: float,
        on_gained: Callable[[set[int]], None],
    ) -> None:
        super().__init__(lease_s, "site lease")
        self.name = name
        self._leases = leases
        self._on_gained = on_gained
        self._held: frozenset[int] = frozenset()
        self._valid_until = 0.0  # time.monotonic() at which the last renewed lease runs out

    def owns(self, site_id: int) -> bool:
        return site_id in self._held and time.monotonic() < self._valid_until

    @property
    def held(self) -> frozenset[int]:
        return self._held if time.monotonic() < self._valid_until else frozenset()

    async def stop(self) -> None:
        """A clean stop: the lease and the sites go, for the other schedulers to take at their next round."""
        await super().stop()
        self._held = frozenset()
        await self._leases.leave(self.name)

    async def tick(self) -> None:
        renewed_at = time.monotonic()
        if not await self._leases.renew(self.name, self._lease_s):
            self._held = frozenset()  # none yet, or lapsed: what it held may be another's by now
        self._valid_until = renewed_at + self._lease_s
        held = await self._leases.balance(self.name)
        gained, lost = held - self._held, self._held - held
        self._held = frozenset(held)
        if lost:
            log.info("scheduler %s: %d sites given back (their share moved)", self.name, len(lost))
        if gained:
            log.info("scheduler %s: %d sites taken, %d held", self.name, len(gained), len(held))
            self._on_gained(gained)
