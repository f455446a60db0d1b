"""Explanations recomputed from a plan: which constraint binds in each interval."""

from __future__ import annotations

import numpy as np

from optimizer.network import group_loads
from optimizer.prepare import Array, Prepared

TIGHT_KW = 1e-5


def binding(p: Prepared, power_kw: Array) -> tuple[str, ...]:
    """Per interval: `site` when the site capacity binds, else `group:<id>[+<id>...]` for binding groups,
    else `sessions` (the sessions' own limits -- max power, demand, overrides -- hold the load below),
    else `none` (nobody plugged in or nothing to charge)."""
    site = power_kw.sum(axis=0)
    loads = group_loads(p, power_kw) if p.group_ids else np.zeros((0, p.n_intervals))
    plugged = np.asarray((p.upper_kw > 0).any(axis=0), dtype=bool)
    labels: list[str] = []
    for t in range(p.n_intervals):
        tight = np.flatnonzero(loads[:, t] >= p.group_kw[:, t] - TIGHT_KW)
        if not plugged[t]:
            labels.append("none")
        elif site[t] >= p.site_kw[t] - TIGHT_KW:
            labels.append("site")
        elif tight.size:
            labels.append("group:" + "+".join(p.group_ids[g] for g in tight))
        else:
            labels.append("sessions" if site[t] > 0 else "none")
    return tuple(labels)
