"""Reading schedules: a site's current plan and its history, a transaction's plan with the profile it was
sent."""

from dataclasses import dataclass

from app.domain.paging import Found, Window
from app.domain.persistence import UnitOfWork
from app.domain.planning import ProfileDispatch, ScheduleEntry, ScheduleRevision
from app.services.errors import NotFound
from app.services.planning.sites import get_site

__all__ = [
    "TransactionSchedule",
    "get_revision",
    "latest_revision",
    "list_revisions",
    "revision_entries",
    "transaction_schedule",
]


async def latest_revision(uow: UnitOfWork, site_id: int) -> ScheduleRevision:
    await get_site(uow, site_id)
    revision = await uow.schedules.latest(site_id)
    if revision is None:
        raise NotFound(f"site {site_id} has no schedule yet")
    return revision


async def get_revision(uow: UnitOfWork, site_id: int, revision_id: int) -> ScheduleRevision:
    revision = await uow.schedules.get(revision_id)
    if revision is None or revision.site_id != site_id:
        raise NotFound(f"schedule revision {revision_id} of site {site_id} not found")
    return revision


async def list_revisions(uow: UnitOfWork, site_id: int, window: Window) -> Found[ScheduleRevision]:
    """Newest first."""
    await get_site(uow, site_id)
    return await uow.schedules.list(site_id, window)


async def revision_entries(uow: UnitOfWork, revision_id: int) -> list[ScheduleEntry]:
    """Every transaction's plan in the revision, by transaction id."""
    return await uow.schedules.entries(revision_id)


@dataclass(frozen=True)
class TransactionSchedule:
    entry: ScheduleEntry
    revision: ScheduleRevision
    dispatch: ProfileDispatch | None  # the latest TxProfile sent (or not sent) for the transaction


async def transaction_schedule(uow: UnitOfWork, transaction_id: int) -> TransactionSchedule:
    if await uow.transactions.get(transaction_id) is None:
        raise NotFound(f"transaction {transaction_id} not found")
    found = await uow.schedules.latest_entry(transaction_id)
    if found is None:
        raise NotFound(f"transaction {transaction_id} has not been scheduled")
    entry, revision = found
    return TransactionSchedule(entry, revision, await uow.schedules.latest_dispatch(transaction_id))
