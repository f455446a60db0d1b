"""Minimum charging rate (OCPP minChargingRate): power is 0 or at least min_kw in every interval.

The LP cannot say "0 or >= min" (it is a disjunction). We solve the LP without it and repair: in each interval
the sessions below their minimum are set to 0, then raised back to min_kw one by one, highest priority first
(then the least served before the plan, then the earliest arrival: replanned every interval, sessions take
turns instead of the same ones waiting for ever), wherever capacity (site and groups), the session's bounds
and its energy demand allow. Every step keeps the schedule feasible; the caller may then re-solve the LP
with the on/off pattern fixed to recover energy.
"""

from __future__ import annotations

import numpy as np

from optimizer.datatypes import Relaxation
from optimizer.network import chain_headroom, headroom, take
from optimizer.prepare import Array, BoolArray, Prepared

TOLERANCE_KW = 1e-6


def below_min(p: Prepared, power_kw: Array) -> BoolArray:
    """(N, T): where power is strictly between 0 and the session's minimum (fixed power excepted)."""
    low = (power_kw > TOLERANCE_KW) & (power_kw < p.min_kw[:, None] - TOLERANCE_KW)
    return np.asarray(low & ~p.fixed, dtype=bool)


def repair_interval(p: Prepared, power_kw: Array, t: int, room_kw: Array) -> tuple[list[int], list[int]]:
    """Repair column t of `power_kw` (N, T) in place; `room_kw` (N,) caps each session's power at t.

    Returns the sessions left at 0 that had power below their minimum: all of them, and those among them
    that gave way for capacity (the others had no room for their minimum: bounds or remaining energy).
    """
    column = power_kw[:, t]
    low = np.flatnonzero((column > TOLERANCE_KW) & (column < p.min_kw - TOLERANCE_KW) & ~p.fixed[:, t])
    if low.size == 0:
        return [], []
    column[low] = 0.0
    site, groups = headroom(p, column, t)
    order = low[np.lexsort((p.turn[low], -p.priority[low]))]
    dropped: list[int] = []
    gave_way: list[int] = []
    for i in order:
        need = float(p.min_kw[i])
        if need > room_kw[i] + 1e-9:
            dropped.append(int(i))
        elif need <= chain_headroom(p, int(i), site, groups) + 1e-9:
            column[i] = need
            site -= need
            take(p, int(i), need, groups)
        else:
            dropped.append(int(i))
            gave_way.append(int(i))
    return dropped, gave_way


def repair(p: Prepared, power_kw: Array) -> tuple[Array, list[Relaxation]]:
    """A copy of an (N, T) plan with every interval repaired, and a relaxation per session that was paused
    in some intervals because the minimum rates did not all fit.

    A session's fragments below its minimum are consolidated, earliest first: its budget is the energy it
    still wants beyond its intervals at or above the minimum, and each fragment is raised to the minimum
    while the budget lasts (and the capacity allows), instead of each being judged on what is left after
    the others (which kept the last fragment, the latest). The re-solve then moves the energy into the
    intervals left on."""
    plan = power_kw.copy()
    low = below_min(p, plan)
    plan[low] = 0.0
    budget_kwh = np.maximum(p.demand_kwh - plan.sum(axis=1) * p.interval_h, 0.0)
    paused: dict[int, list[int]] = {}
    for t in np.flatnonzero(low.any(axis=0)):
        rows = np.flatnonzero(low[:, t])
        room = np.zeros(p.n_sessions)
        room[rows] = np.minimum(p.upper_kw[rows, t], budget_kwh[rows] / p.interval_h)
        plan[rows, t] = p.min_kw[rows] / 2  # below the minimum: `repair_interval` decides each
        _, gave_way = repair_interval(p, plan, int(t), room)
        budget_kwh[rows] -= plan[rows, t] * p.interval_h
        for i in gave_way:
            paused.setdefault(i, []).append(int(t))
    reason = "minimum charging rates did not all fit the capacity; the lowest priority was paused first"
    return plan, [Relaxation(p.ids[i], "min_kw", tuple(ts), reason) for i, ts in sorted(paused.items())]


def pattern_bounds(p: Prepared, plan: Array) -> tuple[Array, Array]:
    """Bounds that fix the repaired on/off pattern: on -> [min_kw, upper], off -> 0 (fixed power kept)."""
    lower, upper = p.lower_kw.copy(), p.upper_kw.copy()
    has_min = (p.min_kw > 0)[:, None] & ~p.fixed
    on = plan > TOLERANCE_KW
    lower = np.where(has_min & on, np.maximum(lower, p.min_kw[:, None]), lower)
    upper = np.where(has_min & ~on, 0.0, upper)
    return lower, upper
