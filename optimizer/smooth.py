"""Smoother, after the LP: a session's power made constant within each hour where that changes nothing else.

Used where the LP's smoothness term is too expensive (docs/optimizer.md). Earliness is valued per hour, so
inside an hour the LP's choice between intervals is a tie, and a vertex solution often alternates (11, 0, 11,
0 kW). Replacing a session's power in an hour by its mean keeps its energy (energy and fairness unchanged) and
the hour's earliness value; it never raises the total variation. Where an hour's capacities are constant,
the node loads become the hour's mean loads, so capacity still holds; every hour is checked anyway and kept
as it was if any node would go above capacity. A session is flattened in an hour only if its bounds are
constant there (plugged in throughout, same cap, same fixed power) and its mean respects its minimum rate.
"""

from __future__ import annotations

import numpy as np

from optimizer.network import group_loads
from optimizer.prepare import Array, Prepared

TOLERANCE_KW = 1e-9


def flatten_hours(p: Prepared, plan: Array, lower: Array, upper: Array, block: int) -> Array:
    """A copy of `plan` (N, T) with each session's power averaged over blocks of `block` intervals."""
    n, t_count = plan.shape
    blocks = t_count // block
    if block <= 1 or blocks == 0 or n == 0:
        return plan.copy()
    span = blocks * block
    power = plan[:, :span].reshape(n, blocks, block)
    up = upper[:, :span].reshape(n, blocks, block)
    low = lower[:, :span].reshape(n, blocks, block)
    mean = power.mean(axis=2)
    eligible = (
        (up.min(axis=2) == up.max(axis=2)) & (up.min(axis=2) > 0) & (low.min(axis=2) == low.max(axis=2))
    )
    eligible &= ~((mean > TOLERANCE_KW) & (mean < p.min_kw[:, None] - TOLERANCE_KW))
    flat = np.where(eligible[:, :, None], mean[:, :, None], power).reshape(n, span)
    ok = flat.sum(axis=0) <= p.site_kw[:span] + 1e-7
    if p.group_ids:
        ok &= (group_loads(p, flat) <= p.group_kw[:, :span] + 1e-7).all(axis=0)
    keep = np.repeat(ok.reshape(blocks, block).all(axis=1), block)
    out = plan.copy()
    out[:, :span] = np.where(keep[None, :], flat, plan[:, :span])
    return out
