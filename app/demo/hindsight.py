"""What a simulated day could have delivered: the hindsight bound and the simple online rule.

Both know the truth a central system never sees directly: each visit's arrival, departure and wanted
energy, and its EV (on-board charger, phases in use, battery, state of charge and taper).

- **Hindsight bound**: the linear program that delivers the most energy under the capacity per interval,
  knowing everything in advance. It ignores the 6 A minimum (a relaxation), so it is an upper bound.
- **Online rule**: no foresight; each minute, earliest departure first, every plugged-in EV is given what it
  can draw now (phases, on-board charger, taper) out of the capacity left, or nothing when the rest is below
  its 6 A minimum (a tapering EV may then draw less than that minimum, as a real one does). A simple rule a
  good controller should never do worse than.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_array

from simulator.ev import FULL_SOC, MIN_CURRENT_A, TAPER_END_FACTOR, TAPER_START_SOC, taper_factor
from simulator.stats import SessionResult

INTERVAL = timedelta(minutes=15)
TAPER_SLOPE = (1.0 - TAPER_END_FACTOR) / (1.0 - TAPER_START_SOC)  # of the power factor, per unit of SoC


@dataclass(frozen=True)
class Visit:
    """One EV visit as the simulator knew it."""

    key: str
    arrival: datetime
    departure: datetime
    energy_kwh: float  # what the driver wants, as far as the EV takes it
    max_kw: float  # the EV's maximum at this connector: on-board charger, phases in use, connector current
    min_kw: float  # 6 A on each phase in use
    battery_kwh: float
    initial_soc: float

    @classmethod
    def of(cls, session: SessionResult) -> "Visit":
        phases = min(session.ev_phases, session.connector_phases)
        connector_kw = phases * session.voltage_v * session.connector_max_current_a / 1000
        return cls(
            key=f"{session.charge_point_id}/{session.connector_id}@{session.arrival.isoformat()}",
            arrival=session.arrival,
            departure=session.departure,
            # the simulated EV is full at FULL_SOC: what it will take, not the last Wh it never does
            energy_kwh=min(
                session.requested_kwh, session.battery_kwh * max(0.0, FULL_SOC - session.initial_soc)
            ),
            max_kw=min(session.ev_max_kw, connector_kw),
            min_kw=phases * session.voltage_v * MIN_CURRENT_A / 1000,
            battery_kwh=session.battery_kwh,
            initial_soc=session.initial_soc,
        )

    def max_kw_at(self, delivered_kwh: float) -> float:
        """What the EV can draw after taking `delivered_kwh`: its maximum, tapering near full."""
        if delivered_kwh >= self.energy_kwh - 1e-9:
            return 0.0
        return self.max_kw * taper_factor(self.initial_soc + delivered_kwh / self.battery_kwh)


def hindsight_bound(visits: Sequence[Visit], capacity_kw: Mapping[datetime, float]) -> dict[str, float]:
    """The most energy (kWh per visit) any planner could deliver under `capacity_kw` (mean kW per
    15-minute interval, by interval start; intervals not given have no capacity)."""
    starts = sorted(capacity_kw)
    if not visits or not starts:
        return {v.key: 0.0 for v in visits}
    hours = INTERVAL.total_seconds() / 3600
    columns: list[tuple[int, int, float]] = []  # (visit, interval, hours plugged in)
    for v_index, visit in enumerate(visits):
        for t_index, start in enumerate(starts):
            overlap = (min(visit.departure, start + INTERVAL) - max(visit.arrival, start)).total_seconds()
            if overlap > 0:
                columns.append((v_index, t_index, overlap / 3600))
    n = len(columns)
    upper = np.array([visits[v].max_kw * plugged_h for v, _, plugged_h in columns])
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    bounds_rhs: list[float] = []

    def add_row(entries: Sequence[tuple[int, float]], rhs: float) -> None:
        row = len(bounds_rhs)
        for col, value in entries:
            rows.append(row)
            cols.append(col)
            values.append(value)
        bounds_rhs.append(rhs)

    by_interval: dict[int, list[int]] = {}
    by_visit: dict[int, list[int]] = {}
    for col, (v, t, _) in enumerate(columns):
        by_interval.setdefault(t, []).append(col)
        by_visit.setdefault(v, []).append(col)
    for t, cols_t in by_interval.items():  # energy in an interval ≤ capacity × its length
        add_row([(c, 1.0) for c in cols_t], max(0.0, capacity_kw[starts[t]]) * hours)
    for v, cols_v in by_visit.items():
        visit = visits[v]
        add_row([(c, 1.0) for c in cols_v], visit.energy_kwh)  # no more than wanted
        # taper: energy in an interval ≤ plugged hours × max × (1 − slope × (SoC at its start − 0.8))
        for k, c in enumerate(cols_v):
            plugged_h = columns[c][2]
            soc_room = TAPER_START_SOC - visit.initial_soc
            rhs = plugged_h * visit.max_kw * (1.0 + TAPER_SLOPE * soc_room)
            coefficient = plugged_h * visit.max_kw * TAPER_SLOPE / visit.battery_kwh
            add_row([(c, 1.0)] + [(earlier, coefficient) for earlier in cols_v[:k]], rhs)
    matrix = coo_array((values, (rows, cols)), shape=(len(bounds_rhs), n)).tocsr()
    result = linprog(
        -np.ones(n), A_ub=matrix, b_ub=np.array(bounds_rhs), bounds=list(zip([0.0] * n, upper, strict=True)),
        method="highs",
    )  # fmt: skip
    if not result.success:
        raise RuntimeError(f"hindsight LP failed: {result.message}")
    energy = {visit.key: 0.0 for visit in visits}
    for (v, _, _), kwh in zip(columns, result.x, strict=True):
        energy[visits[v].key] += float(kwh)
    return energy


def online_rule(
    visits: Sequence[Visit], capacity_kw: Mapping[datetime, float], step: timedelta = timedelta(minutes=1)
) -> dict[str, float]:
    """Energy (kWh per visit) of earliest-departure-first, minute by minute, phase- and 6 A-aware."""
    delivered = {visit.key: 0.0 for visit in visits}
    if not visits or not capacity_kw:
        return delivered
    starts = sorted(capacity_kw)
    moment, end = starts[0], starts[-1] + INTERVAL
    hours = step.total_seconds() / 3600
    while moment < end:
        interval = starts[0] + INTERVAL * math.floor((moment - starts[0]) / INTERVAL)
        room_kw = max(0.0, capacity_kw.get(interval, 0.0))
        present = sorted(
            (v for v in visits if v.arrival <= moment < v.departure), key=lambda v: (v.departure, v.key)
        )
        for visit in present:
            want_kw = visit.max_kw_at(delivered[visit.key])
            if room_kw < visit.min_kw or want_kw <= 0:
                continue  # no limit of 6 A or more is left for it
            give_kw = min(want_kw, room_kw)
            plugged_h = min(hours, (visit.departure - moment).total_seconds() / 3600)
            kwh = min(give_kw * plugged_h, visit.energy_kwh - delivered[visit.key])
            delivered[visit.key] += kwh
            room_kw -= give_kw
        moment += step
    return delivered
