"""Failed HTTP Basic attempts at the upgrade, counted per charge point id and per source address.

Over either limit within the moving window, an attempt is refused before its password is hashed (429 with
Retry-After) until the oldest failure leaves the window. Attempts for a charge point under way count as its
failures until they are decided, so a burst of concurrent guesses is held to its limit too; an address has
a few verifications under way at a time (`slot`), and its limit is checked again before each. The address a
charge point last authenticated from is not held back by that charge point's own limit (someone guessing
its password cannot keep it from reconnecting), only by the limit of the address itself.
"""

import asyncio
import contextlib
import math
import time
from collections import Counter
from collections.abc import AsyncIterator

from cachetools import LRUCache
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

REMEMBERED_ADDRESSES = 100_000
SLOTS_PER_ADDRESS = 2


class FailedAttempts:
    def __init__(self, *, per_charge_point: int, per_address: int, window_s: int) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_charge_point = RateLimitItemPerSecond(per_charge_point, window_s, namespace="ocpp-cp")
        self._per_address = RateLimitItemPerSecond(per_address, window_s, namespace="ocpp-address")
        self._last_good: LRUCache[str, str] = LRUCache(maxsize=REMEMBERED_ADDRESSES)
        self._pending: Counter[str] = Counter()
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._slot_users: Counter[str] = Counter()

    def retry_after_s(self, charge_point_id: str, address: str, *, started: bool = False) -> int | None:
        """Whole seconds until an attempt from `address` for `charge_point_id` may be made; None: now.
        `started`: the attempt asking is counted already (`started` was called for it)."""
        costs: list[tuple[RateLimitItem, str, int]] = [(self._per_address, address, 1)]
        if self._last_good.get(charge_point_id) != address:
            costs.append((self._per_charge_point, charge_point_id, 0 if started else 1))
        waits = [
            self._wait_s(item, key)
            for item, key, own in costs
            if not self._limiter.test(item, key, cost=own + self._pending[item.key_for(key)])
        ]
        return max(waits) if waits else None

    def started(self, charge_point_id: str) -> None:
        """An attempt is under way."""
        self._pending[self._per_charge_point.key_for(charge_point_id)] += 1

    @contextlib.asynccontextmanager
    async def slot(self, charge_point_id: str, address: str) -> AsyncIterator[int | None]:
        """One of the `SLOTS_PER_ADDRESS` verifications `address` may have under way at a time; yields
        `retry_after_s` as it is once the slot is free (failures may have come in while this one waited)."""
        semaphore = self._slots.setdefault(address, asyncio.Semaphore(SLOTS_PER_ADDRESS))
        self._slot_users[address] += 1
        try:
            async with semaphore:
                wait_s = self.retry_after_s(charge_point_id, address, started=True)
                key = self._per_address.key_for(address)
                self._pending[key] += 1  # a verification under way counts as a failure until decided
                try:
                    yield wait_s
                finally:
                    self._pending[key] -= 1
                    if self._pending[key] <= 0:
                        del self._pending[key]
        finally:
            self._slot_users[address] -= 1
            if self._slot_users[address] == 0:
                del self._slot_users[address], self._slots[address]

    def finished(self, charge_point_id: str, address: str, *, verdict: bool | None) -> None:
        """The attempt was decided: its password right (True), wrong (False), or not checked (None)."""
        key = self._per_charge_point.key_for(charge_point_id)
        self._pending[key] -= 1
        if self._pending[key] <= 0:
            del self._pending[key]
        self.record(charge_point_id, address, verdict=verdict)

    def record(self, charge_point_id: str, address: str, *, verdict: bool | None) -> None:
        """The verdict on a password (also for an attempt abandoned while it was checked)."""
        if verdict is True:
            self._last_good[charge_point_id] = address
        elif verdict is False:
            self._limiter.hit(self._per_address, address)
            self._limiter.hit(self._per_charge_point, charge_point_id)

    def _wait_s(self, item: RateLimitItem, key: str) -> int:
        reset_at = self._limiter.get_window_stats(item, key).reset_time
        return max(1, math.ceil(reset_at - time.time()))
