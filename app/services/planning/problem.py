"""A site snapshot → the optimiser's `ScheduleProblem`: a pure function of plain data.

One plan covers `horizon` intervals from the start of the current site interval. Each active transaction at a
charge point of the site is a session:
- plugged in from the current interval on (it is plugged in now, even if it started mid-interval);
- departure and energy from the session demand (API → site default → tag history, `demand.resolve_demand`);
  an unknown departure is the end of the horizon, an unknown energy "as much as it takes" (its maximum over
  the horizon);
- remaining energy = demand − energy delivered so far;
- maximum power from the connector (the phases the EV uses × voltage × max current), lowered to the ceiling
  the EV has shown (`Observations.max_kw`, learnt in `learning`), never below its minimum; an idle EV (one
  that drew nothing when offered its minimum) gets 0 until it is offered again;
- minimum power from the minimum current (the session's, else the connector's, the charge point's, the
  site's; 6 A by default): each interval 0 or at least that (IEC 61851: below it an EV does not charge);
- a transaction whose charge point is offline is planned as drawing what the limits it holds allow (the
  TxProfile it accepted while that is valid, then its TxDefaultProfile, else its maximum); one that has not
  accepted its profile as drawing its maximum; one drawing over its limit, at what it draws (fixed sessions
  the others make room for).
Overrides: `cap_kw` on the site lowers capacity, on a group lowers the group, on a charge point adds a group
of its sessions, on a connector or transaction caps the session; `fixed_kw` fixes a session; `pause` pauses
every session in scope; `priority` sets the priority of every session in scope. The current interval is
planned from `now` on: an override counts in it only if it is in force at `now`, later ones from the next
interval (the scheduler replans at each `valid_from` and `valid_until`: `next_override_change`).
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import optimizer
from app.domain.ocpp import Connector
from app.domain.planning import Override, OverrideKind, OverrideScope
from app.domain.snapshot import SiteConnector, SiteSnapshot
from app.services.planning.capacity import effective_intervals, group_capacity
from app.services.planning.demand import DemandSource, history_by_tag, resolve_demand
from app.services.planning.observations import Observations, SentProfile, fixed_runs, held_kw
from app.services.planning.taper import taper_hours
from app.services.planning.window import Window, from_now, next_override_change

__all__ = [
    "ASSUMED_PRIORITY",
    "PROMISE_MARGIN",
    "Observations",
    "Plan",
    "PlanSession",
    "SentProfile",
    "build_plan",
    "next_override_change",
]

NOTHING_OBSERVED = Observations()
# a promise is planned to be kept this long before its departure (a quarter of the time left at most): an EV
# near full tapers, and a plan that finishes just in time leaves the last kWh undelivered
PROMISE_MARGIN = timedelta(minutes=30)
# a promise whose EV has not drawn yet is timed as a slow EV's (one phase, 16 A): planned at its connector's
# maximum it was put off as a fast one and, never charged, never showed it was slow (3.6 kW, 22 kW assumed)
SLOW_EV_A, SEEN_KWH = 16.0, 0.05
ASSUMED_PRIORITY = 1000  # sessions assumed at their maximum are reality, not a wish: they never give way
_DEFAULTS = Connector(charge_point_id="", connector_id=0)  # the settings of a connector not reported
UNKNOWN_CONNECTOR = SiteConnector(
    "", 0, _DEFAULTS.phases, _DEFAULTS.nominal_voltage_v, _DEFAULTS.max_current_a
)


@dataclass(frozen=True)
class PlanSession:
    transaction_id: int
    charge_point_id: str
    connector_id: int
    phases: int
    voltage_v: float
    max_kw: float
    min_kw: float
    min_current_a: float
    raise_to_min: bool  # planned at what it draws, below its minimum: its limit is raised to the minimum
    promised_kwh: float | None  # energy and departure stated through the API: this much still promised
    energy_kwh: float
    delivered_kwh: float
    departure: datetime
    demand_source: str
    assumption: str  # planned | non_compliant | offline
    draw_kw: float | None = None  # it draws less than its minimum (taper): what its minimum yields
    taper_h: float = 0.0  # the time its taper adds to its energy (where it reports its state of charge)
    unseen_h: float = 0.0  # a promise whose EV has not drawn yet: the time a slow EV would add (`SLOW_EV_A`)


@dataclass(frozen=True)
class Plan:
    site_id: int
    problem: optimizer.ScheduleProblem
    sessions: Mapping[str, PlanSession]
    notes: tuple[str, ...] = field(default=())


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


def _limits(
    snapshot: SiteSnapshot, overrides: Sequence[Override], window: Window
) -> tuple[list[float], _Topology]:
    """The site's capacity and its limited groups per interval, capacity overrides applied."""
    site, start, horizon = snapshot.site, window.start, window.horizon
    site_caps = [
        i.capacity_kw
        for i in effective_intervals(site, snapshot.forecasts, snapshot.forecast_rows, start, horizon)
    ]
    topology = _Topology(parents={g.id: g.parent_id for g in snapshot.groups if g.id is not None}, series={})
    for group in snapshot.groups:
        series = group_capacity(site, group, start, horizon)
        if group.id is not None and series is not None:
            topology.series[group.id] = series
    for row in overrides:
        if row.kind != OverrideKind.cap_kw:
            continue
        if row.scope == OverrideScope.site:
            site_caps = _capped(site_caps, row.value or 0.0, window.mask(row))
        elif row.scope == OverrideScope.group and row.group_id in topology.parents:
            base = topology.series.get(row.group_id, [math.inf] * horizon)
            topology.series[row.group_id] = _capped(base, row.value or 0.0, window.mask(row))
    for gid, series in topology.series.items():  # an override on an unlimited group: no other limit
        topology.series[gid] = [c if math.isfinite(c) else max(site_caps, default=0.0) for c in series]
    return site_caps, topology


@dataclass
class _Sessions:
    """The sessions of a plan as they are being built, with what the optimiser will be told of them."""

    plan: dict[str, PlanSession] = field(default_factory=dict)
    group: dict[str, str | None] = field(default_factory=dict)
    group_of_cp: dict[str, int | None] = field(default_factory=dict)
    priority: dict[str, int] = field(default_factory=dict)
    overrides: list[optimizer.Override] = field(default_factory=list)
    extra_groups: list[optimizer.Group] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _sessions(
    snapshot: SiteSnapshot,
    window: Window,
    topology: _Topology,
    observations: Observations,
    reserve_draw: bool,
) -> _Sessions:
    cps = {cp.id: cp for cp in snapshot.charge_points}
    connectors: dict[tuple[str, int], SiteConnector] = {
        (c.charge_point_id, c.connector_id): c for c in snapshot.connectors
    }
    start, end = window.start, window.end
    out = _Sessions(group_of_cp={cp.id: cp.group_id for cp in snapshot.charge_points})
    histories = history_by_tag(snapshot.past_sessions)
    for tx in snapshot.transactions:
        cp = cps[tx.charge_point_id]
        connector = connectors.get((tx.charge_point_id, tx.connector_id)) or UNKNOWN_CONNECTOR
        phases = min(connector.phases, observations.phases.get(tx.id, connector.phases))
        voltage = connector.nominal_voltage_v
        max_kw = phases * voltage * connector.max_current_a / 1000
        stated = snapshot.demands.get(tx.id)
        minimums = (stated.min_current_a if stated else None, connector.min_current_a, cp.min_current_a)
        min_a = next(a for a in (*minimums, snapshot.site.min_current_a) if a is not None)
        min_kw = min(max_kw, phases * voltage * min_a / 1000)
        demand = resolve_demand(tx, stated, snapshot.site, histories.get(tx.id_tag, []))
        departure = min(max(demand.departure or end, start + window.step), end)
        delivered_kwh = snapshot.delivered_wh.get(tx.id, 0.0) / 1000
        if demand.energy_kwh is not None:
            # the last bit is planned as a whole interval at the minimum (the EV stops when it has it):
            # otherwise the minimum rate leaves it undelivered
            energy_kwh = _whole_steps(max(0.0, demand.energy_kwh - delivered_kwh), min_kw * window.step_h)
            energy_source = demand.energy_source.value
        else:  # unknown demand: as much as it can take before it leaves
            energy_kwh = max_kw * (departure - start).total_seconds() / 3600
            energy_source = DemandSource.unknown.value
        if not cp.connected:
            assumption = "offline"
        elif tx.id in observations.non_compliant:
            assumption = "non_compliant"
            max_kw = observations.draw_kw.get(tx.id, max_kw)  # over its limit: reserve what it draws
        else:
            assumption = "planned"
        key = str(tx.id)
        promised_kwh = None  # energy and departure both stated: a promise
        both_stated = DemandSource.api == demand.energy_source == demand.departure_source
        if both_stated and demand.energy_kwh is not None:
            promised_kwh = max(0.0, demand.energy_kwh - delivered_kwh)
        ceiling_kw = observations.max_kw.get(tx.id, math.inf)
        raise_to_min, draw_kw = False, None
        if assumption == "planned" and ceiling_kw == 0:  # idle: offered again later
            max_kw = min_kw = 0.0
        elif assumption == "planned" and reserve_draw and ceiling_kw < min_kw:
            # it draws less than its minimum (a battery near full): planned at what it draws, sent its minimum
            max_kw, min_kw, raise_to_min = ceiling_kw, 0.0, True
        elif assumption == "planned":
            draw_kw = ceiling_kw if ceiling_kw < min_kw else None  # taper: its minimum yields less
            max_kw = max(min_kw, min(max_kw, ceiling_kw))
        elif assumption == "offline":  # it keeps to the limits it holds: the others make room for them
            installed = observations.installed.get(tx.id)
            assumed = held_kw(
                window.start, window.step, window.horizon, installed, observations.default_kw.get(cp.id)
            )
            held = [min(max_kw, kw) for kw in assumed]
            energy_kwh = _assume(out, key, window, held, energy_kwh, departure)
            out.notes.append(
                f"transaction {tx.id} assumed at up to {max(held):.1f} kW (offline, the limits it holds)"
            )
        else:  # drawing its maximum, as far as we know
            energy_kwh = _assume(out, key, window, [max_kw] * window.horizon, energy_kwh, departure)
            out.notes.append(f"transaction {tx.id} assumed at {max_kw:.1f} kW ({assumption})")
        taper_h = 0.0
        charge = observations.charge.get(tx.id)
        if assumption == "planned" and demand.energy_kwh is not None and charge is not None:
            soc, battery_kwh = charge
            taper_h = taper_hours(soc, battery_kwh, demand.energy_kwh - delivered_kwh, draw_kw or max_kw)
        unseen_h = 0.0
        shown = tx.id in observations.phases or tx.id in observations.max_kw or delivered_kwh >= SEEN_KWH
        if assumption == "planned" and promised_kwh and not shown:
            slow_kw = voltage * min(connector.max_current_a, SLOW_EV_A) / 1000  # one phase
            unseen_h = max(0.0, promised_kwh / slow_kw - promised_kwh / max_kw)
        out.group[key] = _gid(topology.limited(cp.group_id))
        out.plan[key] = PlanSession(
            transaction_id=tx.id,
            charge_point_id=tx.charge_point_id,
            connector_id=tx.connector_id,
            phases=phases,
            voltage_v=voltage,
            max_kw=max_kw,
            min_kw=min_kw,
            min_current_a=min_a,
            raise_to_min=raise_to_min,
            promised_kwh=promised_kwh,
            energy_kwh=energy_kwh,
            delivered_kwh=delivered_kwh,
            departure=departure,
            demand_source=f"energy:{energy_source},departure:{demand.departure_source.value}",
            assumption=assumption,
            draw_kw=draw_kw,
            taper_h=taper_h,
            unseen_h=unseen_h,
        )
    return out


def _deadline(ps: PlanSession, now: datetime, window: Window) -> datetime:
    """When the optimiser is to have delivered a session's energy: its departure, less the time its taper
    adds (`taper`), less `PROMISE_MARGIN` (a quarter of the time left at most) for a promise; while it stays,
    never before the end of the next interval (its profile must not fall to 0 before the replan there)."""
    if ps.assumption != "planned":
        return ps.departure
    margin = timedelta(hours=max(ps.taper_h, ps.unseen_h))
    if ps.promised_kwh is not None:
        margin += min(PROMISE_MARGIN, (ps.departure - now) / 4)
    next_end = min(ps.departure, window.start + 2 * window.step)
    return max(ps.departure - margin, next_end, window.start + window.step)


def _assume(
    out: _Sessions, key: str, window: Window, power_kw: list[float], energy_kwh: float, departure: datetime
) -> float:
    """Session `key` fixed at `power_kw` per interval with the highest priority (reality, not a wish); its
    energy: at least what that draws before `departure`."""
    out.overrides += fixed_runs(key, window.start, window.step, power_kw)
    out.priority[key] = ASSUMED_PRIORITY
    plugged = [t for t in range(len(power_kw)) if window.start + t * window.step < departure]
    return max(energy_kwh, sum(power_kw[t] for t in plugged) * window.step_h)


def _whole_steps(energy_kwh: float, step_kwh: float) -> float:
    """`energy_kwh` rounded up to a multiple of `step_kwh` (unchanged without a step)."""
    if step_kwh <= 0 or energy_kwh <= 1e-9:
        return energy_kwh
    return math.ceil(energy_kwh / step_kwh - 1e-9) * step_kwh


def _in_scope(row: Override, sessions: _Sessions, topology: _Topology) -> list[str]:
    """The planned sessions an override reaches (assumed ones are beyond our control)."""
    keys = [k for k, ps in sessions.plan.items() if ps.assumption == "planned"]
    plan = sessions.plan
    if row.scope == OverrideScope.transaction:
        return [k for k in keys if plan[k].transaction_id == row.transaction_id]
    if row.scope == OverrideScope.charge_point:
        return [k for k in keys if plan[k].charge_point_id == row.charge_point_id]
    if row.scope == OverrideScope.connector:
        wanted = (row.charge_point_id, row.connector_id)
        return [k for k in keys if (plan[k].charge_point_id, plan[k].connector_id) == wanted]
    if row.scope == OverrideScope.group and row.group_id is not None:
        group_id = row.group_id
        return [k for k in keys if topology.contains(group_id, sessions.group_of_cp[plan[k].charge_point_id])]
    return keys


_OPTIMIZER_KINDS = {
    OverrideKind.pause: optimizer.OverrideKind.PAUSE,
    OverrideKind.fixed_kw: optimizer.OverrideKind.FIXED,
}


def _apply_overrides(
    overrides: Sequence[Override], sessions: _Sessions, topology: _Topology, window: Window
) -> None:
    for row in overrides:
        keys = _in_scope(row, sessions, topology)
        span = (row.valid_from, row.valid_until)
        value = row.value or 0.0
        kind = _OPTIMIZER_KINDS.get(OverrideKind(row.kind)) or (
            optimizer.OverrideKind.CAP
            if row.kind == OverrideKind.cap_kw
            and row.scope in (OverrideScope.transaction, OverrideScope.connector)
            else None
        )
        if row.kind == OverrideKind.priority:
            for key in keys:
                sessions.priority[key] = max(sessions.priority.get(key, 0), int(value))
        elif kind is not None:
            sessions.overrides += [optimizer.Override(k, kind, value, *span) for k in keys]
        elif row.scope == OverrideScope.charge_point and keys:
            # A cap on a charge point: a group of its sessions inside the group they were in.
            total = sum(sessions.plan[k].max_kw for k in keys)
            cp_group = f"cp:{row.charge_point_id}:{row.id}"
            caps = tuple(_capped([total] * window.horizon, value, window.mask(row)))
            sessions.extra_groups.append(optimizer.Group(cp_group, caps, sessions.group[keys[0]]))
            for key in keys:
                sessions.group[key] = cp_group


def build_plan(
    snapshot: SiteSnapshot,
    *,
    horizon: int,
    observations: Observations = NOTHING_OBSERVED,
    reserve_draw: bool = False,
    now: datetime | None = None,
) -> Plan:
    """The optimiser's problem for the snapshot's site over `horizon` intervals from `snapshot.start`,
    planned at `now` (default: the start of the current interval).

    `reserve_draw`: an EV that draws less than its minimum (a battery near full) is planned at what it
    draws, and its limit raised to the minimum when it is sent: the capacity it leaves goes to others, and
    the sum of the limits sent may then exceed the capacity by the difference (taper only goes down)."""
    site = snapshot.site
    assert site.id is not None
    window = Window(snapshot.start, horizon, site.interval_minutes)
    now = now or snapshot.start
    overrides = from_now(snapshot.overrides, now, window)
    site_caps, topology = _limits(snapshot, overrides, window)
    sessions = _sessions(snapshot, window, topology, observations, reserve_draw)
    _apply_overrides(overrides, sessions, topology, window)
    problem = optimizer.ScheduleProblem(
        start=window.start,
        interval_min=window.interval_min,
        capacity_kw=tuple(site_caps),
        sessions=tuple(
            optimizer.Session(
                id=key,
                arrival=window.start,  # plugged in now, even if it started mid-interval
                departure=_deadline(ps, now, window),
                energy_kwh=ps.energy_kwh,
                max_kw=ps.max_kw,
                min_kw=ps.min_kw if ps.assumption == "planned" else 0.0,
                priority=sessions.priority.get(key, 0),
                group=sessions.group[key],
                promised=ps.promised_kwh is not None and ps.assumption == "planned",
                served_kwh=ps.delivered_kwh,
                draw_kw=ps.draw_kw if ps.assumption == "planned" else None,
            )
            for key, ps in sessions.plan.items()
        ),
        groups=(*topology.optimizer_groups(), *sessions.extra_groups),
        overrides=tuple(sessions.overrides),
    )
    return Plan(site_id=site.id, problem=problem, sessions=sessions.plan, notes=tuple(sessions.notes))
