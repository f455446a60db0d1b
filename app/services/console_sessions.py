"""Console sessions, kept in the database so that they survive a restart. The browser holds a random token;
the database its SHA-256 digest (a copy of the table opens no session), who logged in (a console user or an
API key), and the CSRF token of the session's forms. The user or key is checked again on every request: a
disabled user, a changed password or a revoked key ends its sessions. A session ends after `IDLE` without
a request; its end moves forward at most once a minute (not a write per request)."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.access import ConsoleSession, Principal
from app.domain.persistence import UnitOfWork
from app.services.access import key_principal
from app.services.users import user_principal

__all__ = ["IDLE", "Resumed", "close_session", "open_session", "resume_session", "session_id"]

IDLE = timedelta(hours=8)
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Resumed:
    principal: Principal
    csrf: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_id(token: str) -> str:
    """The stored id of the session a cookie's token opens."""
    return _digest(token)


async def open_session(uow: UnitOfWork, principal: Principal, now: datetime) -> str:
    """A new session for `principal` (a user or an API key); returns the token for the cookie."""
    await uow.console_sessions.delete_expired(now)
    token = secrets.token_urlsafe(32)
    uow.console_sessions.add(
        ConsoleSession(
            id=_digest(token),
            csrf=secrets.token_urlsafe(32),
            user_id=principal.user_id,
            api_key_id=principal.key_id if principal.user_id is None else None,
            created_at=now,
            expires_at=now + IDLE,
        )
    )
    await uow.flush()
    return token


async def resume_session(uow: UnitOfWork, token: str | None, now: datetime) -> Resumed | None:
    """The session of `token`, while it lasts and its user or key may still log in."""
    if not token:
        return None
    session = await uow.console_sessions.get(_digest(token))
    if session is None:
        return None
    principal = None
    if session.expires_at > now:
        if session.user_id is not None:
            user = await uow.console_users.get(session.user_id)
            principal = None if user is None else user_principal(user)
        elif session.api_key_id is not None:
            key = await uow.api_keys.get(session.api_key_id)
            principal = None if key is None else key_principal(key)
    if principal is None:
        await uow.console_sessions.delete(session.id)
        return None
    if session.expires_at - now < IDLE - TOUCH_EVERY:
        session.expires_at = now + IDLE
    return Resumed(principal, session.csrf)


async def close_session(uow: UnitOfWork, token: str | None) -> None:
    if token:
        await uow.console_sessions.delete(_digest(token))
