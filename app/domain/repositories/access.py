"""API keys."""

from typing import Protocol

from app.domain.access import ApiKey
from app.domain.paging import Found, Window


class ApiKeyRepository(Protocol):
    def add(self, key: ApiKey) -> None: ...

    async def get(self, key_id: int) -> ApiKey | None: ...

    async def by_hash(self, key_hash: str) -> ApiKey | None: ...

    async def list(self, window: Window, *, revoked: bool | None = None) -> Found[ApiKey]:
        """Oldest first; `revoked` True or False keeps only (not) revoked keys."""
        ...
