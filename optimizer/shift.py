"""Earlier, after the LP: move each session's energy into spare capacity at earlier intervals.

Used instead of the LP's earliness term on large problems (that term costs 2-3x the solve time there; see
docs/optimizer.md). Every move keeps each session's delivered energy (so the energy and fairness terms are
unchanged), never uses more than the spare capacity of the site and of every group above the session, and
stays within the bounds given. Minimum rates hold when the bounds fix the on/off pattern (`pattern_bounds`):
power then only moves between intervals that are on, none of which goes below its lower bound (>= min).
"""

from __future__ import annotations

import numpy as np

from optimizer.network import group_loads
from optimizer.prepare import SITE, Array, Prepared

EPS_KW = 1e-9


def shift_earlier(p: Prepared, plan: Array, lower: Array, upper: Array) -> Array:
    """A copy of `plan` (N, T) with energy moved to earlier intervals where capacity is spare."""
    plan = plan.copy()
    t_count = p.n_intervals
    for t in range(t_count - 1):
        rows = np.flatnonzero(upper[:, t] - plan[:, t] > EPS_KW)
        if rows.size == 0:
            continue
        movable = np.maximum(plan[rows, t + 1 :] - lower[rows, t + 1 :], 0.0)
        want = np.zeros(p.n_sessions)
        want[rows] = np.minimum(upper[rows, t] - plan[rows, t], movable.sum(axis=1))
        want[want < EPS_KW] = 0.0
        if not want.any():
            continue
        grant = want * _factors(p, plan[:, t], want, t)
        grant[grant < EPS_KW] = 0.0
        if not grant.any():
            continue
        plan[:, t] += grant
        # take the same energy back from the latest intervals first
        after = movable[:, ::-1]
        taken_before = np.cumsum(after, axis=1) - after
        take = np.clip(grant[rows, None] - taken_before, 0.0, after)[:, ::-1]
        plan[rows, t + 1 :] -= take
    return plan


def _factors(p: Prepared, column: Array, want: Array, t: int) -> Array:
    """(N,) the share of each want that fits: one factor per node, the smallest along each session's chain."""
    site_free = max(float(p.site_kw[t] - column.sum()), 0.0)
    total = float(want.sum())
    factor = np.full(p.n_sessions, 1.0 if total <= site_free else site_free / total)
    if p.group_ids:
        free = np.maximum(p.group_kw[:, t] - group_loads(p, column), 0.0)
        asked = group_loads(p, want)
        node_factor = np.where(asked > free, free / np.maximum(asked, EPS_KW), 1.0)
        for column_nodes in p.ancestors.T:
            inside = column_nodes != SITE
            factor[inside] = np.minimum(factor[inside], node_factor[column_nodes[inside]])
    return factor
