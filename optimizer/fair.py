"""Fair within each interval, after the LP: sessions that are alike get the same share in every interval.

The LP fixes the load on every node in every interval and each session's energy, but inside an interval the
split among sessions that are alike is arbitrary: a vertex gives some of them their maximum and others 0
(bang-bang), and fairness in thirds of the demand lets their energies differ by up to a third. Two steps,
each on classes of sessions directly under the same node with the same promise, priority, minimum rate and
bounds in every interval (the same plug-in window, caps, pauses, fixed power and, after the min-rate repair,
the same on/off pattern):

1. twins (also the same demand): each gets the mean plan of its twins. Jensen: the energy fractions become
   equal and neither fairness nor smoothness (both concave in the plan) can go down;
2. the whole class: each session gets the class's load profile scaled to its own energy,
   p_it = E_i * sum_j p_jt / sum_j E_j, wherever that stays within every member's bounds (else the class is
   left as it was). Every session keeps its energy; its power is the same fraction of its energy in every
   interval, and the class's total variation can only fall (triangle inequality).

Both keep the load of every node in every interval (so capacity, delivered energy and earliness), every
session's bounds, energy <= demand and the promise-weighted energy: an optimal LP plan stays optimal. N twins
alone under a site of C kW get exactly C/N each.
"""

from __future__ import annotations

import numpy as np

from optimizer.prepare import Array, IntArray, Prepared

TOLERANCE_KW = 1e-9


def equalise(p: Prepared, plan: Array, lower: Array, upper: Array, *, alike: bool = True) -> Array:
    """A copy of `plan` (N, T): twins get their mean plan, alike sessions (with `alike`) the same share of
    their energy. After the water-filling QP only the first is needed: it splits alike sessions already."""
    if p.n_sessions < 2:
        return plan.copy()
    same = [p.session_group, p.weight, p.priority, p.min_kw, upper, lower]
    window = _classes(np.column_stack(same))
    if np.bincount(window).max() < 2:
        return plan.copy()
    twin = _classes(np.column_stack([*same, p.demand_kwh]))
    plan = np.asarray(np.clip(_means(plan, twin)[twin], lower, upper))
    if not alike:
        return plan
    energy = plan.sum(axis=1)
    load = _sums(plan, window)
    total = _sums(energy[:, None], window)[:, 0]
    share = np.where(total > 0, 1.0 / np.where(total > 0, total, 1.0), 0.0)
    scaled = energy[:, None] * (load * share[:, None])[window]
    fits = (scaled <= upper + TOLERANCE_KW) & (scaled >= lower - TOLERANCE_KW)
    ok = _sums(fits.all(axis=1).astype(np.float64)[:, None], window)[:, 0] == np.bincount(window)
    use = ok[window] & (total[window] > 0)
    return np.where(use[:, None], np.clip(scaled, lower, upper), plan)


def _classes(features: Array) -> IntArray:
    """(N,): one class per distinct row (by its bytes: a dict is 50x faster than np.unique(axis=0) here)."""
    index: dict[bytes, int] = {}
    rows = np.ascontiguousarray(features, dtype=np.float64) + 0.0  # -0.0 -> 0.0
    return np.array([index.setdefault(row.tobytes(), len(index)) for row in rows], dtype=np.int64)


def _sums(values: Array, classes: IntArray) -> Array:
    """(C, T): column sums of `values` (N, T) per class."""
    order = np.argsort(classes, kind="stable")
    counts = np.bincount(classes)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return np.asarray(np.add.reduceat(values[order], starts, axis=0))


def _means(values: Array, classes: IntArray) -> Array:
    return _sums(values, classes) / np.bincount(classes)[:, None]
