"""Console users: people who log in with a username and a password, in one of the API's roles (a grid
operator for its sites). Passwords are stored as Argon2id hashes (`app.services.passwords`); hashing and
checking run in a worker thread, outside any unit of work, so a log-in never holds a database connection
while Argon2 runs."""

import re
from collections.abc import Collection

import anyio

from app.domain.access import ConsoleUser, Principal
from app.domain.clock import utcnow
from app.domain.enums import Role
from app.domain.paging import Found, Window
from app.domain.persistence import UnitOfWork
from app.services.errors import AlreadyExists, Conflict, Invalid, NotFound
from app.services.passwords import decoy_hash, hash_password, verify_password

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "change_own_password",
    "check_password",
    "create_user",
    "disable_user",
    "hashed",
    "list_users",
    "password_hash_of",
    "principal_of",
    "set_password",
    "user_principal",
]

USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256  # Argon2 takes any length; a megabyte "password" is a denial of service


def _invalid(field: str, detail: str) -> Invalid:
    return Invalid(f"{field}: {detail}", [{"loc": ["body", field], "msg": detail, "type": "value_error"}])


async def hashed(password: str) -> str:
    """The Argon2id hash of a new password, once it is long enough (and not absurdly long)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise _invalid("password", f"at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise _invalid("password", f"at most {MAX_PASSWORD_LENGTH} characters")
    return await anyio.to_thread.run_sync(hash_password, password)


def _check_role(role: Role, site_ids: Collection[int] | None) -> list[int] | None:
    if site_ids and role is not Role.grid_operator:
        raise _invalid("site_ids", "only a grid operator is limited to sites")
    return sorted(set(site_ids)) if site_ids else None


async def create_user(
    uow: UnitOfWork,
    username: str,
    password_hash: str,
    role: Role,
    *,
    site_ids: Collection[int] | None = None,
) -> ConsoleUser:
    """A new user; `password_hash` comes from `hashed`. Usernames compare without regard to case."""
    name = username.strip().lower()
    if not USERNAME.fullmatch(name):
        raise _invalid("username", "1 to 64 letters, digits, '.', '_', '@' or '-'; a letter or digit first")
    if await uow.console_users.by_username(name) is not None:
        raise AlreadyExists(f"user {name!r} already exists")
    for site_id in site_ids or ():
        if await uow.sites.get(site_id) is None:
            raise _invalid("site_ids", f"site {site_id} does not exist")
    user = ConsoleUser(
        username=name, password_hash=password_hash, role=role.value, site_ids=_check_role(role, site_ids)
    )
    uow.console_users.add(user)
    await uow.flush()
    return user


async def _user(uow: UnitOfWork, user_id: int) -> ConsoleUser:
    user = await uow.console_users.get(user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


async def set_password(uow: UnitOfWork, user_id: int, password_hash: str) -> ConsoleUser:
    """Replace a user's password; its open sessions end."""
    user = await _user(uow, user_id)
    user.password_hash = password_hash
    await uow.console_sessions.delete_of_user(user_id)
    return user


async def password_hash_of(uow: UnitOfWork, user_id: int) -> str:
    """The password hash of an enabled user (to check its current password against)."""
    user = await _user(uow, user_id)
    if user_principal(user) is None:
        raise NotFound(f"user {user_id} is disabled")
    return user.password_hash


async def change_own_password(
    uow: UnitOfWork, user_id: int, checked_hash: str, password_hash: str, *, keep_session: str
) -> ConsoleUser:
    """A user's new password, once its current one was checked against `checked_hash`: its other
    sessions end, `keep_session` (the one it changes the password from) goes on. Refused when the
    password changed meanwhile (the check was against an old one)."""
    user = await _user(uow, user_id)
    if user.password_hash != checked_hash or user_principal(user) is None:
        raise Conflict("the password was changed or the user disabled meanwhile; log in again")
    user.password_hash = password_hash
    await uow.console_sessions.delete_of_user(user_id, keep=keep_session)
    return user


async def disable_user(uow: UnitOfWork, user_id: int, *, disabled: bool = True) -> ConsoleUser:
    """Disable a user (its sessions end, it can no longer log in) or enable it again."""
    user = await _user(uow, user_id)
    if disabled and user.disabled_at is None:
        user.disabled_at = utcnow()
        await uow.console_sessions.delete_of_user(user_id)
    elif not disabled:
        user.disabled_at = None
    return user


async def list_users(uow: UnitOfWork, window: Window, *, search: str | None = None) -> Found[ConsoleUser]:
    return await uow.console_users.list(window, search=search)


def user_principal(user: ConsoleUser) -> Principal | None:
    """What a user may do, while it is enabled."""
    if user.disabled_at is not None or user.id is None:
        return None
    sites = frozenset(user.site_ids) if user.site_ids is not None else None
    return Principal(key_id=None, user_id=user.id, name=user.username, role=Role(user.role), site_ids=sites)


async def principal_of(uow: UnitOfWork, username: str) -> tuple[Principal | None, str | None]:
    """The principal of an enabled user and its password hash; (None, None) for anyone else."""
    user = await uow.console_users.by_username(username.strip())
    principal = None if user is None else user_principal(user)
    return (principal, user.password_hash) if user is not None and principal is not None else (None, None)


async def check_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; without a hash (no such user) it costs the same and answers False."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    if password_hash is None:
        await anyio.to_thread.run_sync(lambda: verify_password(decoy_hash(), password))
        return False
    return await anyio.to_thread.run_sync(verify_password, password_hash, password)
