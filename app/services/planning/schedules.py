"""Reading schedules: a site's current plan and its history, a transaction's plan with the profile it was
sent; compliance events (transactions found drawing over their limits, and compliant again)."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from app.domain.clock import utcnow
from app.domain.paging import Found, Window
from app.domain.persistence import UnitOfWork
from app.domain.planning import ComplianceEvent, ProfileDispatch, ScheduleEntry, ScheduleRevision
from app.domain.ports import DispatchResult
from app.services.errors import NotFound
from app.services.planning.compliance import ComplianceChange
from app.services.planning.sites import get_site

__all__ = [
    "dispatch_row",
    "TransactionSchedule",
    "compliance_events",
    "get_revision",
    "latest_revision",
    "list_revisions",
    "record_compliance",
    "revision_entries",
    "transaction_schedule",
]

log = logging.getLogger(__name__)


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


async def list_revisions(
    uow: UnitOfWork,
    site_id: int,
    window: Window,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Found[ScheduleRevision]:
    """Newest first; made in [since, until)."""
    await get_site(uow, site_id)
    return await uow.schedules.list(site_id, window, since=since, until=until)


async def revision_entries(uow: UnitOfWork, revision_id: int) -> list[ScheduleEntry]:
    """Every transaction's plan in the revision, by transaction id."""
    return await uow.schedules.entries(revision_id)


@dataclass(frozen=True)
class TransactionSchedule:
    entry: ScheduleEntry
    revision: ScheduleRevision
    dispatch: ProfileDispatch | None  # the latest TxProfile sent (or not sent) for the transaction
    compliance: ComplianceEvent | None  # the latest compliance event: non-compliant now when it says so


async def transaction_schedule(
    uow: UnitOfWork, transaction_id: int, *, site_ids: frozenset[int] | None = None
) -> TransactionSchedule:
    """The transaction's latest plan. With `site_ids` (a grid operator's sites), a transaction planned in
    another site (or, not planned yet, at a charge point of another site or of none) is "not found"."""
    transaction = await uow.transactions.get(transaction_id)
    found = await uow.schedules.latest_entry(transaction_id)
    if transaction is not None and site_ids is not None:
        site_id = found[1].site_id if found else await uow.plans.site_of(transaction.charge_point_id)
        if site_id not in site_ids:
            transaction = None
    if transaction is None:
        raise NotFound(f"transaction {transaction_id} not found")
    if found is None:
        raise NotFound(f"transaction {transaction_id} has not been scheduled")
    entry, revision = found
    return TransactionSchedule(
        entry,
        revision,
        await uow.schedules.latest_dispatch(transaction_id),
        await uow.schedules.latest_compliance(transaction_id),
    )


async def compliance_events(
    uow: UnitOfWork,
    site_id: int,
    window: Window,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Found[ComplianceEvent]:
    """Newest first; settled by a sample in [since, until)."""
    await get_site(uow, site_id)
    return await uow.schedules.compliance_events(site_id, window, since=since, until=until)


async def record_compliance(uow: UnitOfWork, changes: Iterable[ComplianceChange]) -> None:
    """Store each change of a transaction's compliance with its charge point, connector and site (and log
    it: an operator may want to know at once)."""
    for change in changes:
        tx = await uow.transactions.get(change.transaction_id)
        if tx is None:
            continue
        log.warning(
            "transaction %d at %s: %s (%s), %.1f kW drawn under a limit of %.1f kW",
            change.transaction_id, tx.charge_point_id,
            "non-compliant" if change.non_compliant else "compliant again",
            change.reason, change.measured_kw, change.limit_kw,
        )  # fmt: skip
        event = ComplianceEvent(
            transaction_id=change.transaction_id,
            site_id=await uow.plans.site_of(tx.charge_point_id),
            charge_point_id=tx.charge_point_id,
            connector_id=tx.connector_id,
            non_compliant=change.non_compliant,
            reason=change.reason,
            limit_kw=change.limit_kw,
            measured_kw=change.measured_kw,
            at=change.at,
        )
        await uow.schedules.record_compliance(event)


def dispatch_row(
    charge_point_id: str,
    connector_id: int,
    transaction_id: int | None,
    revision_id: int | None,
    purpose: str,
    result: DispatchResult,
    attempt: int,
) -> ProfileDispatch:
    """What is stored of one profile sent: its outcome, the command that carried it, its read-back."""
    return ProfileDispatch(
        transaction_id=transaction_id,
        revision_id=revision_id,
        charge_point_id=charge_point_id,
        connector_id=connector_id,
        purpose=purpose,
        profile=result.profile,
        command_id=result.command_id,
        status=result.status,
        reason=result.reason,
        attempt=attempt,
        verified=result.verified,
        verify_detail=result.verify_detail,
        created_at=utcnow(),
    )
