"""What the drivers got, set against what the day allowed: delivered energy beside the hindsight bound and
the online rule, intervals where EVs wanted more than the site drew, promises kept, and profiles whose
limits an EV cannot use (between 0 and its 6 A minimum)."""

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.demo.hindsight import INTERVAL, Visit, hindsight_bound, online_rule
from simulator.ev import MIN_CURRENT_A
from simulator.stats import SessionResult

KEPT_KWH = 0.1  # a promise is kept when the energy delivered is within this of what was wanted
UNDERDRAWN = 0.95  # an interval where EVs wanted more than the capacity should draw at least this share


@dataclass(frozen=True)
class Outcome:
    wanted_kwh: float
    delivered_kwh: float
    bound_kwh: float
    online_kwh: float
    contested_intervals: int  # EVs that left short were plugged in, wanting more than the capacity
    underdrawn_intervals: int  # of those, the site drew under 95 % of the capacity
    promises: int  # visits whose wanted energy the hindsight bound delivers in full
    promises_kept: int
    profile_periods: int
    short_periods: int  # 0 < limit < 6 A per phase: an EV stops
    first_profile_s: Sequence[float]  # per transaction: its start → its first TxProfile (simulated s)

    @property
    def of_bound(self) -> float:
        return self.delivered_kwh / self.bound_kwh if self.bound_kwh else 1.0

    @property
    def online_of_bound(self) -> float:
        return self.online_kwh / self.bound_kwh if self.bound_kwh else 1.0

    @property
    def first_profile_median_s(self) -> float | None:
        return statistics.median(self.first_profile_s) if self.first_profile_s else None


def visits_of(sessions: Iterable[SessionResult], start: datetime, end: datetime) -> list[Visit]:
    """The visits that plugged in and were authorised, clipped to [start, end)."""
    out = []
    for session in sessions:
        if not session.authorized or session.transaction_id is None:
            continue
        visit = Visit.of(session)
        arrival, departure = max(visit.arrival, start), min(visit.departure, end)
        if departure > arrival:
            out.append(Visit(**{**visit.__dict__, "arrival": arrival, "departure": departure}))
    return out


def short_periods(profiles: Iterable[Mapping[str, Any]], voltage_v: float = 230.0) -> tuple[int, int]:
    """(periods, periods with 0 < limit < 6 A per phase) of the TxProfiles sent."""
    periods = short = 0
    for profile in profiles:
        schedule = profile["chargingSchedule"]
        for period in schedule["chargingSchedulePeriod"]:
            phases = period.get("numberPhases", 3)
            minimum = (
                MIN_CURRENT_A if schedule["chargingRateUnit"] == "A" else MIN_CURRENT_A * voltage_v * phases
            )
            periods += 1
            short += 0 < period["limit"] < minimum - 1e-9
    return periods, short


def contested(
    visits: Sequence[Visit],
    delivered: Mapping[str, float],
    capacity_kw: Mapping[datetime, float],
    drawn_kw: Mapping[datetime, float],
) -> tuple[int, int]:
    """(intervals where EVs that left short could have drawn more than the capacity, of those the ones
    where the site drew under 95 % of it)."""
    short = [v for v in visits if delivered.get(v.key, 0.0) < v.energy_kwh - KEPT_KWH]
    found = under = 0
    for start, capacity in capacity_kw.items():
        end = start + INTERVAL
        demand_kw = sum(
            v.max_kw * max(0.0, (min(v.departure, end) - max(v.arrival, start)) / INTERVAL) for v in short
        )
        if capacity > 0 and demand_kw >= capacity:
            found += 1
            under += drawn_kw.get(start, 0.0) < UNDERDRAWN * capacity
    return found, under


def outcome(
    sessions: Sequence[SessionResult],
    capacity_kw: Mapping[datetime, float],
    drawn_kw: Mapping[datetime, float],
    tx_profiles: Sequence[tuple[datetime, Mapping[str, Any]]],
    transaction_starts: Mapping[int, datetime],
) -> Outcome:
    """`capacity_kw` and `drawn_kw` per 15-minute interval; `tx_profiles` as (sent at, profile) in the
    order sent; `transaction_starts` by transaction id."""
    start, end = min(capacity_kw), max(capacity_kw) + INTERVAL
    visits = visits_of(sessions, start, end)
    delivered = {
        Visit.of(s).key: s.delivered_kwh for s in sessions if s.authorized and s.transaction_id is not None
    }
    bound = hindsight_bound(visits, capacity_kw)
    online = online_rule(visits, capacity_kw)
    found, under = contested(visits, delivered, capacity_kw, drawn_kw)
    feasible = [v for v in visits if bound[v.key] >= v.energy_kwh - KEPT_KWH]
    periods, short = short_periods(profile for _, profile in tx_profiles)
    first: dict[int, datetime] = {}
    for sent_at, profile in tx_profiles:
        first.setdefault(int(profile["transactionId"]), sent_at)
    waits = [
        max(0.0, (first[tx] - started).total_seconds())
        for tx, started in transaction_starts.items()
        if tx in first
    ]
    return Outcome(
        wanted_kwh=sum(v.energy_kwh for v in visits),
        delivered_kwh=sum(delivered.get(v.key, 0.0) for v in visits),
        bound_kwh=sum(bound.values()),
        online_kwh=sum(online.values()),
        contested_intervals=found,
        underdrawn_intervals=under,
        promises=len(feasible),
        promises_kept=sum(delivered.get(v.key, 0.0) >= v.energy_kwh - KEPT_KWH for v in feasible),
        profile_periods=periods,
        short_periods=short,
        first_profile_s=waits,
    )
