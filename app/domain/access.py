"""Who may use the service: API keys (the HTTP API), console users (people, with a password) and their
console sessions; each in a role, a grid operator for its sites."""

from dataclasses import dataclass, field
from datetime import datetime

from app.domain.clock import utcnow
from app.domain.enums import Role

Scope = frozenset[str] | None  # the charge point ids a caller may see; None: all


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key (`key_id`) or a console user (`user_id`), its name and role, and the sites
    a grid operator may reach."""

    key_id: int | None
    name: str
    role: Role
    site_ids: frozenset[int] | None = None
    user_id: int | None = None

    def may_reach(self, site_id: int) -> bool:
        """A grid operator's key with `site_ids` reaches those sites only; every other key all of them."""
        return self.role is not Role.grid_operator or self.site_ids is None or site_id in self.site_ids


@dataclass(eq=False, kw_only=True)
class ApiKey:
    id: int | None = None
    name: str
    role: str
    key_hash: str
    prefix: str
    site_ids: list[int] | None = None
    created_at: datetime = field(default_factory=utcnow)
    revoked_at: datetime | None = None


@dataclass(eq=False, kw_only=True)
class ConsoleUser:
    """A person who logs in to the console with a username and a password (stored as an Argon2 hash)."""

    id: int | None = None
    username: str
    password_hash: str
    role: str
    site_ids: list[int] | None = None
    created_at: datetime = field(default_factory=utcnow)
    disabled_at: datetime | None = None


@dataclass(eq=False, kw_only=True)
class ConsoleSession:
    """A console log-in: the browser holds a random token, the database its SHA-256 digest (`id`), who
    logged in (a user or an API key), the CSRF token of its forms and when it ends without a request."""

    id: str
    csrf: str
    user_id: int | None = None
    api_key_id: int | None = None
    created_at: datetime = field(default_factory=utcnow)
    expires_at: datetime
