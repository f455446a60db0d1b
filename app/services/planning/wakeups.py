"""The scheduler's timing: one wake-up per site at an instant of the service clock (it replans a site when an
override takes or loses effect, not at the next interval boundary: a 2-minute pause lasts 2 minutes), and
the countdown of one plan's sends (read-backs wait for them)."""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

from app.domain.ports import Clock

__all__ = ["Countdown", "Wakeups"]


class Wakeups:
    """At most one pending wake-up per site, re-armed by every plan of the site. An override that changes
    replans its site, and that plan re-arms (or cancels) the wake-up: one set for an override since moved
    or deleted does not fire. A wake-up sleeps on the clock (scaled or not), never polls."""

    def __init__(self, clock: Clock, wake: Callable[[int], None]) -> None:
        self._clock = clock
        self._wake = wake
        self._pending: dict[int, tuple[datetime, asyncio.Task[None]]] = {}

    def arm(self, site_id: int, at: datetime | None) -> None:
        """Call `wake(site_id)` at `at`, instead of any earlier request for the site; None: never."""
        pending = self._pending.get(site_id)
        if pending is not None:
            if pending[0] == at and not pending[1].done():
                return
            pending[1].cancel()
            del self._pending[site_id]
        if at is not None:
            task = asyncio.get_running_loop().create_task(self._sleep_then_wake(site_id, at))
            self._pending[site_id] = (at, task)

    def at(self, site_id: int) -> datetime | None:
        """When `site_id` is to be woken (None: not at all)."""
        pending = self._pending.get(site_id)
        return pending[0] if pending is not None and not pending[1].done() else None

    def stop(self) -> None:
        for _, task in self._pending.values():
            task.cancel()
        self._pending.clear()

    async def _sleep_then_wake(self, site_id: int, at: datetime) -> None:
        # again if woken early (a scaled clock rounds): `at` has passed when the site is planned
        while (left_s := (at - self._clock.now()).total_seconds()) > 0:
            await self._clock.sleep(left_s)
        self._wake(site_id)


class Countdown:
    """Set once `count_down` has been called `n` times: the sends of one plan, before their read-backs."""

    def __init__(self, n: int) -> None:
        self._left = n
        self._done = asyncio.Event()
        if n <= 0:
            self._done.set()

    def count_down(self) -> None:
        self._left -= 1
        if self._left <= 0:
            self._done.set()

    async def wait(self, timeout_s: float) -> None:
        """Until set, or `timeout_s` at most (one charge point that does not answer holds nobody up)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._done.wait(), timeout_s)
