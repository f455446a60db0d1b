"""The dispatch policy: what a new plan means for the charge points, without any I/O.

- A transaction's profile is sent when the plan changes what its charge point was told, or when what it
  was told runs out soon (in less than half the new plan's horizon); not for sessions only assumed (offline,
  non-compliant) or at charge points that are not connected.
- A profile that was rejected or not answered is retried (with backoff) while the plan still holds it; after
  the last attempt the transaction is non-compliant: planned as drawing its maximum.
- A deviation: an EV drawing well below its allocation (below `ratio` of it and by at least `min_kw`) in
  `samples` meter samples in a row is capped at what it draws (+10 %, at least 0.5 kW) for four intervals,
  so that the headroom goes to the others.
- The default profile a charge point gets at boot shares the site's safe capacity among its connectors.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import optimizer
from app.domain.events import MeterSample
from app.domain.planning import Site
from app.domain.ports import DispatchResult, TxSchedule
from app.services.planning.problem import Observations, Plan

__all__ = [
    "DeviationRule",
    "DispatchState",
    "SentProfile",
    "Verdict",
    "default_limit_kw",
    "needs_sending",
]


@dataclass(frozen=True)
class SentProfile:
    """A power series per interval from `start`: what a charge point was told, or what a plan holds."""

    start: datetime
    interval_min: int
    power_kw: tuple[float, ...]

    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.interval_min * len(self.power_kw))

    def at(self, when: datetime) -> float | None:
        index = int((when - self.start).total_seconds() // (self.interval_min * 60))
        return self.power_kw[index] if 0 <= index < len(self.power_kw) else None


def needs_sending(sent: SentProfile | None, new: SentProfile, now: datetime) -> bool:
    """Whether the charge point must be told: the plan differs from what it has, or that runs out soon."""
    if sent is None:
        return True
    if (sent.end() - now) < (new.end() - now) / 2:
        return True
    step = timedelta(minutes=new.interval_min)
    offset, rest = divmod(new.start - sent.start, step)
    if sent.interval_min == new.interval_min and not rest and offset >= 0:
        # the same grid: compare the overlapping intervals as slices, not instant by instant
        overlap = zip(sent.power_kw[offset:], new.power_kw, strict=False)
        return any(abs(old_kw - new_kw) > 1e-6 for old_kw, new_kw in overlap)
    t = new.start
    while t < min(sent.end(), new.end()):
        old_kw, new_kw = sent.at(t), new.at(t)
        if old_kw is None or new_kw is None or abs(old_kw - new_kw) > 1e-6:
            return True
        t += step
    return False


@dataclass(frozen=True)
class DeviationRule:
    ratio: float = 0.8  # measured below this share of the allocation …
    min_kw: float = 1.0  # … and by at least this much counts as a deviation
    samples: int = 2  # in this many samples in a row
    cap_intervals: int = 4  # the EV is then capped at what it draws for this many intervals


class Verdict(StrEnum):
    """What to do after a profile was not accepted."""

    RETRY = "retry"  # send the same profile again after the backoff
    NON_COMPLIANT = "non_compliant"  # plan the transaction at its maximum and replan the site
    DROP = "drop"  # nothing to do: the charge point is offline, or the transaction ended


@dataclass
class DispatchState:
    """What the scheduler knows beyond the database: what each charge point was told, the latest plan per
    transaction, EVs caught drawing below their allocation, and transactions that refused their profile."""

    deviation: DeviationRule = field(default_factory=DeviationRule)
    sent: dict[int, SentProfile] = field(default_factory=dict)
    allocation: dict[int, SentProfile] = field(default_factory=dict)
    charge_point_of: dict[int, str] = field(default_factory=dict)
    non_compliant: set[int] = field(default_factory=set)
    observed: dict[int, tuple[float, datetime]] = field(default_factory=dict)  # tx → (kW it draws, until)
    deviations: dict[int, int] = field(default_factory=dict)

    def observations(self, now: datetime) -> Observations:
        """What the next plan must take as given (expired observations are dropped)."""
        self.observed = {tx: v for tx, v in self.observed.items() if v[1] > now}
        return Observations(
            non_compliant=frozenset(self.non_compliant),
            max_kw={tx: kw for tx, (kw, _) in self.observed.items()},
        )

    def planned(
        self, plan: Plan, result: optimizer.ScheduleResult, connected: Callable[[str], bool], now: datetime
    ) -> list[TxSchedule]:
        """Take a solved plan as the allocation; the profiles to send because of it."""
        out = []
        for key, ps in plan.sessions.items():
            tx = ps.transaction_id
            self.charge_point_of[tx] = ps.charge_point_id
            power = tuple(result.schedules[key].power_kw)
            allocation = SentProfile(plan.problem.start, plan.problem.interval_min, power)
            self.allocation[tx] = allocation
            if ps.assumption != "planned" or not connected(ps.charge_point_id):
                continue
            if needs_sending(self.sent.get(tx), allocation, now):
                out.append(
                    TxSchedule(
                        ps.charge_point_id,
                        ps.connector_id,
                        tx,
                        allocation.start,
                        allocation.interval_min,
                        power,
                        ps.phases,
                        ps.voltage_v,
                    )  # fmt: skip
                )
        return out

    def dispatched(self, schedule: TxSchedule, result: DispatchResult) -> None:
        """Note what the charge point now has (nothing known unless it accepted)."""
        tx = schedule.transaction_id
        if result.status == "accepted":
            self.sent[tx] = SentProfile(schedule.start, schedule.interval_min, schedule.power_kw)
        else:
            self.sent.pop(tx, None)

    def verdict(
        self, schedule: TxSchedule, result: DispatchResult, *, attempt: int, attempts: int, connected: bool
    ) -> Verdict:
        """After a profile that was not accepted (`result`) at `attempt` of `attempts`."""
        if result.status == "not_sent" and not connected:
            return Verdict.DROP  # offline: the next plan assumes its maximum
        if attempt < attempts and result.status != "not_sent":
            return Verdict.RETRY
        if schedule.transaction_id not in self.allocation:
            return (
                Verdict.DROP
            )  # the transaction ended meanwhile (a charge point rejects a profile for it then)
        self.non_compliant.add(schedule.transaction_id)
        return Verdict.NON_COMPLIANT

    def still_planned(self, schedule: TxSchedule) -> bool:
        """Whether the latest plan still holds what `schedule` sends (a retry is worth it)."""
        current = self.allocation.get(schedule.transaction_id)
        return (
            current is not None and current.start == schedule.start and current.power_kw == schedule.power_kw
        )

    def deviates(self, transaction_id: int, samples: Iterable[MeterSample]) -> bool:
        """Count deviations in `samples`; True when the EV is to be capped at what it draws (and is)."""
        rule, plan = self.deviation, self.allocation.get(transaction_id)
        for sample in samples:
            if sample.power_w is None or plan is None:
                continue
            allocated_kw = plan.at(sample.timestamp)
            measured_kw = sample.power_w / 1000
            if (
                allocated_kw is not None
                and measured_kw < allocated_kw * rule.ratio
                and allocated_kw - measured_kw >= rule.min_kw
            ):
                self.deviations[transaction_id] = self.deviations.get(transaction_id, 0) + 1
            else:
                self.deviations[transaction_id] = 0
            if self.deviations[transaction_id] >= rule.samples:
                self.deviations[transaction_id] = 0
                until = sample.timestamp + timedelta(minutes=rule.cap_intervals * plan.interval_min)
                self.observed[transaction_id] = (max(measured_kw * 1.1, 0.5), until)
                return True
        return False

    def transaction_ended(self, transaction_id: int) -> None:
        for known in (self.sent, self.allocation, self.observed, self.charge_point_of, self.deviations):
            known.pop(transaction_id, None)
        self.non_compliant.discard(transaction_id)

    def charge_point_reset(self, charge_point_id: str) -> None:
        """After a reconnect or reboot the charge point may have lost its profiles: send them again."""
        transactions = {tx for tx, cp in self.charge_point_of.items() if cp == charge_point_id}
        for tx in transactions:
            self.sent.pop(tx, None)
        self.non_compliant -= transactions


def default_limit_kw(site: Site, connectors: int, share: float) -> float:
    """The limit of each connector's default profile: the site's safe capacity (its fallback limit, within
    the grid connection, less the safety margin) times `share`, divided among `connectors`."""
    safe_kw = max(0.0, min(site.fallback_limit_kw, site.grid_connection_limit_kw) - site.safety_margin_kw)
    return safe_kw * share / max(1, connectors)
