"""Planning: the database's view of a site → an optimiser `ScheduleProblem` → a stored schedule revision.

One plan covers `horizon` intervals from the start of the current site interval. Each active transaction at a
charge point of the site is a session:
- plugged in from the current interval on (it is plugged in now, even if it started mid-interval);
- departure and energy from `app.services.planning.demand` (API → site default → tag history); unknown
  departure means the end of the horizon, unknown energy means "as much as it takes" (its maximum over
  the horizon);
- remaining energy = demand − energy delivered so far (latest Energy.Active.Import.Register − meterStart);
- maximum power from the connector (phases × voltage × max current), lowered to what the EV was seen to draw
  when it draws well below its allocation (`observed_max_kw`);
- a transaction whose charge point is offline or has not accepted its profile is planned as drawing its
  maximum (a fixed session the others make room for).
Overrides: `cap_kw` on the site lowers capacity, on a group lowers the group, on a charge point adds a group
of its sessions, on a connector or transaction caps the session; `fixed_kw` fixes a session; `pause` pauses
every session in scope; `priority` sets the priority of every session in scope.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy import select as sa_select
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

import optimizer
from app.db.sql import core_table
from app.db.store import SqlUnitOfWork
from app.db.tables.ocpp import charge_point_table, connector_table, meter_value_table, transaction_table
from app.domain.clock import utcnow
from app.domain.planning import Override as OverrideRow
from app.domain.planning import OverrideKind, OverrideScope, ScheduleEntry, ScheduleRevision
from app.services.planning.capacity import floor_to_interval
from app.services.planning.demand import DemandSource, effective_demands
from app.services.planning.forecasts import effective_capacity
from app.services.planning.groups import group_capacities, list_groups
from app.services.planning.overrides import active_overrides
from app.services.planning.sites import get_site

__all__ = [
    "ASSUMED_PRIORITY",
    "Plan",
    "PlanSession",
    "build_plan",
    "solve_plan",
    "store_revision",
]

ASSUMED_PRIORITY = 1000  # sessions assumed at their maximum are reality, not a wish: they never give way


@dataclass(frozen=True)
class PlanSession:
    transaction_id: int
    charge_point_id: str
    connector_id: int
    phases: int
    voltage_v: float
    max_kw: float
    energy_kwh: float
    delivered_kwh: float
    departure: datetime
    demand_source: str
    assumption: str  # planned | non_compliant | offline


@dataclass(frozen=True)
class Plan:
    site_id: int
    problem: optimizer.ScheduleProblem
    sessions: Mapping[str, PlanSession]
    notes: tuple[str, ...] = field(default=())


async def _delivered_wh(session: AsyncSession, meter_start_wh: Mapping[int, float]) -> dict[int, float]:
    """Energy delivered so far per transaction, from its latest energy register reading."""
    ids = list(meter_start_wh)
    if not ids:
        return {}
    latest = (
        select(meter_value_table.c.transaction_id, func.max(meter_value_table.c.timestamp).label("at"))
        .where(
            meter_value_table.c.transaction_id.in_(ids),
            meter_value_table.c.measurand == "Energy.Active.Import.Register",
            meter_value_table.c.value_normalised.is_not(None),
            meter_value_table.c.phase.is_(None),
        )
        .group_by(meter_value_table.c.transaction_id)
        .subquery()
    )
    rows = (
        await session.exec(
            select(meter_value_table.c.transaction_id, func.max(meter_value_table.c.value_normalised))
            .join(
                latest,
                (meter_value_table.c.transaction_id == latest.c.transaction_id)
                & (meter_value_table.c.timestamp == latest.c.at),
            )
            .where(
                meter_value_table.c.measurand == "Energy.Active.Import.Register",
                meter_value_table.c.phase.is_(None),
            )
            .group_by(meter_value_table.c.transaction_id)
        )
    ).all()
    return {
        int(tx_id): max(0.0, float(wh) - meter_start_wh[tx_id])
        for tx_id, wh in rows
        if tx_id is not None and wh is not None
    }


@dataclass(frozen=True)
class _SiteChargePoint:
    connected: bool
    group_id: int | None


@dataclass(frozen=True)
class _ActiveTransaction:
    id: int
    charge_point_id: str
    connector_id: int
    meter_start_wh: int


@dataclass(frozen=True)
class _Connector:
    phases: int
    nominal_voltage_v: float
    max_current_a: float


def _window_mask(problem_start: datetime, n: int, interval_min: int, row: OverrideRow) -> list[bool]:
    step = timedelta(minutes=interval_min)
    out = []
    for t in range(n):
        begin, end = problem_start + t * step, problem_start + (t + 1) * step
        out.append(row.valid_from < end and (row.valid_until is None or row.valid_until > begin))
    return out


@dataclass
class _Topology:
    """The site's group tree reduced to the groups that limit something, with override caps applied."""

    parents: dict[int, int | None]
    series: dict[int, list[float]]  # limited groups only

    def limited(self, group_id: int | None) -> int | None:
        """The group itself if it has a limit, else its nearest limited ancestor."""
        while group_id is not None and group_id not in self.series:
            group_id = self.parents.get(group_id)
        return group_id

    def contains(self, ancestor: int, group_id: int | None) -> bool:
        while group_id is not None and group_id != ancestor:
            group_id = self.parents.get(group_id)
        return group_id is not None

    def optimizer_groups(self) -> list[optimizer.Group]:
        return [
            optimizer.Group(f"g{g}", tuple(s), _gid(self.limited(self.parents.get(g))))
            for g, s in self.series.items()
        ]


def _gid(group_id: int | None) -> str | None:
    return None if group_id is None else f"g{group_id}"


def _capped(series: Sequence[float], value: float, mask: Sequence[bool]) -> list[float]:
    return [min(c, value) if m else c for c, m in zip(series, mask, strict=True)]


async def build_plan(
    session: AsyncSession,
    site_id: int,
    now: datetime,
    *,
    horizon: int = 96,
    non_compliant: Iterable[int] = (),
    observed_max_kw: Mapping[int, float] | None = None,
) -> Plan:
    uow = SqlUnitOfWork(session)  # transitional: until plan.py reads through the unit of work
    site = await get_site(uow, site_id)
    assert site.id is not None
    interval = site.interval_minutes
    start = floor_to_interval(now, interval)
    end = start + timedelta(minutes=interval * horizon)
    site_caps = list(await effective_capacity(uow, site_id, start, horizon))
    group_caps = await group_capacities(uow, site_id, start, horizon)
    topology = _Topology(
        parents={g.id: g.parent_id for g in await list_groups(uow, site_id) if g.id is not None},
        series={gid: list(s) for gid, s in group_caps.items() if s is not None},
    )
    overrides = await active_overrides(uow, site_id, start, end)

    def mask(row: OverrideRow) -> list[bool]:
        return _window_mask(start, horizon, interval, row)

    # Capacity overrides on the site and on groups change the limits before sessions are placed.
    for row in overrides:
        if OverrideKind(row.kind) is not OverrideKind.cap_kw:
            continue
        if row.scope == OverrideScope.site.value:
            site_caps = _capped(site_caps, row.value or 0.0, mask(row))
        elif row.scope == OverrideScope.group.value and row.group_id in topology.parents:
            base = topology.series.get(row.group_id, [math.inf] * horizon)
            topology.series[row.group_id] = _capped(base, row.value or 0.0, mask(row))
    for gid, series in topology.series.items():  # an override on an unlimited group: no other limit
        topology.series[gid] = [c if math.isfinite(c) else max(site_caps, default=0.0) for c in series]

    # Plain rows, not ORM objects: a few hundred sessions are read on every plan.
    cps = {
        cp_id: _SiteChargePoint(connected, group_id)
        for cp_id, connected, group_id in (
            await session.exec(
                select(
                    charge_point_table.c.id, charge_point_table.c.connected, charge_point_table.c.group_id
                ).where(charge_point_table.c.site_id == site_id)
            )
        ).all()
    }
    transactions = [
        _ActiveTransaction(tx_id, cp_id, connector_id, meter_start_wh)
        for tx_id, cp_id, connector_id, meter_start_wh in (
            await session.exec(
                select(
                    transaction_table.c.id,
                    transaction_table.c.charge_point_id,
                    transaction_table.c.connector_id,
                    transaction_table.c.meter_start_wh,
                )
                .where(
                    transaction_table.c.charge_point_id.in_(list(cps)),
                    transaction_table.c.stop_timestamp.is_(None),
                )
                .order_by(transaction_table.c.id)
            )
        ).all()
        if tx_id is not None
    ]
    connection = await session.connection()  # five columns: more than sqlmodel's typed `select` takes
    connectors = {
        (cp_id, connector_id): _Connector(phases, voltage_v, max_current_a)
        for cp_id, connector_id, phases, voltage_v, max_current_a in (
            await connection.execute(
                sa_select(
                    connector_table.c.charge_point_id,
                    connector_table.c.connector_id,
                    connector_table.c.phases,
                    connector_table.c.nominal_voltage_v,
                    connector_table.c.max_current_a,
                ).where(connector_table.c.charge_point_id.in_(list(cps)))
            )
        ).all()
    }
    demands = await effective_demands(uow, [tx.id for tx in transactions])
    delivered_wh = await _delivered_wh(session, {tx.id: tx.meter_start_wh for tx in transactions})
    non_compliant = set(non_compliant)
    observed = observed_max_kw or {}

    plan_sessions: dict[str, PlanSession] = {}
    session_group: dict[str, str | None] = {}
    priorities: dict[str, int] = {}
    opt_overrides: list[optimizer.Override] = []
    notes: list[str] = []
    for tx in transactions:
        cp = cps[tx.charge_point_id]
        connector = connectors.get((tx.charge_point_id, tx.connector_id))
        phases = connector.phases if connector else 3
        voltage = connector.nominal_voltage_v if connector else 230.0
        max_kw = phases * voltage * (connector.max_current_a if connector else 32.0) / 1000
        demand = demands.get(tx.id)
        departure = demand.departure if demand and demand.departure else end
        departure = min(max(departure, start + timedelta(minutes=interval)), end)
        delivered_kwh = delivered_wh.get(tx.id, 0.0) / 1000
        if demand and demand.energy_kwh is not None:
            energy_kwh = max(0.0, demand.energy_kwh - delivered_kwh)
            energy_source = demand.energy_source.value
        else:  # unknown demand: as much as it can take before it leaves
            energy_kwh = max_kw * (departure - start).total_seconds() / 3600
            energy_source = DemandSource.unknown.value
        departure_source = demand.departure_source.value if demand else DemandSource.unknown.value
        assumption = (
            "offline" if not cp.connected else "non_compliant" if tx.id in non_compliant else "planned"
        )
        key = str(tx.id)
        if assumption == "planned":
            max_kw = min(max_kw, observed.get(tx.id, math.inf))
        else:  # drawing its maximum, as far as we know: the others make room for it
            energy_kwh = max(energy_kwh, max_kw * (departure - start).total_seconds() / 3600)
            opt_overrides.append(optimizer.Override(key, optimizer.OverrideKind.FIXED, max_kw))
            priorities[key] = ASSUMED_PRIORITY
            notes.append(f"transaction {tx.id} assumed at {max_kw:.1f} kW ({assumption})")
        session_group[key] = _gid(topology.limited(cp.group_id))
        plan_sessions[key] = PlanSession(
            transaction_id=tx.id,
            charge_point_id=tx.charge_point_id,
            connector_id=tx.connector_id,
            phases=phases,
            voltage_v=voltage,
            max_kw=max_kw,
            energy_kwh=energy_kwh,
            delivered_kwh=delivered_kwh,
            departure=departure,
            demand_source=f"energy:{energy_source},departure:{departure_source}",
            assumption=assumption,
        )

    def in_scope(row: OverrideRow) -> list[str]:
        """The planned sessions an override reaches (assumed ones are beyond our control)."""
        scope = OverrideScope(row.scope)
        keys = [k for k, ps in plan_sessions.items() if ps.assumption == "planned"]
        if scope is OverrideScope.transaction:
            return [k for k in keys if plan_sessions[k].transaction_id == row.transaction_id]
        if scope is OverrideScope.charge_point:
            return [k for k in keys if plan_sessions[k].charge_point_id == row.charge_point_id]
        if scope is OverrideScope.connector:
            return [
                k
                for k in keys
                if (plan_sessions[k].charge_point_id, plan_sessions[k].connector_id)
                == (row.charge_point_id, row.connector_id)
            ]
        if scope is OverrideScope.group and row.group_id is not None:
            group_id = row.group_id
            return [
                k for k in keys if topology.contains(group_id, cps[plan_sessions[k].charge_point_id].group_id)
            ]
        return keys

    extra_groups: list[optimizer.Group] = []
    for row in overrides:
        kind, scope, keys = OverrideKind(row.kind), OverrideScope(row.scope), in_scope(row)
        window = (row.valid_from, row.valid_until)
        value = row.value or 0.0
        if kind is OverrideKind.priority:
            for key in keys:
                priorities[key] = max(priorities.get(key, 0), int(value))
        elif kind is OverrideKind.pause:
            opt_overrides += [optimizer.Override(k, optimizer.OverrideKind.PAUSE, 0.0, *window) for k in keys]
        elif kind is OverrideKind.fixed_kw:
            opt_overrides += [
                optimizer.Override(k, optimizer.OverrideKind.FIXED, value, *window) for k in keys
            ]
        elif scope in (OverrideScope.transaction, OverrideScope.connector):
            opt_overrides += [optimizer.Override(k, optimizer.OverrideKind.CAP, value, *window) for k in keys]
        elif scope is OverrideScope.charge_point and keys:
            # A cap on a charge point: a group of its sessions inside the group they were in.
            total = sum(plan_sessions[k].max_kw for k in keys)
            cp_group = f"cp:{row.charge_point_id}:{row.id}"
            caps = tuple(_capped([total] * horizon, value, mask(row)))
            extra_groups.append(optimizer.Group(cp_group, caps, session_group[keys[0]]))
            for key in keys:
                session_group[key] = cp_group

    sessions = tuple(
        optimizer.Session(
            id=key,
            arrival=start,  # plugged in now, even if it started mid-interval
            departure=ps.departure,
            energy_kwh=ps.energy_kwh,
            max_kw=ps.max_kw,
            priority=priorities.get(key, 0),
            group=session_group[key],
        )
        for key, ps in plan_sessions.items()
    )
    problem = optimizer.ScheduleProblem(
        start=start,
        interval_min=interval,
        capacity_kw=tuple(site_caps),
        sessions=sessions,
        groups=(*topology.optimizer_groups(), *extra_groups),
        overrides=tuple(opt_overrides),
    )
    return Plan(site_id=site.id, problem=problem, sessions=plan_sessions, notes=tuple(notes))


def solve_plan(plan: Plan, *, time_limit_s: float | None = None) -> optimizer.ScheduleResult:
    """The optimiser on a plan (CPU-bound: call it off the event loop)."""
    return optimizer.solve(plan.problem, time_limit_s=time_limit_s)


async def store_revision(
    session: AsyncSession,
    plan: Plan,
    result: optimizer.ScheduleResult,
    trigger: str,
    *,
    created_at: datetime | None = None,
) -> ScheduleRevision:
    """Store a plan; `created_at` is the service clock's time of planning (it may run accelerated)."""
    problem = plan.problem
    planned = [0.0] * problem.n_intervals
    for schedule in result.schedules.values():
        planned = [a + b for a, b in zip(planned, schedule.power_kw, strict=True)]
    revision = ScheduleRevision(
        site_id=plan.site_id,
        created_at=created_at or utcnow(),
        trigger=trigger[:200],
        status=result.status.value,
        strategy=result.strategy,
        solve_seconds=result.solve_seconds,
        start=problem.start,
        interval_minutes=problem.interval_min,
        n_intervals=problem.n_intervals,
        capacity_kw=list(problem.capacity_kw),
        planned_kw=planned,
        binding=list(result.explanation.binding),
        shadow_price=list(result.explanation.shadow_price),
        relaxations=[
            {"session": r.session, "kind": r.kind, "intervals": list(r.intervals), "reason": r.reason}
            for r in result.relaxations
        ],
        messages=[*plan.notes, *result.messages],
    )
    session.add(revision)
    await session.flush()
    assert revision.id is not None
    rows = [
        {
            "revision_id": revision.id,
            "transaction_id": ps.transaction_id,
            "charge_point_id": ps.charge_point_id,
            "connector_id": ps.connector_id,
            "power_kw": list(result.schedules[key].power_kw),
            "max_kw": ps.max_kw,
            "energy_kwh": ps.energy_kwh,
            "delivered_kwh": result.schedules[key].delivered_kwh,
            "unmet_kwh": result.schedules[key].unmet_kwh,
            "departure": ps.departure,
            "demand_source": ps.demand_source,
            "assumption": ps.assumption,
        }
        for key, ps in plan.sessions.items()
    ]
    if rows:  # in the revision's transaction: the revision is never seen without its entries
        table = core_table(ScheduleEntry)
        await session.exec(insert(table), params=rows)  # one executemany, no ORM object per entry
    return revision
