"""Baselines: uncontrolled, equal share, earliest deadline first. Interval by interval, greedy, capacity held.

They are the comparison figures and the fallback when the LP fails. All of them respect the site and group
capacities, fixed overrides, caps, pauses, energy demand and minimum rates. `uncontrolled(capped=False)` is
the plain "maximum power while plugged in" load, for comparison only: it is never returned by `solve`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from optimizer.minrate import repair_interval
from optimizer.network import chain_headroom, headroom, take
from optimizer.prepare import SITE, Array, IntArray, Prepared

BISECTION_STEPS = 60


def _free_room(p: Prepared, delivered_kwh: Array, future_fixed_kwh: Array, t: int) -> Array:
    """(N,) the most power a session may take at t beyond its fixed power, so that energy stays <= demand."""
    spare_kwh = np.maximum(p.demand_kwh - delivered_kwh - future_fixed_kwh, 0.0)
    return np.minimum(p.upper_kw[:, t] - p.lower_kw[:, t], spare_kwh / p.interval_h)


def _greedy(p: Prepared, room: Array, order: IntArray, column: Array, t: int) -> None:
    """Give sessions in `order` as much as they want and the tree allows; min rates: 0 or >= min."""
    site, groups = headroom(p, column, t)
    for i in order:
        want = float(room[i])
        if want <= 0.0:
            continue
        grant = min(want, chain_headroom(p, int(i), site, groups))
        if column[i] == 0.0 and grant < p.min_kw[i] - 1e-9:
            continue
        if grant <= 0.0:
            continue
        column[i] += grant
        site -= grant
        take(p, int(i), grant, groups)


def _run(p: Prepared, allocate: Callable[[Array, Array, int], None]) -> Array:
    plan = p.lower_kw.copy()
    future_fixed = p.lower_kw[:, ::-1].cumsum(axis=1)[:, ::-1] * p.interval_h
    delivered = np.zeros(p.n_sessions)
    for t in range(p.n_intervals):
        room = _free_room(p, delivered, future_fixed[:, t], t)
        if (room > 0).any():
            allocate(plan, room, t)
        delivered += plan[:, t] * p.interval_h
    return plan


def edf(p: Prepared) -> Array:
    """Earliest departure first (ties: higher priority, then earlier arrival)."""
    order = np.lexsort((p.arrival_order, -p.priority, p.departure_h)).astype(np.int64)

    def allocate(plan: Array, room: Array, t: int) -> None:
        active = order[room[order] > 0]
        _greedy(p, room, active, plan[:, t], t)

    return _run(p, allocate)


def uncontrolled(p: Prepared, *, capped: bool = True) -> Array:
    """Maximum power while plugged in until the demand is met.

    Capped (the default, and the only form `solve` returns): first come first served within capacity."""
    order = np.lexsort((-p.priority, p.arrival_order)).astype(np.int64)

    def allocate(plan: Array, room: Array, t: int) -> None:
        if not capped:
            plan[:, t] += room
            return
        active = order[room[order] > 0]
        _greedy(p, room, active, plan[:, t], t)

    return _run(p, allocate)


def equal_share(p: Prepared) -> Array:
    """Water-filling: every active session gets the same power, capped by its own room and by each node."""
    tree = _Tree(p)

    def allocate(plan: Array, room: Array, t: int) -> None:
        column = plan[:, t]
        limit = column + room  # the most each session may have at t
        blocked = np.zeros(p.n_sessions, dtype=bool)
        for _ in range(3):  # refill what sessions that gave way to their minimum rate left unused
            want = np.where(blocked, 0.0, np.maximum(limit - column, 0.0))
            site_free, group_free = headroom(p, column, t)
            level = tree.levels(want, max(site_free, 0.0), np.maximum(group_free, 0.0))
            column += np.minimum(want, level)
            dropped, _ = repair_interval(p, plan, t, np.where(blocked, 0.0, limit))
            if not dropped:
                break
            blocked[dropped] = True

    return _run(p, allocate)


class _Tree:
    """The group tree by depth, for vectorised water-filling."""

    def __init__(self, p: Prepared) -> None:
        self.p = p
        g_count = len(p.group_ids)
        depth = np.zeros(g_count, dtype=np.int64)
        for g in range(g_count):
            node = p.group_parent[g]
            while node != SITE:
                depth[g] += 1
                node = p.group_parent[node]
        self.depth = depth
        self.by_depth = [np.flatnonzero(depth == d) for d in range(int(depth.max(initial=-1)) + 1)]
        # (N, D): each session's group at each depth, top first; SITE below its own group
        chain_len = (p.ancestors != SITE).sum(axis=1)
        self.at_depth = np.full((p.n_sessions, len(self.by_depth)), SITE, dtype=np.int64)
        for d in range(len(self.by_depth)):
            k = chain_len - 1 - d
            ok = k >= 0
            self.at_depth[ok, d] = p.ancestors[np.flatnonzero(ok), k[ok]]
        self.direct = p.session_group != SITE

    def loads(self, share: Array, group_free: Array) -> tuple[Array, Array]:
        """Uncapped and capped load of each group (children capped) for power `share` (N,)."""
        g_count = len(self.p.group_ids)
        groups, weights = self.p.session_group[self.direct], share[self.direct]
        uncapped = np.bincount(groups, weights, minlength=g_count).astype(np.float64)
        capped: Array = uncapped.copy()
        for nodes in reversed(self.by_depth):
            capped[nodes] = np.minimum(group_free[nodes], uncapped[nodes])
            parents = self.p.group_parent[nodes]
            top = parents != SITE
            np.add.at(uncapped, parents[top], capped[nodes[top]])
        return uncapped, capped

    def site_load(self, share: Array, group_free: Array) -> float:
        direct = float(share[~self.direct].sum())
        if not self.by_depth:
            return direct
        _, capped = self.loads(share, group_free)
        return direct + float(capped[self.by_depth[0]].sum())

    def levels(self, room: Array, site_free: float, group_free: Array) -> Array:
        """(N,) each session's water level: the site's, lowered inside groups whose capacity binds."""
        n = self.p.n_sessions
        level = np.full(n, float(room.max(initial=0.0)))
        if self.site_load(room, group_free) > site_free:
            lo, hi = 0.0, float(level[0])
            for _ in range(BISECTION_STEPS):
                half = 0.5 * (lo + hi)
                if self.site_load(np.minimum(room, half), group_free) > site_free:
                    hi = half
                else:
                    lo = half
            level[:] = lo
        for d, nodes in enumerate(self.by_depth):
            owner = self.at_depth[:, d]
            under = owner != SITE
            if not under.any():
                continue
            g_count = len(self.p.group_ids)
            ceiling = np.zeros(g_count)
            np.maximum.at(ceiling, owner[under], level[under])
            uncapped, _ = self.loads(np.minimum(room, level), group_free)
            tight = np.zeros(g_count, dtype=bool)
            tight[nodes] = uncapped[nodes] > group_free[nodes] + 1e-12
            if not tight.any():
                continue
            low: Array = np.zeros(g_count)
            up: Array = ceiling.copy()
            for _ in range(BISECTION_STEPS):
                mid = np.where(tight, 0.5 * (low + up), ceiling)
                trial = np.where(under, np.minimum(level, mid[np.where(under, owner, 0)]), level)
                uncapped, _ = self.loads(np.minimum(room, trial), group_free)
                over = tight & (uncapped > group_free)
                up = np.where(over, mid, up)
                low = np.where(tight & ~over, mid, low)
            chosen = np.where(tight, low, ceiling)
            level = np.where(under, np.minimum(level, chosen[np.where(under, owner, 0)]), level)
        return level
