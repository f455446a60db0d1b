"""Failed HTTP Basic attempts at the upgrade, counted per charge point id and per source address.

Over either limit within the moving window, an attempt is refused before its password is hashed (429 with
Retry-After) until the oldest failure leaves the window. Attempts under way count as failures until they
are decided, so a burst of concurrent guesses is held to the limit too. The address a charge point last
authenticated from is not held back by that charge point's own limit (someone guessing its password cannot
keep it from reconnecting), only by the limit of the address itself.
"""

import math
import time
from collections import Counter

from cachetools import LRUCache
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

REMEMBERED_ADDRESSES = 100_000


class FailedAttempts:
    def __init__(self, *, per_charge_point: int, per_address: int, window_s: int) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_charge_point = RateLimitItemPerSecond(per_charge_point, window_s, namespace="ocpp-cp")
        self._per_address = RateLimitItemPerSecond(per_address, window_s, namespace="ocpp-address")
        self._last_good: LRUCache[str, str] = LRUCache(maxsize=REMEMBERED_ADDRESSES)
        self._pending: Counter[str] = Counter()

    def retry_after_s(self, charge_point_id: str, address: str) -> int | None:
        """Whole seconds until an attempt from `address` for `charge_point_id` may be made; None: now."""
        limits: list[tuple[RateLimitItem, str]] = [(self._per_address, address)]
        if self._last_good.get(charge_point_id) != address:
            limits.append((self._per_charge_point, charge_point_id))
        waits = [
            self._wait_s(item, key)
            for item, key in limits
            if not self._limiter.test(item, key, cost=1 + self._pending[item.key_for(key)])
        ]
        return max(waits) if waits else None

    def started(self, charge_point_id: str, address: str) -> None:
        """An attempt is under way."""
        self._pending[self._per_address.key_for(address)] += 1
        self._pending[self._per_charge_point.key_for(charge_point_id)] += 1

    def finished(self, charge_point_id: str, address: str, *, verdict: bool | None) -> None:
        """The attempt was decided: its password right (True), wrong (False), or not checked (None)."""
        for key in (self._per_address.key_for(address), self._per_charge_point.key_for(charge_point_id)):
            self._pending[key] -= 1
            if self._pending[key] <= 0:
                del self._pending[key]
        if verdict is True:
            self._last_good[charge_point_id] = address
        elif verdict is False:
            self._limiter.hit(self._per_address, address)
            self._limiter.hit(self._per_charge_point, charge_point_id)

    def _wait_s(self, item: RateLimitItem, key: str) -> int:
        reset_at = self._limiter.get_window_stats(item, key).reset_time
        return max(1, math.ceil(reset_at - time.time()))
