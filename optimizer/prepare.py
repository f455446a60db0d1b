"""Preprocess: a ScheduleProblem as arrays (bounds per session and interval, the group tree), made feasible.

Everything downstream (LP, reference, baselines, checks) works on a `Prepared` and never re-reads overrides.
Fixed overrides that cannot hold are relaxed here, lowest priority first, each with a `Relaxation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from optimizer.datatypes import OverrideKind, Relaxation, ScheduleProblem

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

SITE = -1  # node index of the site (root)
# A promised kWh (stated energy by a stated departure) is worth two open-ended ones: promises first.
PROMISE = 1.0
# Priority weighs the fairness term, not the energy: a larger share, never starvation. At most 1.2: a
# prioritised session's next third (2.4e-4 per kWh at most) stays below another's lower third (3e-4) by more
# than the whole earliness range (5e-5), so it runs ahead by at most one third of its demand.
TURN_INTERVALS = 2  # where minimum rates do not all fit, sessions take turns of this many intervals
PRIORITY_STEP = 0.02
PRIORITY_CAP = 10
MIN_YIELD = 0.05  # an EV drawing (nearly) nothing at its minimum is found idle elsewhere, not weighted 0 here


def turns_served(served_kwh: Array, min_kw: Array, interval_h: float) -> Array:
    """(N,): the turns each session has had, a turn being TURN_INTERVALS intervals at its minimum (1 kW
    without one). Ordered by whole turns, not by kWh, sessions replanned every minute do not swap places at
    every replan (an EV switched on and off each minute charges less, and shows nothing it could learn)."""
    per_turn_kwh = np.maximum(min_kw, 1.0) * interval_h * TURN_INTERVALS
    return np.asarray(np.floor(served_kwh / per_turn_kwh + 1e-9), dtype=np.float64)


def energy_weights(promised: BoolArray, draw_kw: Array, min_kw: Array) -> Array:
    """(N,): the energy weight per kW of limit: 1 + PROMISE for a promised session, times the share of its
    limit an EV drawing less than its minimum turns into energy (`Session.draw_kw`; NaN: all of it)."""
    share = np.where(np.isnan(draw_kw) | (min_kw <= 0), 1.0, draw_kw / np.where(min_kw > 0, min_kw, 1.0))
    return np.asarray((1.0 + PROMISE * promised) * np.clip(share, MIN_YIELD, 1.0), dtype=np.float64)


def fair_weights(priority: IntArray, promised: BoolArray) -> Array:
    """(N,): the fairness weight of each priority; 0 for a promise (stated energy and departure): a promise is
    kept, earliest deadline first (`objective.urgency`), not shared."""
    weight = 1.0 + PRIORITY_STEP * np.minimum(priority, PRIORITY_CAP)
    return np.asarray(np.where(promised, 0.0, weight), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Prepared:
    n_sessions: int
    n_intervals: int
    interval_h: float
    ids: tuple[str, ...]
    demand_kwh: Array  # (N,)
    min_kw: Array  # (N,)
    priority: IntArray  # (N,)
    promised: BoolArray  # (N,) stated energy and departure
    weight: Array  # (N,) energy weight per kWh: 1, or 1 + PROMISE for a promised session, less for taper
    fair_weight: Array  # (N,) fairness weight: 1 + PRIORITY_STEP * min(priority, PRIORITY_CAP); 0: promise
    arrival_order: IntArray  # (N,) rank of arrival (earliest first)
    turn: (
        IntArray  # (N,) rank for a minimum rate that does not fit: least served first, then earliest arrival
    )
    departure_h: Array  # (N,) hours from start
    lower_kw: Array  # (N, T) fixed power (0 where not fixed)
    upper_kw: Array  # (N, T) 0 when unplugged or paused
    fixed: BoolArray  # (N, T) lower == upper from a fixed override
    site_kw: Array  # (T,)
    group_ids: tuple[str, ...]
    group_parent: IntArray  # (G,) parent node, SITE for top level
    group_kw: Array  # (G, T)
    session_group: IntArray  # (N,) node, SITE when directly under the site
    ancestors: IntArray  # (N, D) group nodes above each session, nearest first, padded with SITE
    relaxations: tuple[Relaxation, ...]

    def members(self, node: int) -> BoolArray:
        """Sessions below `node` (SITE: all)."""
        if node == SITE:
            return np.ones(self.n_sessions, dtype=bool)
        return np.asarray((self.ancestors == node).any(axis=1), dtype=bool)

    def node_capacity(self, node: int) -> Array:
        return self.site_kw if node == SITE else self.group_kw[node]

    def nodes_bottom_up(self) -> list[int]:
        """Groups deepest first, then the site."""
        depth = np.zeros(len(self.group_ids), dtype=np.int64)
        for g in range(len(self.group_ids)):
            parent = self.group_parent[g]
            while parent != SITE:
                depth[g] += 1
                parent = self.group_parent[parent]
        return [int(g) for g in np.argsort(-depth, kind="stable")] + [SITE]


def _plugged(problem: ScheduleProblem) -> BoolArray:
    """(N, T): plugged in for the whole interval."""
    step_s = problem.interval_min * 60.0
    starts = np.arange(problem.n_intervals) * step_s
    arrive = np.array([(s.arrival - problem.start).total_seconds() for s in problem.sessions])
    depart = np.array([(s.departure - problem.start).total_seconds() for s in problem.sessions])
    return np.asarray((starts[None, :] >= arrive[:, None]) & (starts[None, :] + step_s <= depart[:, None]))


def _window(problem: ScheduleProblem, valid_from: datetime | None, valid_until: datetime | None) -> slice:
    """Intervals overlapping [valid_from, valid_until)."""
    step_s = problem.interval_min * 60.0
    first, last = 0, problem.n_intervals
    if valid_from is not None:
        seconds = (valid_from - problem.start).total_seconds()
        first = max(0, int(np.floor(seconds / step_s)))
    if valid_until is not None:
        seconds = (valid_until - problem.start).total_seconds()
        last = min(problem.n_intervals, int(np.ceil(seconds / step_s)))
    return slice(first, max(first, last))


def _tree(problem: ScheduleProblem) -> tuple[IntArray, IntArray, IntArray]:
    index = {group.id: g for g, group in enumerate(problem.groups)}
    parent = np.array(
        [SITE if group.parent is None else index[group.parent] for group in problem.groups], dtype=np.int64
    )
    session_group = np.array(
        [SITE if s.group is None else index[s.group] for s in problem.sessions], dtype=np.int64
    )
    chains: list[list[int]] = []
    for node in session_group:
        chain: list[int] = []
        while node != SITE:
            chain.append(int(node))
            node = parent[node]
        chains.append(chain)
    depth = max((len(c) for c in chains), default=0)
    ancestors = np.full((len(chains), max(depth, 1)), SITE, dtype=np.int64)
    for i, chain in enumerate(chains):
        ancestors[i, : len(chain)] = chain
    return parent, session_group, ancestors


def prepare(problem: ScheduleProblem) -> Prepared:
    n, t_count, dt = len(problem.sessions), problem.n_intervals, problem.interval_h
    sessions = problem.sessions
    index = {s.id: i for i, s in enumerate(sessions)}
    max_kw = np.array([s.max_kw for s in sessions], dtype=np.float64)
    min_kw = np.array([s.min_kw for s in sessions], dtype=np.float64)
    demand = np.array([s.energy_kwh for s in sessions], dtype=np.float64)
    priority = np.array([s.priority for s in sessions], dtype=np.int64)
    promised = np.array([s.promised for s in sessions], dtype=bool)
    served_kwh = np.array([s.served_kwh for s in sessions], dtype=np.float64)
    draw_kw = np.array([np.nan if s.draw_kw is None else s.draw_kw for s in sessions], dtype=np.float64)
    plugged = _plugged(problem) if n else np.zeros((0, t_count), dtype=bool)
    upper = np.where(plugged, max_kw[:, None], 0.0)
    cap = np.full((n, t_count), np.inf)
    paused = np.zeros((n, t_count), dtype=bool)
    fixed_kw = np.full((n, t_count), np.nan)
    for override in problem.overrides:
        i, window = index[override.session], _window(problem, override.valid_from, override.valid_until)
        if override.kind is OverrideKind.PAUSE:
            paused[i, window] = True
        elif override.kind is OverrideKind.CAP:
            cap[i, window] = np.minimum(cap[i, window], override.power_kw)
        else:
            fixed_kw[i, window] = override.power_kw
    upper = np.minimum(upper, cap)
    upper[paused] = 0.0
    fixed = ~np.isnan(fixed_kw) & plugged & ~paused
    relaxations: list[Relaxation] = []
    lower = np.zeros((n, t_count))
    if fixed.any():
        lower, upper = _fixed_bounds(problem, fixed, fixed_kw, max_kw, min_kw, demand, upper, relaxations)
    parent, session_group, ancestors = _tree(problem)
    group_kw = np.array([g.capacity_at(t_count) for g in problem.groups], dtype=np.float64).reshape(
        -1, t_count
    )
    arrival_s = np.array([(s.arrival - problem.start).total_seconds() for s in sessions])
    prepared = Prepared(
        n_sessions=n,
        n_intervals=t_count,
        interval_h=dt,
        ids=tuple(s.id for s in sessions),
        demand_kwh=demand,
        min_kw=min_kw,
        priority=priority,
        promised=promised,
        weight=energy_weights(promised, draw_kw, min_kw),
        fair_weight=fair_weights(priority, promised),
        arrival_order=np.argsort(np.argsort(arrival_s, kind="stable"), kind="stable").astype(np.int64),
        turn=np.lexsort((arrival_s, turns_served(served_kwh, min_kw, dt)))
        .argsort(kind="stable")
        .astype(np.int64),
        departure_h=np.array([(s.departure - problem.start).total_seconds() / 3600.0 for s in sessions]),
        lower_kw=lower,
        upper_kw=upper,
        fixed=fixed,
        site_kw=np.array(problem.capacity_kw, dtype=np.float64),
        group_ids=tuple(g.id for g in problem.groups),
        group_parent=parent,
        group_kw=group_kw,
        session_group=session_group,
        ancestors=ancestors,
        relaxations=(),
    )
    if fixed.any():
        _fit_fixed_into_capacity(prepared, relaxations)
    object.__setattr__(prepared, "relaxations", tuple(relaxations))
    return prepared


def _fixed_bounds(
    problem: ScheduleProblem,
    fixed: BoolArray,
    fixed_kw: Array,
    max_kw: Array,
    min_kw: Array,
    demand: Array,
    upper: Array,
    relaxations: list[Relaxation],
) -> tuple[Array, Array]:
    """Fixed power as lower = upper, made consistent with the session's own limits."""
    dt = problem.interval_h
    value = np.where(fixed, np.nan_to_num(fixed_kw), 0.0)
    for i in np.flatnonzero(fixed.any(axis=1)):
        sid = problem.sessions[i].id
        row = value[i]
        high = np.flatnonzero(fixed[i] & (row > upper[i] + 1e-9))
        if high.size:
            row[high] = upper[i, high]
            relaxations.append(
                Relaxation(
                    sid, "fixed", tuple(int(t) for t in high), "fixed power above the session's max_kw or cap"
                )
            )
        low = fixed[i] & (row > 0) & (row < min_kw[i] - 1e-9)
        fits = low & (upper[i] >= min_kw[i] - 1e-9)
        if fits.any():
            row[fits] = min_kw[i]
            reason = "fixed power below min_kw raised to min_kw"
            relaxations.append(Relaxation(sid, "fixed", tuple(int(t) for t in np.flatnonzero(fits)), reason))
        if (low & ~fits).any():
            row[low & ~fits] = 0.0
            reason = "fixed power below min_kw, and min_kw above the cap: 0"
            relaxations.append(
                Relaxation(sid, "fixed", tuple(int(t) for t in np.flatnonzero(low & ~fits)), reason)
            )
        excess = row.sum() * dt - demand[i]
        cut: list[int] = []
        for t in np.flatnonzero(fixed[i])[::-1]:
            if excess <= 1e-9:
                break
            keep = max(0.0, row[t] - excess / dt)
            if 0 < keep < min_kw[i]:
                keep = 0.0
            excess -= (row[t] - keep) * dt
            row[t] = keep
            cut.append(int(t))
        if cut:
            relaxations.append(
                Relaxation(sid, "fixed", tuple(sorted(cut)), "fixed power beyond the remaining energy demand")
            )
    return value.copy(), np.where(fixed, value, upper)


def _fit_fixed_into_capacity(p: Prepared, relaxations: list[Relaxation]) -> None:
    """Where fixed power exceeds a group's or the site's capacity, lower it: lowest priority first."""
    cut: dict[tuple[int, str], list[int]] = {}
    for node in p.nodes_bottom_up():
        inside = p.members(node)
        capacity = p.node_capacity(node)
        name = "site" if node == SITE else f"group {p.group_ids[node]!r}"
        load = (p.lower_kw * inside[:, None]).sum(axis=0)
        for t in np.flatnonzero(load > capacity + 1e-9):
            excess = load[t] - capacity[t]
            candidates = np.flatnonzero(inside & p.fixed[:, t] & (p.lower_kw[:, t] > 0))
            order = candidates[np.lexsort((-p.arrival_order[candidates], p.priority[candidates]))]
            for i in order:
                if excess <= 1e-9:
                    break
                keep = max(0.0, p.lower_kw[i, t] - excess)
                if 0 < keep < p.min_kw[i]:
                    keep = 0.0
                excess -= p.lower_kw[i, t] - keep
                p.lower_kw[i, t] = p.upper_kw[i, t] = keep
                cut.setdefault((int(i), name), []).append(int(t))
    for (i, name), intervals in sorted(cut.items()):
        reason = f"fixed overrides exceed the capacity of the {name}; lowest priority gives way first"
        relaxations.append(Relaxation(p.ids[i], "fixed", tuple(sorted(intervals)), reason))
