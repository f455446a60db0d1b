"""Schedule revisions and their entries as read back; the profiles dispatched for transactions."""

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert
from sqlalchemy import select as sa_select
from sqlmodel import select

from app.db.repositories.base import Repository, page
from app.db.rows import record_of, row_of
from app.db.tables.planning import (
    compliance_event_table,
    profile_dispatch_table,
    schedule_entry_table,
    schedule_revision_table,
)
from app.domain.paging import Found, Window
from app.domain.planning import ComplianceEvent, ProfileDispatch, ScheduleEntry, ScheduleRevision

_rev = schedule_revision_table.c
_entry = schedule_entry_table.c
_compliance = compliance_event_table.c


class SqlScheduleRepository(Repository):
    async def get(self, revision_id: int) -> ScheduleRevision | None:
        return await self.session.get(ScheduleRevision, revision_id)

    async def latest(self, site_id: int) -> ScheduleRevision | None:
        query = select(ScheduleRevision).where(_rev.site_id == site_id).order_by(_rev.id.desc()).limit(1)
        return (await self.session.exec(query)).first()

    async def starting_before(self, site_id: int, end: datetime) -> list[ScheduleRevision]:
        query = select(ScheduleRevision).where(_rev.site_id == site_id, _rev.start < end).order_by(_rev.id)
        return list((await self.session.exec(query)).all())

    async def entries(self, revision_id: int) -> list[ScheduleEntry]:
        query = (
            sa_select(schedule_entry_table)
            .where(_entry.revision_id == revision_id)
            .order_by(_entry.transaction_id)
        )
        return [record_of(ScheduleEntry, row._mapping) for row in await self.fetch_rows(query)]

    async def latest_entry(self, transaction_id: int) -> tuple[ScheduleEntry, ScheduleRevision] | None:
        query = (
            sa_select(schedule_entry_table)
            .where(_entry.transaction_id == transaction_id)
            .order_by(_entry.id.desc())
            .limit(1)
        )
        found = await self.fetch_rows(query)
        if not found:
            return None
        entry = record_of(ScheduleEntry, found[0]._mapping)
        revision = await self.get(entry.revision_id)
        return None if revision is None else (entry, revision)

    async def latest_dispatch(self, transaction_id: int) -> ProfileDispatch | None:
        dispatch = profile_dispatch_table.c
        query = (
            sa_select(profile_dispatch_table)
            .where(dispatch.transaction_id == transaction_id)
            .order_by(dispatch.id.desc())
            .limit(1)
        )
        found = await self.fetch_rows(query)
        return record_of(ProfileDispatch, found[0]._mapping) if found else None

    async def list(
        self, site_id: int, window: Window, *, since: datetime | None = None, until: datetime | None = None
    ) -> Found[ScheduleRevision]:
        where = [_rev.site_id == site_id, *_in_range(_rev.created_at, since, until)]
        query = select(ScheduleRevision).where(*where).order_by(_rev.id.desc())
        return await page(self.session, query, window)

    async def record_compliance(self, event: ComplianceEvent) -> None:
        row = row_of(event, compliance_event_table)
        await self.session.exec(insert(compliance_event_table), params=[row])

    async def latest_compliance(self, transaction_id: int) -> ComplianceEvent | None:
        query = (
            sa_select(compliance_event_table)
            .where(_compliance.transaction_id == transaction_id)
            .order_by(_compliance.id.desc())
            .limit(1)
        )
        found = await self.fetch_rows(query)
        return record_of(ComplianceEvent, found[0]._mapping) if found else None

    async def compliance_events(
        self, site_id: int, window: Window, *, since: datetime | None = None, until: datetime | None = None
    ) -> Found[ComplianceEvent]:
        where = [_compliance.site_id == site_id, *_in_range(_compliance.at, since, until)]
        count = sa_select(func.count()).select_from(compliance_event_table).where(*where)
        total = await self.fetch_rows(count)
        query = (
            sa_select(compliance_event_table)
            .where(*where)
            .order_by(_compliance.id.desc())
            .limit(window.limit)
            .offset(window.offset)
        )
        rows = await self.fetch_rows(query)
        return Found([record_of(ComplianceEvent, row._mapping) for row in rows], total[0][0])


def _in_range(column: Any, since: datetime | None, until: datetime | None) -> list[Any]:
    return [
        *([] if since is None else [column >= since]),
        *([] if until is None else [column < until]),
    ]
