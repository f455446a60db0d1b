"""API keys, console users and console sessions."""

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import select

from app.db.repositories.base import Repository, page
from app.db.tables.access import api_key_table, console_session_table, console_user_table
from app.domain.access import ApiKey, ConsoleSession, ConsoleUser
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


class SqlConsoleUserRepository(Repository):
    def add(self, user: ConsoleUser) -> None:
        self.session.add(user)

    async def get(self, user_id: int) -> ConsoleUser | None:
        return await self.session.get(ConsoleUser, user_id)

    async def by_username(self, username: str) -> ConsoleUser | None:
        query = select(ConsoleUser).where(console_user_table.c.username == username.lower())
        return (await self.session.exec(query)).first()

    async def list(self, window: Window, *, search: str | None = None) -> Found[ConsoleUser]:
        query = select(ConsoleUser).order_by(console_user_table.c.username)
        if search:
            query = query.where(console_user_table.c.username.icontains(search.lower(), autoescape=True))
        return await page(self.session, query, window)


class SqlConsoleSessionRepository(Repository):
    def add(self, session: ConsoleSession) -> None:
        self.session.add(session)

    async def get(self, session_id: str) -> ConsoleSession | None:
        return await self.session.get(ConsoleSession, session_id)

    async def delete(self, session_id: str) -> None:
        await self.session.exec(delete(console_session_table).where(console_session_table.c.id == session_id))

    async def delete_of_user(self, user_id: int, *, keep: str | None = None) -> int:
        table = console_session_table
        query = delete(table).where(table.c.user_id == user_id)
        if keep is not None:
            query = query.where(table.c.id != keep)
        result: Any = await self.session.exec(query)
        return int(result.rowcount or 0)

    async def delete_expired(self, now: datetime) -> int:
        table = console_session_table
        result: Any = await self.session.exec(delete(table).where(table.c.expires_at <= now))
        return int(result.rowcount or 0)
