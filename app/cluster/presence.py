"""A gateway's presence: its claims in the presence table, its lease, and what it tells the others.

`GatewayPresence` is the `app.domain.presence.Presence` port of a gateway process. A claim that replaces a
live holder on another gateway tells that gateway to close its connection (as one process closes the older
of two connections of one charge point); claims and releases are announced so that the other processes'
view of who is connected follows within a message. Without Redis a gateway goes on serving: claims are in
the table, and the others read it at their next renewal.
"""

import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

from app.cluster.link import RedisLink
from app.cluster.renewal import Renewing
from app.cluster.routing import gateway_channel, presence_channel
from app.db.presence import SqlPresence
from app.services.errors import Unavailable

log = logging.getLogger(__name__)


class GatewayPresence:
    def __init__(self, directory: SqlPresence, link: RedisLink, gateway_id: str, *, lease_s: float) -> None:
        self.directory = directory
        self.gateway_id = gateway_id
        self.lease_s = lease_s
        self._link = link

    async def claim(self, charge_point_id: str, connection_id: str) -> None:
        previous = await self.directory.claim(charge_point_id, self.gateway_id, connection_id)
        if previous is not None and previous.gateway_id != self.gateway_id:
            log.warning("%s: taken over from gateway %s", charge_point_id, previous.gateway_id)
            close = {
                "op": "close",
                "charge_point_id": charge_point_id,
                "connection_id": previous.connection_id,
            }
            try:
                await self._link.publish(gateway_channel(self._link, previous.gateway_id), close)
            except Unavailable as error:
                log.warning("%s: gateway %s not told to close its connection: %s", charge_point_id,
                            previous.gateway_id, error.detail)  # fmt: skip
        await self._announce(charge_point_id, True)

    async def release(self, charge_point_id: str, connection_id: str) -> bool:
        released = await self.directory.release(charge_point_id, connection_id)
        if released:
            await self._announce(charge_point_id, False)
        return released

    async def leave(self) -> list[str]:
        """Drop this gateway's lease and claims (at a clean stop, and at start: an earlier run's claims
        under the same id hold nothing now); returns the charge points it held."""
        held = await self.directory.leave(self.gateway_id)
        for charge_point_id in held:
            await self._announce(charge_point_id, False)
        return held

    async def _announce(self, charge_point_id: str, held: bool) -> None:
        """Tell the other processes at once (without Redis they read the table at their next renewal)."""
        with contextlib.suppress(Unavailable):
            await self._link.publish(
                presence_channel(self._link), {"charge_point_id": charge_point_id, "held": held}
            )


class LeaseKeeper(Renewing):
    """Renews a process's view of presence every third of the lease: a gateway's own lease (claiming its
    connections again if it had lapsed), and in every scale-out process the reaping of dead gateways'
    claims (`on_lost` gets the charge points they held; each is handed to one process only)."""

    def __init__(
        self,
        directory: SqlPresence,
        *,
        lease_s: float,
        on_lost: Callable[[list[str]], Awaitable[None]],
        gateway: tuple[str, Callable[[], Mapping[str, str]]] | None = None,
        after: Callable[[], Awaitable[None]] | None = None,
        reclaimed: Callable[[list[str]], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(lease_s, "presence lease")
        self._reclaimed = reclaimed  # a gateway's: what it claimed again (the reaper had let them go)
        self._directory = directory
        self._on_lost = on_lost
        self._gateway = gateway
        self._after = after

    async def tick(self) -> None:
        if self._gateway is not None:
            gateway_id, held = self._gateway
            if not await self._directory.renew(gateway_id, self._lease_s):
                claimed = await self._directory.claim_all(gateway_id, held())
                if claimed and self._reclaimed is not None:
                    await self._reclaimed(claimed)
        lost = await self._directory.reap()
        if lost:
            log.warning("%d charge points' gateway stopped renewing its lease: now disconnected", len(lost))
            await self._on_lost(lost)
        if self._after is not None:
            await self._after()
