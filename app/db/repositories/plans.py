"""A site's planning snapshot in one read, and the revisions planning stores."""

from collections.abc import Collection, Mapping
from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import and_, func, insert, or_
from sqlalchemy import select as sa_select
from sqlmodel import select

from app.db.repositories.base import Repository
from app.db.tables.ocpp import charge_point_table, connector_table, meter_value_table, transaction_table
from app.db.tables.planning import (
    forecast_interval_table,
    forecast_table,
    override_table,
    schedule_entry_table,
    session_demand_table,
    site_group_table,
    site_table,
)
from app.domain.clock import as_utc
from app.domain.grid import floor_to_interval
from app.domain.ocpp import Connector
from app.domain.planning import (
    Forecast,
    Override,
    OverrideScope,
    ScheduleEntry,
    ScheduleRevision,
    SessionDemand,
    Site,
    SiteGroup,
)
from app.domain.snapshot import (
    ActiveTransaction,
    DefaultProfileBasis,
    SiteChargePoint,
    SiteConnector,
    SiteSnapshot,
)

ENERGY_REGISTER = "Energy.Active.Import.Register"


class SqlPlanRepository(Repository):
    async def snapshot(
        self, site_id: int, at: datetime, horizon: int, *, history: int
    ) -> SiteSnapshot | None:
        site = await self.session.get(Site, site_id)
        if site is None:
            return None
        start = floor_to_interval(at, site.interval_minutes)
        end = start + timedelta(minutes=site.interval_minutes * horizon)
        groups = (
            await self.session.exec(select(SiteGroup).where(site_group_table.c.site_id == site_id))
        ).all()
        forecasts, rows = await self._forecasts(site_id, start, end)
        charge_points = await self._charge_points(site_id)
        ids = [cp.id for cp in charge_points]
        transactions = await self._transactions(ids)
        tx_ids = [tx.id for tx in transactions]
        register_wh = await self._latest_register_wh(tx_ids)
        return SiteSnapshot(
            site=site,
            start=start,
            end=end,
            groups=tuple(groups),
            forecasts=forecasts,
            forecast_rows=rows,
            overrides=tuple(await self._overrides(site_id, start, end)),
            charge_points=charge_points,
            connectors=await self._connectors(ids),
            transactions=transactions,
            demands=await self._demands(tx_ids),
            tag_history=await self._tag_history({tx.id_tag for tx in transactions}, history),
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
        rows = [asdict(entry) | {"revision_id": revision.id} for entry in entries]
        for row in rows:
            del row["id"]
        if rows:
            await self.session.exec(insert(schedule_entry_table), params=rows)
        return revision.id

    async def site_of(self, charge_point_id: str) -> int | None:
        query = select(charge_point_table.c.site_id).where(charge_point_table.c.id == charge_point_id)
        return (await self.session.exec(query)).first()

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
        own = await self.rows(
            sa_select(c.phases, c.nominal_voltage_v)
            .where(c.charge_point_id == charge_point_id, c.connector_id > 0)
            .order_by(c.connector_id)
            .limit(1)
        )
        default = Connector(charge_point_id=charge_point_id, connector_id=0)
        phases, voltage_v = own[0] if own else (default.phases, default.nominal_voltage_v)
        return DefaultProfileBasis(site, connectors, phases, voltage_v)

    async def _forecasts(
        self, site_id: int, start: datetime, end: datetime
    ) -> tuple[dict[int, tuple[datetime, str | None]], tuple[tuple[int, datetime, datetime, float], ...]]:
        covering = select(Forecast).where(
            forecast_table.c.site_id == site_id,
            forecast_table.c.ends_at > start,
            forecast_table.c.starts_at < end,
        )
        meta = {f.id or 0: (f.issued_at, f.forecast_id) for f in (await self.session.exec(covering)).all()}
        if not meta:
            return meta, ()
        t = forecast_interval_table.c
        query = select(t.forecast_pk, t.start, t.end, t.limit_kw).where(
            t.forecast_pk.in_(list(meta)), t.end > start, t.start < end
        )
        return meta, tuple((pk, s, e, kw) for pk, s, e, kw in (await self.session.exec(query)).all())

    async def _overrides(self, site_id: int, start: datetime, end: datetime) -> list[Override]:
        """Overrides in force at some time in [start, end) whose scope lies in the site (by its current
        topology: a charge point, connector or transaction belongs to the site its charge point is in)."""
        o = override_table.c
        site_cps = sa_select(charge_point_table.c.id).where(charge_point_table.c.site_id == site_id)
        site_groups = sa_select(site_group_table.c.id).where(site_group_table.c.site_id == site_id)
        site_txs = sa_select(transaction_table.c.id).where(transaction_table.c.charge_point_id.in_(site_cps))
        in_site = or_(
            and_(o.scope == OverrideScope.site.value, o.site_id == site_id),
            and_(o.scope == OverrideScope.group.value, o.group_id.in_(site_groups)),
            and_(
                o.scope.in_([OverrideScope.charge_point.value, OverrideScope.connector.value]),
                o.charge_point_id.in_(site_cps),
            ),
            and_(o.scope == OverrideScope.transaction.value, o.transaction_id.in_(site_txs)),
        )
        in_force = and_(
            o.deleted_at.is_(None), o.valid_from < end, or_(o.valid_until.is_(None), o.valid_until > start)
        )
        query = select(Override).where(in_force, in_site).order_by(o.id)
        return list((await self.session.exec(query)).all())

    async def _charge_points(self, site_id: int) -> tuple[SiteChargePoint, ...]:
        c = charge_point_table.c
        query = select(c.id, c.connected, c.group_id).where(c.site_id == site_id)
        return tuple(SiteChargePoint(*row) for row in (await self.session.exec(query)).all())

    async def _transactions(self, charge_point_ids: Collection[str]) -> tuple[ActiveTransaction, ...]:
        t = transaction_table.c
        query = (
            sa_select(t.id, t.charge_point_id, t.connector_id, t.id_tag, t.start_timestamp, t.meter_start_wh)
            .where(t.charge_point_id.in_(list(charge_point_ids)), t.stop_timestamp.is_(None))
            .order_by(t.id)
        )
        return tuple(ActiveTransaction(*row) for row in await self.rows(query))

    async def _connectors(self, charge_point_ids: Collection[str]) -> tuple[SiteConnector, ...]:
        c = connector_table.c
        query = sa_select(
            c.charge_point_id, c.connector_id, c.phases, c.nominal_voltage_v, c.max_current_a
        ).where(c.charge_point_id.in_(list(charge_point_ids)))
        return tuple(SiteConnector(*row) for row in await self.rows(query))

    async def _demands(self, transaction_ids: Collection[int]) -> dict[int, SessionDemand]:
        if not transaction_ids:
            return {}
        query = select(SessionDemand).where(session_demand_table.c.transaction_id.in_(list(transaction_ids)))
        return {d.transaction_id: d for d in (await self.session.exec(query)).all()}

    async def _tag_history(
        self, tags: Collection[str], history: int
    ) -> dict[str, tuple[tuple[float, float], ...]]:
        """Per tag: (energy kWh, duration s) of its last `history` completed transactions."""
        if not tags:
            return {}
        t = transaction_table.c
        ranked = (
            sa_select(
                t.id_tag,
                t.start_timestamp,
                t.stop_timestamp,
                (t.meter_stop_wh - t.meter_start_wh).label("energy_wh"),
                func.row_number().over(partition_by=t.id_tag, order_by=t.stop_timestamp.desc()).label("n"),
            )
            .where(t.id_tag.in_(list(tags)), t.stop_timestamp.is_not(None), t.meter_stop_wh.is_not(None))
            .subquery()
        )
        r = ranked.c
        query = sa_select(r.id_tag, r.start_timestamp, r.stop_timestamp, r.energy_wh).where(r.n <= history)
        out: dict[str, list[tuple[float, float]]] = {}
        for tag, started, stopped, energy_wh in await self.rows(query):
            energy_kwh = energy_wh / 1000.0
            duration_s = (as_utc(stopped) - as_utc(started)).total_seconds()
            if energy_kwh > 0 and duration_s > 0:
                out.setdefault(tag, []).append((energy_kwh, duration_s))
        return {tag: tuple(sessions) for tag, sessions in out.items()}

    async def _latest_register_wh(self, transaction_ids: Collection[int]) -> Mapping[int, float]:
        """Per transaction, its latest energy register reading in Wh."""
        if not transaction_ids:
            return {}
        m = meter_value_table.c
        register = (m.measurand == ENERGY_REGISTER, m.phase.is_(None), m.unit_normalised == "Wh")
        latest = (
            sa_select(m.transaction_id, func.max(m.timestamp).label("at"))
            .where(m.transaction_id.in_(list(transaction_ids)), *register)
            .group_by(m.transaction_id)
            .subquery()
        )
        query = (
            sa_select(m.transaction_id, func.max(m.value_normalised))
            .join(latest, and_(m.transaction_id == latest.c.transaction_id, m.timestamp == latest.c.at))
            .where(*register)
            .group_by(m.transaction_id)
        )
        rows = await self.rows(query)
        return {int(tx): float(wh) for tx, wh in rows if tx is not None and wh is not None}
