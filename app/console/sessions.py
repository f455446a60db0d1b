"""Console log-in sessions, kept in the server's memory: the browser holds a random session id only (an
HttpOnly cookie); the API key it was opened with stays here and is checked again on every request, so a
revoked key ends its sessions. Repeated failed log-ins from one address lock it out for a while."""

import secrets
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = ["ConsoleSession", "LoginThrottle", "Sessions"]


@dataclass
class ConsoleSession:
    token: str  # the API key the operator logged in with
    csrf: str  # sent back with every form of this session
    expires_at: datetime


@dataclass
class Sessions:
    """Open sessions by id; one expires after `idle` without a request."""

    idle: timedelta = timedelta(hours=8)
    _open: dict[str, ConsoleSession] = field(default_factory=dict)

    def open(self, token: str, now: datetime) -> str:
        self._expire(now)
        session_id = secrets.token_urlsafe(32)
        self._open[session_id] = ConsoleSession(token, secrets.token_urlsafe(32), now + self.idle)
        return session_id

    def get(self, session_id: str | None, now: datetime) -> ConsoleSession | None:
        session = self._open.get(session_id or "")
        if session is None or session.expires_at <= now:
            self._open.pop(session_id or "", None)
            return None
        session.expires_at = now + self.idle
        return session

    def close(self, session_id: str | None) -> None:
        self._open.pop(session_id or "", None)

    def _expire(self, now: datetime) -> None:
        for session_id in [s for s, session in self._open.items() if session.expires_at <= now]:
            del self._open[session_id]


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
