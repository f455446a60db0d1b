"""Repeated failed log-ins from one address lock it out for a while (in the server's memory: a restart
forgets the failures, not the sessions, which the database keeps)."""

from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = ["LoginThrottle"]


@dataclass
class LoginThrottle:
    """`max_failures` failed log-ins from one address within `window` lock it out for `lockout`."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=5)
    lockout: timedelta = timedelta(minutes=5)
    _failures: dict[str, deque[datetime]] = field(default_factory=lambda: defaultdict(deque))
    _locked: dict[str, datetime] = field(default_factory=dict)

    def locked_until(self, client: str, now: datetime) -> datetime | None:
        until = self._locked.get(client)
        if until is not None and until <= now:
            del self._locked[client]
            return None
        return until

    def failed(self, client: str, now: datetime) -> None:
        failures = self._failures[client]
        failures.append(now)
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if len(failures) >= self.max_failures:
            self._locked[client] = now + self.lockout
            failures.clear()

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)
