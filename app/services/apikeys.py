"""API keys: bearer tokens stored as SHA-256 digests (they are random, so a fast hash is enough)."""

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.tables.access import api_key_table
from app.domain.access import ApiKey
from app.domain.clock import utcnow
from app.domain.enums import Role

TOKEN_PREFIX = "sc_"


@dataclass(frozen=True)
class Principal:
    """Who is calling the API: the key's id, name and role, and the sites a grid operator may reach."""

    key_id: int
    name: str
    role: Role
    site_ids: frozenset[int] | None = None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_api_key(
    session: AsyncSession,
    role: Role,
    name: str,
    *,
    site_ids: list[int] | None = None,
    token: str | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the token, which is shown once and never stored."""
    token = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, role=role.value, key_hash=digest(token), prefix=token[:8], site_ids=site_ids)
    session.add(key)
    await session.flush()
    return key, token


async def bootstrap_admin_key(session: AsyncSession, token: str) -> ApiKey:
    """Make sure an admin key with this token exists (SMARTCHARGE_ADMIN_TOKEN)."""
    existing = (await session.exec(select(ApiKey).where(api_key_table.c.key_hash == digest(token)))).first()
    if existing is not None:
        if existing.revoked_at is None:
            return existing
        existing.revoked_at = None
        return existing
    key, _ = await create_api_key(session, Role.admin, "bootstrap admin", token=token)
    return key


async def authenticate(session: AsyncSession, token: str) -> Principal | None:
    key = (await session.exec(select(ApiKey).where(api_key_table.c.key_hash == digest(token)))).first()
    if key is None or key.revoked_at is not None or key.id is None:
        return None
    sites = frozenset(key.site_ids) if key.site_ids is not None else None
    return Principal(key_id=key.id, name=key.name, role=Role(key.role), site_ids=sites)


async def revoke_api_key(session: AsyncSession, key_id: int) -> ApiKey | None:
    key = await session.get(ApiKey, key_id)
    if key is not None and key.revoked_at is None:
        key.revoked_at = utcnow()
    return key
