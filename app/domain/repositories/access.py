"""API keys, console users and console sessions."""

from datetime import datetime
from typing import Protocol

from app.domain.access import ApiKey, ConsoleSession, ConsoleUser
from app.domain.paging import Found, Window


class ApiKeyRepository(Protocol):
    def add(self, key: ApiKey) -> None: ...

    async def get(self, key_id: int) -> ApiKey | None: ...

    async def by_hash(self, key_hash: str) -> ApiKey | None: ...

    async def list(self, window: Window, *, revoked: bool | None = None) -> Found[ApiKey]:
        """Oldest first; `revoked` True or False keeps only (not) revoked keys."""
        ...


class ConsoleUserRepository(Protocol):
    def add(self, user: ConsoleUser) -> None: ...

    async def get(self, user_id: int) -> ConsoleUser | None: ...

    async def by_username(self, username: str) -> ConsoleUser | None:
        """The user with this username, compared without regard to case."""
        ...

    async def list(self, window: Window, *, search: str | None = None) -> Found[ConsoleUser]:
        """By username; `search` keeps those whose username contains it (any case)."""
        ...


class ConsoleSessionRepository(Protocol):
    def add(self, session: ConsoleSession) -> None: ...

    async def get(self, session_id: str) -> ConsoleSession | None: ...

    async def delete(self, session_id: str) -> None: ...

    async def delete_of_user(self, user_id: int, *, keep: str | None = None) -> int:
        """End every session of a user but `keep` (a session id); returns how many there were."""
        ...

    async def delete_expired(self, now: datetime) -> int: ...
