"""TxDefaultProfiles: what keeps a site safe while the central system is unreachable.

One goes to a charge point when it boots and, to every connected charge point of a site, when what they
share or may take changes (the site's fallback capacity, grid limit, margin or minimum current; a charge
point placed in, moved between or taken out of sites). Rounds are debounced per site: a fleet placed one
charge point after another gets one round, not one per charge point placed.
"""

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from app.domain.persistence import Store
from app.domain.ports import DispatchResult, ProfileSender
from app.services.planning.policy import DispatchState, default_limit_kw

__all__ = ["DefaultProfiles"]

# (charge point, result): stores the dispatch beside the TxProfiles'
Record = Callable[[str, DispatchResult], Awaitable[None]]


class DefaultProfiles:
    def __init__(
        self,
        store: Store,
        sender: ProfileSender,
        state: DispatchState,
        record: Record,
        spawn: Callable[[Coroutine[Any, Any, None]], None],
        *,
        debounce_s: float,
        share: float,
    ) -> None:
        self._store = store
        self._sender = sender
        self._state = state
        self._record = record
        self._spawn = spawn
        self._debounce_s = debounce_s
        self._share = share  # of the site's fallback capacity the default profiles add up to
        self._pending: set[int] = set()  # sites whose round is about to go out

    def send_to_site(self, site_id: int) -> None:
        """A new TxDefaultProfile to each connected charge point of the site, debounced (an offline one gets
        its own when it boots)."""
        if site_id in self._pending:
            return
        self._pending.add(site_id)
        self._spawn(self._round(site_id))

    async def _round(self, site_id: int) -> None:
        await asyncio.sleep(self._debounce_s)
        self._pending.discard(site_id)
        async with self._store.unit_of_work() as uow:
            charge_point_ids = await uow.plans.charge_points_in(site_id)
        for charge_point_id in charge_point_ids:
            if self._sender.is_connected(charge_point_id):
                self._spawn(self.send(charge_point_id))

    async def send(self, charge_point_id: str) -> None:
        """The charge point's share of its site's fallback capacity, as its TxDefaultProfile."""
        async with self._store.unit_of_work() as uow:
            basis = await uow.plans.default_profile_basis(charge_point_id)
        if basis is None:
            return
        min_kw = basis.min_current_a * basis.phases * basis.voltage_v / 1000
        limit_kw = default_limit_kw(basis.site, basis.connectors, self._share, min_kw)
        result = await self._sender.send_default_profile(
            charge_point_id,
            limit_kw,
            phases=basis.phases,
            voltage_v=basis.voltage_v,
            min_current_a=basis.min_current_a,
        )
        self._state.default_dispatched(charge_point_id, limit_kw, result)
        await self._record(charge_point_id, result)
