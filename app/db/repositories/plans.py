"""A site's planning snapshot in one read, and the revisions planning stores."""

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import func, insert
from sqlalchemy import select as sa_select
from sqlmodel import select

from app.db.repositories.base import Repository
from app.db.repositories.ocpp.meter_values import SqlMeterValueRepository
from app.db.repositories.planning import (
    SqlDemandRepository,
    SqlForecastRepository,
    SqlGroupRepository,
    SqlOverrideRepository,
    SqlSiteRepository,
)
from app.db.rows import row_of
from app.db.tables.ocpp import charge_point_table, connector_table, transaction_table
from app.db.tables.planning import (
    schedule_entry_table,
    session_demand_table,
    site_table,
)
from app.domain.grid import floor_to_interval
from app.domain.ocpp import Connector
from app.domain.planning import (
    ScheduleEntry,
    ScheduleRevision,
    SessionDemand,
    Site,
)
from app.domain.snapshot import (
    ActiveTransaction,
    DefaultProfileBasis,
    SiteChargePoint,
    SiteConnector,
    SiteSnapshot,
)


class SqlPlanRepository(Repository):
    async def snapshot(
        self, site_id: int, at: datetime, horizon: int, *, history: int
    ) -> SiteSnapshot | None:
        site = await SqlSiteRepository(self.session).get(site_id)
        if site is None:
            return None
        start = floor_to_interval(at, site.interval_minutes)
        end = start + timedelta(minutes=site.interval_minutes * horizon)
        forecasts = SqlForecastRepository(self.session)
        covering = {
            f.id: (f.issued_at, f.forecast_id) for f in await forecasts.covering(site_id, start, end) if f.id
        }
        charge_points = await self._charge_points(site_id)
        transactions = await self._transactions([cp.id for cp in charge_points])
        tx_ids = [tx.id for tx in transactions]
        register_wh = await SqlMeterValueRepository(self.session).latest_register_wh(tx_ids)
        demand = SqlDemandRepository(self.session)
        return SiteSnapshot(
            site=site,
            start=start,
            end=end,
            groups=tuple(await SqlGroupRepository(self.session).list(site_id)),
            forecasts=covering,
            forecast_rows=tuple(await forecasts.limits(list(covering), start, end)),
            overrides=tuple(await SqlOverrideRepository(self.session).in_force(site_id, start, end)),
            charge_points=charge_points,
            connectors=await self._connectors([cp.id for cp in charge_points]),
            transactions=transactions,
            demands=await self._demands(tx_ids),
            past_sessions=tuple(await demand.past_sessions({tx.id_tag for tx in transactions}, history)),
            delivered_wh={
                tx.id: max(0.0, register_wh[tx.id] - tx.meter_start_wh)
                for tx in transactions
                if tx.id in register_wh
            },
        )

    async def add_revision(self, revision: ScheduleRevision, entries: list[ScheduleEntry]) -> int:
        """Store a revision with its entries (one executemany for them, no ORM object per entry)."""
        self.session.add(revision)
        await self.session.flush()
        assert revision.id is not None
        rows = [row_of(entry, schedule_entry_table) | {"revision_id": revision.id} for entry in entries]
        if rows:
            await self.session.exec(insert(schedule_entry_table), params=rows)
        return revision.id

    async def site_of(self, charge_point_id: str) -> int | None:
        query = select(charge_point_table.c.site_id).where(charge_point_table.c.id == charge_point_id)
        return (await self.session.exec(query)).first()

    async def charge_points_in(self, site_id: int) -> list[str]:
        cp = charge_point_table.c
        query = select(cp.id).where(cp.site_id == site_id).order_by(cp.id)
        return list((await self.session.exec(query)).all())

    async def site_intervals(self) -> dict[int, int]:
        query = select(site_table.c.id, site_table.c.interval_minutes)
        return dict((await self.session.exec(query)).all())

    async def default_profile_basis(self, charge_point_id: str) -> DefaultProfileBasis | None:
        cp = charge_point_table.c
        site_id = await self.site_of(charge_point_id)
        site = await self.session.get(Site, site_id) if site_id is not None else None
        if site is None:
            return None
        c = connector_table.c
        site_cps = (await self.session.exec(select(cp.id).where(cp.site_id == site.id))).all()
        known: dict[str, int] = dict(
            (
                await self.session.exec(
                    select(c.charge_point_id, func.count())
                    .where(c.charge_point_id.in_(site_cps), c.connector_id > 0)
                    .group_by(c.charge_point_id)
                )
            ).all()
        )
        connectors = sum(max(1, known.get(cp_id, 0)) for cp_id in site_cps)
        own = await self.fetch_rows(
            sa_select(c.phases, c.nominal_voltage_v, c.min_current_a)
            .where(c.charge_point_id == charge_point_id, c.connector_id > 0)
            .order_by(c.connector_id)
            .limit(1)
        )
        default = Connector(charge_point_id=charge_point_id, connector_id=0)
        phases, voltage_v, connector_min_a = (
            own[0] if own else (default.phases, default.nominal_voltage_v, None)
        )
        charge_point_min_a = await self.session.scalar(
            sa_select(cp.min_current_a).where(cp.id == charge_point_id)
        )
        min_a = next(a for a in (connector_min_a, charge_point_min_a, site.min_current_a) if a is not None)
        return DefaultProfileBasis(site, connectors, phases, voltage_v, min_a)

    async def _charge_points(self, site_id: int) -> tuple[SiteChargePoint, ...]:
        c = charge_point_table.c
        query = sa_select(c.id, c.connected, c.group_id, c.min_current_a).where(c.site_id == site_id)
        return tuple(SiteChargePoint(*row) for row in await self.fetch_rows(query))

    async def _transactions(self, charge_point_ids: Collection[str]) -> tuple[ActiveTransaction, ...]:
        t = transaction_table.c
        query = (
            sa_select(t.id, t.charge_point_id, t.connector_id, t.id_tag, t.start_timestamp, t.meter_start_wh)
            .where(t.charge_point_id.in_(list(charge_point_ids)), t.stop_timestamp.is_(None))
            .order_by(t.id)
        )
        return tuple(ActiveTransaction(*row) for row in await self.fetch_rows(query))

    async def _connectors(self, charge_point_ids: Collection[str]) -> tuple[SiteConnector, ...]:
        c = connector_table.c
        query = sa_select(
            c.charge_point_id, c.connector_id, c.phases, c.nominal_voltage_v, c.max_current_a, c.min_current_a
        ).where(c.charge_point_id.in_(list(charge_point_ids)))
        return tuple(SiteConnector(*row) for row in await self.fetch_rows(query))

    async def _demands(self, transaction_ids: Collection[int]) -> dict[int, SessionDemand]:
        if not transaction_ids:
            return {}
        query = select(SessionDemand).where(session_demand_table.c.transaction_id.in_(list(transaction_ids)))
        return {d.transaction_id: d for d in (await self.session.exec(query)).all()}
