"""The last step before a plan leaves the optimiser: recompute every hard constraint from the plan itself.

A solver's status alone is never trusted (PuLP + HiGHS reports Optimal at its time limit with values that
break capacity by thousands of kW); a plan that fails here is replaced by a baseline.
"""

from __future__ import annotations

import numpy as np

from optimizer.network import group_loads
from optimizer.prepare import Array, Prepared

TOLERANCE_KW = 1e-6
TOLERANCE_KWH = 1e-6


def violations(p: Prepared, power_kw: Array) -> list[str]:
    """What the plan (N, T) breaks, empty if nothing; tolerances 1e-6 kW / kWh (plus 1e-9 relative)."""
    found: list[str] = []

    def tol(scale: Array | float) -> Array:
        return TOLERANCE_KW + 1e-9 * np.abs(scale)

    if power_kw.shape != (p.n_sessions, p.n_intervals):
        return [f"plan has shape {power_kw.shape}, expected {(p.n_sessions, p.n_intervals)}"]
    if not np.isfinite(power_kw).all():
        return ["plan has non-finite values"]
    site = power_kw.sum(axis=0)
    for t in np.flatnonzero(site > p.site_kw + tol(p.site_kw)):
        found.append(f"site_capacity[{t}]: {site[t]:.6f} > {p.site_kw[t]:.6f} kW")
    if p.group_ids:
        loads = group_loads(p, power_kw)
        for g, t in zip(*np.nonzero(loads > p.group_kw + tol(p.group_kw)), strict=True):
            found.append(
                f"group_capacity[{p.group_ids[g]},{t}]: {loads[g, t]:.6f} > {p.group_kw[g, t]:.6f} kW"
            )
    for i, t in zip(*np.nonzero(power_kw > p.upper_kw + tol(p.upper_kw)), strict=True):
        found.append(f"upper[{p.ids[i]},{t}]: {power_kw[i, t]:.6f} > {p.upper_kw[i, t]:.6f} kW")
    for i, t in zip(*np.nonzero(power_kw < p.lower_kw - tol(p.lower_kw)), strict=True):
        found.append(f"lower[{p.ids[i]},{t}]: {power_kw[i, t]:.6f} < {p.lower_kw[i, t]:.6f} kW")
    on = power_kw > TOLERANCE_KW
    low = on & (power_kw < p.min_kw[:, None] - TOLERANCE_KW)
    for i, t in zip(*np.nonzero(low), strict=True):
        found.append(f"min_rate[{p.ids[i]},{t}]: {power_kw[i, t]:.6f} < {p.min_kw[i]:.6f} kW")
    delivered = power_kw.sum(axis=1) * p.interval_h
    for i in np.flatnonzero(delivered > p.demand_kwh + TOLERANCE_KWH + 1e-9 * p.demand_kwh):
        found.append(f"energy[{p.ids[i]}]: {delivered[i]:.6f} > {p.demand_kwh[i]:.6f} kWh")
    return found


def clean(p: Prepared, power_kw: Array, lower: Array, upper: Array) -> Array:
    """Solver noise removed: clipped into the bounds, |p| < 1e-7 kW set to 0, energy trimmed to the demand."""
    plan = np.clip(power_kw, lower, upper)
    plan[np.abs(plan) < 1e-7] = 0.0
    excess = plan.sum(axis=1) * p.interval_h - p.demand_kwh
    for i in np.flatnonzero(excess > 0):
        plan[i] *= max(0.0, 1.0 - excess[i] / (plan[i].sum() * p.interval_h))
        plan[i] = np.maximum(plan[i], lower[i])
    return plan
