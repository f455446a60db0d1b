"""Authorisation of id tags: the `idTagInfo` answered in Authorize, StartTransaction and StopTransaction."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.tables.ocpp import transaction_table
from app.domain.clock import as_utc
from app.domain.ocpp import IdTag


@dataclass(frozen=True)
class IdTagInfo:
    """OCPP 1.6 `IdTagInfo`: status Accepted, Blocked, Expired, Invalid or ConcurrentTx."""

    status: str
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None


async def authorise(
    session: AsyncSession,
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
    tag = await session.get(IdTag, id_tag)
    if tag is None:
        return IdTagInfo("Invalid")
    parent = await session.get(IdTag, tag.parent_id_tag) if tag.parent_id_tag else None
    expiry = as_utc(tag.expiry_date) if tag.expiry_date else None
    info = IdTagInfo(_status(tag, now), expiry, tag.parent_id_tag)
    if info.status == "Accepted" and parent is not None and _status(parent, now) != "Accepted":
        info = IdTagInfo(_status(parent, now), expiry, tag.parent_id_tag)
    if info.status == "Accepted" and check_concurrency and tag.max_active_transactions > 0:
        active = await active_transaction_count(
            session, id_tag, exclude_transaction_id=exclude_transaction_id
        )
        if active >= tag.max_active_transactions:
            info = IdTagInfo("ConcurrentTx", expiry, tag.parent_id_tag)
    return info


async def parent_of(session: AsyncSession, id_tag: str) -> str | None:
    tag = await session.get(IdTag, id_tag)
    return tag.parent_id_tag if tag else None


async def active_transaction_count(
    session: AsyncSession, id_tag: str, *, exclude_transaction_id: int | None = None
) -> int:
    query = select(func.count()).where(
        transaction_table.c.id_tag == id_tag, transaction_table.c.stop_timestamp.is_(None)
    )
    if exclude_transaction_id is not None:
        query = query.where(transaction_table.c.id != exclude_transaction_id)
    return (await session.exec(query)).one()


def _status(tag: IdTag, now: datetime) -> str:
    if tag.blocked:
        return "Blocked"
    if tag.expiry_date is not None and as_utc(tag.expiry_date) <= now:
        return "Expired"
    return "Accepted"
