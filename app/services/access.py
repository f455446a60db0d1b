"""API keys and who may see what: bearer tokens stored as SHA-256 digests (they are random, so a fast hash
is enough), the principal a token names, and the charge points that principal may read."""

import hashlib
import logging
import secrets

from app.domain.access import ApiKey, Principal, Scope
from app.domain.clock import utcnow
from app.domain.enums import Role
from app.domain.paging import Found, Window
from app.domain.persistence import UnitOfWork

TOKEN_PREFIX = "sc_"

log = logging.getLogger(__name__)

__all__ = [
    "Principal",
    "authenticate",
    "bootstrap_admin_key",
    "charge_point_scope",
    "create_api_key",
    "digest",
    "get_api_key",
    "key_principal",
    "list_api_keys",
    "revoke_api_key",
]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_api_key(
    uow: UnitOfWork,
    role: Role,
    name: str,
    *,
    site_ids: list[int] | None = None,
    token: str | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns it and the token, which is shown once and never stored."""
    token = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, role=role.value, key_hash=digest(token), prefix=token[:8], site_ids=site_ids)
    uow.api_keys.add(key)
    await uow.flush()
    return key, token


async def bootstrap_admin_key(uow: UnitOfWork, token: str) -> ApiKey:
    """Make sure an admin key with this token exists (SMARTCHARGE_ADMIN_TOKEN).

    A key revoked through the API stays revoked: a restart with the same token does not bring it back
    (set a new token to bootstrap again)."""
    existing = await uow.api_keys.by_hash(digest(token))
    if existing is not None:
        if existing.revoked_at is not None:
            log.warning("SMARTCHARGE_ADMIN_TOKEN names a revoked key: it stays revoked (set a new token)")
        return existing
    key, _ = await create_api_key(uow, Role.admin, "bootstrap admin", token=token)
    return key


async def authenticate(uow: UnitOfWork, token: str) -> Principal | None:
    key = await uow.api_keys.by_hash(digest(token))
    return None if key is None else key_principal(key)


def key_principal(key: ApiKey) -> Principal | None:
    """What a key may do, until it is revoked."""
    if key.revoked_at is not None or key.id is None:
        return None
    sites = frozenset(key.site_ids) if key.site_ids is not None else None
    return Principal(key_id=key.id, name=key.name, role=Role(key.role), site_ids=sites)


async def revoke_api_key(uow: UnitOfWork, key_id: int) -> ApiKey | None:
    key = await uow.api_keys.get(key_id)
    if key is not None and key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


async def get_api_key(uow: UnitOfWork, key_id: int) -> ApiKey | None:
    return await uow.api_keys.get(key_id)


async def list_api_keys(uow: UnitOfWork, window: Window, *, revoked: bool | None = None) -> Found[ApiKey]:
    return await uow.api_keys.list(window, revoked=revoked)


async def charge_point_scope(uow: UnitOfWork, principal: Principal) -> Scope:
    """The charge points `principal` may read: a grid operator's key with `site_ids` sees the charge
    points of those sites only; every other key sees all (None)."""
    if principal.role is not Role.grid_operator or principal.site_ids is None:
        return None
    return frozenset(await uow.charge_points.ids_in_sites(principal.site_ids))
