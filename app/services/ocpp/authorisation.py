"""Authorisation of id tags: the `idTagInfo` answered in Authorize, StartTransaction and StopTransaction."""

from dataclasses import dataclass
from datetime import datetime

from app.domain.clock import as_utc
from app.domain.ocpp import IdTag
from app.domain.persistence import Store, UnitOfWork


@dataclass(frozen=True)
class IdTagInfo:
    """OCPP 1.6 `IdTagInfo`: status Accepted, Blocked, Expired, Invalid or ConcurrentTx (the last in
    StartTransaction.conf only: OCPP 1.6 §7.2 says it is "only relevant for a StartTransaction.req")."""

    status: str
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None


async def authorize(store: Store, id_tag: str, now: datetime) -> IdTagInfo:
    """Answer an Authorize (read in the group commit): the tag's status, never ConcurrentTx, which OCPP 1.6
    allows in StartTransaction.conf only (the limit is checked when the transaction starts)."""
    return await store.run(lambda uow: authorise(uow, id_tag, now, check_concurrency=False))


async def authorise(
    uow: UnitOfWork,
    id_tag: str,
    now: datetime,
    *,
    check_concurrency: bool = True,
    exclude_transaction_id: int | None = None,
) -> IdTagInfo:
    """The tag's status now. Unknown tags are Invalid; a blocked or expired parent blocks or expires the tag.

    With `check_concurrency`, an otherwise accepted tag with `max_active_transactions` open transactions
    is ConcurrentTx (`max_active_transactions == 0` means no limit).
    """
    tag = await uow.id_tags.get(id_tag)
    if tag is None:
        return IdTagInfo("Invalid")
    parent = await uow.id_tags.get(tag.parent_id_tag) if tag.parent_id_tag else None
    expiry = as_utc(tag.expiry_date) if tag.expiry_date else None
    info = IdTagInfo(_status(tag, now), expiry, tag.parent_id_tag)
    if info.status == "Accepted" and parent is not None and _status(parent, now) != "Accepted":
        info = IdTagInfo(_status(parent, now), expiry, tag.parent_id_tag)
    if info.status == "Accepted" and check_concurrency and tag.max_active_transactions > 0:
        active = await uow.transactions.count_active(id_tag, exclude_transaction_id=exclude_transaction_id)
        if active >= tag.max_active_transactions:
            info = IdTagInfo("ConcurrentTx", expiry, tag.parent_id_tag)
    return info


async def parent_of(uow: UnitOfWork, id_tag: str) -> str | None:
    tag = await uow.id_tags.get(id_tag)
    return tag.parent_id_tag if tag else None


def _status(tag: IdTag, now: datetime) -> str:
    if tag.blocked:
        return "Blocked"
    if tag.expiry_date is not None and as_utc(tag.expiry_date) <= now:
        return "Expired"
    return "Accepted"
