"""Failed HTTP Basic attempts at the upgrade, counted per charge point id and per source address.

Over either limit within the moving window, an attempt is refused before its password is hashed (429 with
Retry-After) until the oldest failure leaves the window. The address a charge point last authenticated from
is not held back by that charge point's own limit (someone guessing its password cannot keep it from
reconnecting), only by the limit of the address itself.
"""

import math
import time

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

    def retry_after_s(self, charge_point_id: str, address: str) -> int | None:
        """Whole seconds until an attempt from `address` for `charge_point_id` may be made; None: now."""
        limits: list[tuple[RateLimitItem, str]] = [(self._per_address, address)]
        if self._last_good.get(charge_point_id) != address:
            limits.append((self._per_charge_point, charge_point_id))
        waits = [self._wait_s(item, key) for item, key in limits if not self._limiter.test(item, key)]
        return max(waits) if waits else None

    def failed(self, charge_point_id: str, address: str) -> None:
        self._limiter.hit(self._per_address, address)
        self._limiter.hit(self._per_charge_point, charge_point_id)

    def succeeded(self, charge_point_id: str, address: str) -> None:
        self._last_good[charge_point_id] = address

    def _wait_s(self, item: RateLimitItem, key: str) -> int:
        reset_at = self._limiter.get_window_stats(item, key).reset_time
        return max(1, math.ceil(reset_at - time.time()))
