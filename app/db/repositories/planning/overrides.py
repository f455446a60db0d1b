"""Overrides and their audit trail; which are in force, and where."""

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import col, select

from app.db.repositories.base import Repository, page
from app.db.tables.ocpp import charge_point_table, transaction_table
from app.db.tables.planning import override_audit_table, override_table, site_group_table
from app.domain.paging import Found, Window
from app.domain.planning import Override, OverrideAudit, OverrideKind, OverrideScope

_o = override_table.c


def _in_force(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Not deleted and overlapping [start, end)."""
    return and_(
        _o.deleted_at.is_(None), _o.valid_from < end, or_(_o.valid_until.is_(None), _o.valid_until > start)
    )


class SqlOverrideRepository(Repository):
    def add(self, override: Override) -> None:
        self.session.add(override)

    def add_audit(self, audit: OverrideAudit) -> None:
        self.session.add(audit)

    async def get(self, override_id: int) -> Override | None:
        return await self.session.get(Override, override_id)

    async def audit(self, override_id: int) -> list[OverrideAudit]:
        query = select(OverrideAudit).where(override_audit_table.c.override_id == override_id)
        return list((await self.session.exec(query.order_by(override_audit_table.c.id))).all())

    async def in_force(self, site_id: int, start: datetime, end: datetime) -> list[Override]:
        site_cps = select(charge_point_table.c.id).where(charge_point_table.c.site_id == site_id)
        site_groups = select(site_group_table.c.id).where(site_group_table.c.site_id == site_id)
        site_txs = select(transaction_table.c.id).where(transaction_table.c.charge_point_id.in_(site_cps))
        in_site = or_(
            and_(_o.scope == OverrideScope.site.value, _o.site_id == site_id),
            and_(_o.scope == OverrideScope.group.value, _o.group_id.in_(site_groups)),
            and_(
                _o.scope.in_([OverrideScope.charge_point.value, OverrideScope.connector.value]),
                _o.charge_point_id.in_(site_cps),
            ),
            and_(_o.scope == OverrideScope.transaction.value, _o.transaction_id.in_(site_txs)),
        )
        query = select(Override).where(_in_force(start, end), in_site).order_by(_o.id)
        return list((await self.session.exec(query)).all())

    async def list(
        self,
        window: Window,
        *,
        now: datetime,
        active: bool | None = None,
        include_deleted: bool = False,
        site_id: int | None = None,
        scope: OverrideScope | None = None,
        kind: OverrideKind | None = None,
        charge_point_id: str | None = None,
        transaction_id: int | None = None,
    ) -> Found[Override]:
        conditions: list[Any] = []
        in_force_now = and_(
            _o.deleted_at.is_(None), _o.valid_from <= now, or_(_o.valid_until.is_(None), _o.valid_until > now)
        )
        if active is True:
            conditions.append(in_force_now)
        elif active is False:
            conditions.append(~in_force_now)
        if not include_deleted and active is not True:
            conditions.append(_o.deleted_at.is_(None))
        for column, value in (
            (_o.site_id, site_id),
            (_o.scope, scope.value if scope else None),
            (_o.kind, kind.value if kind else None),
            (_o.charge_point_id, charge_point_id),
            (_o.transaction_id, transaction_id),
        ):
            if value is not None:
                conditions.append(col(column) == value)
        return await page(self.session, select(Override).where(*conditions).order_by(_o.id.desc()), window)
