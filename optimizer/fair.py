"""Fair within each interval, after the LP: interchangeable sessions get the same power in every interval.

The LP fixes the load on every node in every interval and each session's energy, but inside an interval the
split among sessions that are alike is arbitrary: a vertex gives some of them their maximum and others 0
(bang-bang), and fairness in thirds of the demand lets their energies differ by up to a third. Sessions are
interchangeable ("twins") when they sit directly under the same node and have the same priority, demand,
minimum rate and the same bounds in every interval (the same plug-in window, caps, pauses, fixed power and,
after the min-rate repair, the same on/off pattern). Replacing each twin's row by the mean row of its twins

* keeps the load of every node in every interval (so capacity, delivered energy and earliness are unchanged),
* keeps every bound (a mean of values within equal bounds; equal on/off patterns) and energy <= demand,
* keeps the priority-weighted energy (same priority) and never lowers fairness or smoothness (both concave in
  the plan: Jensen), so the objective of an optimal LP plan is unchanged,

and gives each twin exactly the same power in every interval (for N twins alone under a site of C kW: C/N).
"""

from __future__ import annotations

import numpy as np

from optimizer.prepare import Array, Prepared


def equalise(p: Prepared, plan: Array, lower: Array, upper: Array) -> Array:
    """A copy of `plan` (N, T) where every session has the mean plan of its twins."""
    if p.n_sessions < 2:
        return plan.copy()
    features = np.column_stack([p.session_group, p.priority, p.demand_kwh, p.min_kw, upper, lower]).astype(
        np.float64
    )
    _, twin, count = np.unique(features, axis=0, return_inverse=True, return_counts=True)
    twin = np.asarray(twin).reshape(-1)
    if count.max() < 2:
        return plan.copy()
    order = np.argsort(twin, kind="stable")
    starts = np.concatenate([[0], np.cumsum(count)[:-1]])
    mean = np.add.reduceat(plan[order], starts, axis=0) / count[:, None]
    return np.asarray(np.clip(mean[twin], lower, upper))
