"""Id tags with the number of active transactions of each."""

from datetime import datetime

from app.domain.paging import Found, Window
from app.domain.persistence import UnitOfWork
from app.domain.queries import IdTagFilter, IdTagView


async def list_id_tags(
    uow: UnitOfWork, window: Window, filters: IdTagFilter, *, now: datetime
) -> Found[IdTagView]:
    return await uow.id_tags.list(window, filters, now=now)


async def get_id_tag(uow: UnitOfWork, id_tag: str) -> IdTagView | None:
    tag = await uow.id_tags.get(id_tag)
    if tag is None:
        return None
    return IdTagView(tag, await uow.transactions.count_active(id_tag))
