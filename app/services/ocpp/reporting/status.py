"""The status summary: what SteVe's home page counts."""

from collections.abc import Collection
from datetime import datetime

from app.domain.access import Scope
from app.domain.persistence import UnitOfWork
from app.domain.queries import StatusSummary


async def status_summary(
    uow: UnitOfWork, *, now: datetime, connected_ids: Collection[str], scope: Scope = None
) -> StatusSummary:
    """Heartbeat days are UTC days."""
    return await uow.status.summary(now=now, connected_ids=connected_ids, scope=scope)
