"""The objective: a list of weighted components, in order of importance, as one weighted LP.

Per kWh delivered to session i the objective gains `weight_i`: 2 for a promised session (energy and
departure stated), else 1. The tie-breakers are scaled so that together they can never be worth more than
`ENERGY_TOLERANCE` of the energy term: any solution of the weighted LP delivers at least
(1 - ENERGY_TOLERANCE) of the maximal weighted energy (see docs/optimizer.md for the bound). Their own order
follows from their sizes:

* fairness: a concave piecewise-linear utility of the served fraction, slopes FAIR_SLOPES per kWh on each
  third of the demand times the session's fairness weight (1 to 1.2 by priority: `prepare.fair_weights`)
  -- a kWh to a session at a lower fraction is worth more, and a priority moves a session ahead within a
  third, never past another session's lower third. Promises have no fairness term: they are kept, not
  shared (earliness, below);
* fair within the interval: not an LP term. After the LP, `optimizer.fair` gives alike sessions the same
  share of every interval (twins the mean plan), on the LP's optimal face: no other term changes;
* early: EARLY * (T - t) / T per kWh delivered in interval t, t rounded down to the hour after the first
  (at most 5e-5 per kWh, less than one fairness step). Within the first hour every interval steps: the
  interval under way is the one sent now, and a kWh planned for later in the hour may never come (an EV
  tapers or leaves): given room now, an EV gets its maximum now, not the same energy spread over the hour;
  for a promise it is multiplied by its `urgency` (2 when due in the first interval, falling to 1 at the
  end of the horizon): among promises an early kWh goes to the one due first, earliest deadline first, the
  order that keeps the most deadlines on one shared resource. Spread instead (as fairness would), many EVs
  come near full at once, each taking less than its minimum rate holds, and tails are left undelivered;
* smooth: -SMOOTH per kW of change between consecutive plugged-in intervals (1e-8, below one interval of
  earliness: 5e-5 / T per kWh = 1.3e-4 per kW at 15 minutes, scaled by 1e-3 below).

The LP is built with every coefficient multiplied by SCALE so that the tie-breakers' reduced costs stay well
above the solver's dual feasibility tolerance (1e-7); reported objectives are divided by it again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.datatypes import ObjectiveParts
from optimizer.prepare import Array, BoolArray, Prepared

SCALE = 1000.0
FAIR_SLOPES = (3e-4, 2e-4, 1e-4)
EARLY = 5e-5
EARLY_STEP_MIN = 60  # the bonus steps down hourly: per-interval steps cost 2-3x the solve time (docs)
EARLY_MAX_VARIABLES = 40_000  # the earliness term is in the LP up to this many power variables (docs)
SMOOTH_MAX_VARIABLES = 2_500  # the smoothness term is in the LP up to this many power variables (docs)
SMOOTH = 1e-8
ENERGY_TOLERANCE = 1e-3  # the bound; the weights above use 3.5e-4 of it (docs/optimizer.md)


@dataclass(frozen=True)
class Weights:
    """Which tie-breakers are on (the bare max-energy LP has none)."""

    fairness: bool = True
    early: bool = True
    smooth: bool = True

    @classmethod
    def for_size(cls, p: Prepared) -> Weights:
        """All components in the LP where affordable; above the thresholds, earliness comes from
        `optimizer.shift` after the LP and smoothness from the vertex solution (docs/optimizer.md)."""
        n_power = int((p.upper_kw > 0).sum())
        return cls(early=n_power <= EARLY_MAX_VARIABLES, smooth=n_power <= SMOOTH_MAX_VARIABLES)


FULL = Weights()


def available(p: Prepared) -> BoolArray:
    """(N, T): where a session may draw power at all: the LP's variables."""
    return np.asarray(p.upper_kw > 0, dtype=bool)


def power_cost(p: Prepared, weights: Weights) -> Array:
    """(N, T): objective per kW in each interval (energy and earliness), unscaled."""
    per_kwh = p.weight[:, None] + early_per_kwh(p, weights)[None, :] * urgency(p)[:, None]
    return np.asarray(per_kwh * p.interval_h)


def urgency(p: Prepared) -> Array:
    """(N,): what the earliness bonus is multiplied by in the LP's cost: for a promise, 2 when it is due in
    the first interval, falling linearly to 1 at the end of the horizon (among promises, an early kWh goes to
    the one due first: earliest deadline first, which keeps the most deadlines on one resource); 1 for the
    others. By the interval a session is due in, so that twins (`fair`) share it."""
    due = np.ceil(p.departure_h / p.interval_h - 1e-9)
    return np.asarray(1.0 + p.promised * np.clip(1.0 - due / max(1, p.n_intervals), 0.0, 1.0))


def early_value(p: Prepared, power_kw: Array, weights: Weights = FULL) -> float:
    """The earliness term of a plan (N, T): its bonus per kWh, times each session's `urgency`."""
    per_kwh = early_per_kwh(p, weights)[None, :] * urgency(p)[:, None]
    return float((power_kw * p.interval_h * per_kwh).sum())


def early_step(p: Prepared) -> int:
    """Intervals per step of the earliness bonus (an hour)."""
    return max(1, round(EARLY_STEP_MIN / (p.interval_h * 60)))


def early_per_kwh(p: Prepared, weights: Weights) -> Array:
    """(T,): the earliness bonus per kWh, stepping down every interval of the first hour, then once per
    hour (EARLY_STEP_MIN)."""
    if not weights.early:
        return np.zeros(p.n_intervals)
    step = early_step(p)
    t = np.arange(p.n_intervals)
    t = np.where(t < step, t, (t // step) * step)
    return np.asarray(EARLY * (p.n_intervals - t) / p.n_intervals, dtype=np.float64)


def smooth_pairs(mask: BoolArray) -> tuple[np.ndarray, np.ndarray]:
    """(i, t) of each pair (t, t + 1) where the session may draw power in both intervals."""
    both = mask[:, :-1] & mask[:, 1:]
    i, t = np.nonzero(both)
    return i, t


def fairness_value(p: Prepared, delivered_kwh: Array) -> float:
    """sum_i w_i * D_i * g(e_i / D_i) with g concave, piecewise linear on thirds of the demand, w_i the
    session's fairness weight (its priority)."""
    total = 0.0
    width = p.demand_kwh / len(FAIR_SLOPES)
    for k, slope in enumerate(FAIR_SLOPES):
        total += slope * float((p.fair_weight * np.clip(delivered_kwh - k * width, 0.0, width)).sum())
    return total


def parts(p: Prepared, power_kw: Array, weights: Weights = FULL) -> ObjectiveParts:
    """The objective's components recomputed from a plan (N, T)."""
    delivered = power_kw.sum(axis=1) * p.interval_h
    energy = float((p.weight * delivered).sum())
    fairness = fairness_value(p, delivered) if weights.fairness else 0.0
    early = early_value(p, power_kw, weights)
    smooth = 0.0
    if weights.smooth and p.n_intervals > 1:
        i, t = smooth_pairs(available(p))
        smooth = -SMOOTH * float(np.abs(power_kw[i, t + 1] - power_kw[i, t]).sum())
    return ObjectiveParts(energy=energy, fairness=fairness, early=early, smooth=smooth)
