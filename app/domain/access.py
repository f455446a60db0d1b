"""API keys: who may call the HTTP API, in which role, for which sites."""

from dataclasses import dataclass, field
from datetime import datetime

from app.domain.clock import utcnow
from app.domain.enums import Role

Scope = frozenset[str] | None  # the charge point ids a caller may see; None: all


@dataclass(frozen=True)
class Principal:
    """Who is calling the API: the key's id, name and role, and the sites a grid operator may reach."""

    key_id: int
    name: str
    role: Role
    site_ids: frozenset[int] | None = None

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
