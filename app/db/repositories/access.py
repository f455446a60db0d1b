"""API keys."""

from sqlmodel import select

from app.db.repositories.base import Repository, page
from app.db.tables.access import api_key_table
from app.domain.access import ApiKey
from app.domain.paging import Found, Window


class SqlApiKeyRepository(Repository):
    def add(self, key: ApiKey) -> None:
        self.session.add(key)

    async def get(self, key_id: int) -> ApiKey | None:
        return await self.session.get(ApiKey, key_id)

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        return (await self.session.exec(select(ApiKey).where(api_key_table.c.key_hash == key_hash))).first()

    async def list(self, window: Window, *, revoked: bool | None = None) -> Found[ApiKey]:
        query = select(ApiKey).order_by(api_key_table.c.id)
        if revoked is not None:
            column = api_key_table.c.revoked_at
            query = query.where(column.is_not(None) if revoked else column.is_(None))
        return await page(self.session, query, window)
