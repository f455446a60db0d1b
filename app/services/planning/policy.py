"""The dispatch policy: what a new plan means for the charge points, without any I/O.

- A transaction's profile is sent when the plan changes what its charge point was told, or when what it
  was told runs out soon (in less than half the new plan's horizon); not for sessions only assumed (offline,
  non-compliant) or at charge points that are not connected.
- A profile that was rejected or not answered is retried (with backoff) while the plan still holds it; after
  the last attempt the transaction is non-compliant: planned as drawing its maximum.
- What an EV shows in its meter values (phases in use, its own ceiling, idle) is learnt per transaction
  (`learning`); when that changes, the site is replanned, so that headroom an EV leaves goes to the others
  within one meter-value interval.
- A transaction that draws over the limits it accepted is non-compliant (`compliance`): planned at what it
  draws, no profile sent, until it keeps to them again; each change is handed to the scheduler to record.
- The default profile a charge point gets at boot shares the site's safe capacity among its connectors.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import optimizer
from app.domain.events import MeterSample
from app.domain.planning import Site
from app.domain.ports import DispatchResult, TxSchedule
from app.services.planning.compliance import ComplianceChange, DrawTrace, OverDrawRule, check_draw
from app.services.planning.learning import EvTrace, LearningRule, learn
from app.services.planning.problem import Observations, Plan, SentProfile

__all__ = [
    "DispatchState",
    "SentProfile",
    "Verdict",
    "default_limit_kw",
    "needs_sending",
]


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


class Verdict(StrEnum):
    """What to do after a profile was not accepted."""

    RETRY = "retry"  # send the same profile again after the backoff
    NON_COMPLIANT = "non_compliant"  # plan the transaction at its maximum and replan the site
    DROP = "drop"  # nothing to do: the charge point is offline, or the transaction ended


@dataclass
class DispatchState:
    """What the scheduler knows beyond the database: what each charge point was told, the latest plan per
    transaction, EVs caught drawing below their allocation, transactions that refused their profile (in
    `non_compliant`) and those caught drawing over it (`draw`, their changes queued in `compliance`)."""

    learning: LearningRule = field(default_factory=LearningRule)
    sent: dict[int, SentProfile] = field(default_factory=dict)
    allocation: dict[int, SentProfile] = field(default_factory=dict)
    charge_point_of: dict[int, str] = field(default_factory=dict)
    non_compliant: set[int] = field(default_factory=set)
    ev: dict[int, EvTrace] = field(default_factory=dict)  # transaction → what its EV has shown
    in_force: dict[int, tuple[datetime, SentProfile]] = field(default_factory=dict)  # since when, limits
    # the limits in force before those: a sample taken before a new profile was accepted but received after
    # is measured against what was in force when it was taken (on a busy site profiles change every minute)
    replaced: dict[int, tuple[datetime, SentProfile]] = field(default_factory=dict)
    default_kw: dict[str, float] = field(default_factory=dict)  # charge point → its TxDefaultProfile limit
    over_draw: OverDrawRule = field(default_factory=OverDrawRule)
    draw: dict[int, DrawTrace] = field(default_factory=dict)  # transaction → its draw against its limits
    compliance: list[ComplianceChange] = field(default_factory=list)  # to record, oldest first

    def observations(self, now: datetime) -> Observations:
        """What the next plan must take as given (expired observations are dropped)."""
        ceilings = {tx: trace.ceiling_at(now) for tx, trace in self.ev.items()}
        over = {tx: trace.draw_kw for tx, trace in self.draw.items() if trace.since is not None}
        return Observations(
            non_compliant=frozenset(self.non_compliant | over.keys()),
            draw_kw=over,
            max_kw={tx: kw for tx, kw in ceilings.items() if kw is not None},
            phases={tx: trace.phases for tx, trace in self.ev.items() if trace.phases is not None},
            installed={tx: limits for tx, (_, limits) in self.in_force.items()},
            default_kw=dict(self.default_kw),
            charge={
                tx: (trace.soc_last[0], trace.battery_kwh)
                for tx, trace in self.ev.items()
                if trace.soc_last is not None and trace.battery_kwh is not None
            },
        )

    def non_compliant_charge_points(self) -> set[str]:
        """Charge points with a transaction that refused its profile or is drawing over its limits."""
        over = {tx for tx, trace in self.draw.items() if trace.since is not None}
        return {self.charge_point_of[tx] for tx in self.non_compliant | over if tx in self.charge_point_of}

    def default_dispatched(self, charge_point_id: str, limit_kw: float, result: DispatchResult) -> None:
        """Note the TxDefaultProfile a charge point holds (unknown unless it accepted)."""
        if result.status == "accepted":
            self.default_kw[charge_point_id] = limit_kw
        else:
            self.default_kw.pop(charge_point_id, None)

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
                        charge_point_id=ps.charge_point_id,
                        connector_id=ps.connector_id,
                        transaction_id=tx,
                        start=allocation.start,
                        interval_min=allocation.interval_min,
                        power_kw=power,
                        phases=ps.phases,
                        voltage_v=ps.voltage_v,
                        min_current_a=ps.min_current_a,
                        raise_to_min=ps.raise_to_min,
                    )
                )
        return out

    def dispatched(self, schedule: TxSchedule, result: DispatchResult, at: datetime) -> bool:
        """Note what the charge point now has (nothing known unless it accepted), and from `at` on the
        limits in force, which what its EV draws is measured against. True when a meter reading now would
        tell something: the EV is new to us, or its limit rose (will it take more?)."""
        tx = schedule.transaction_id
        if result.status != "accepted":
            self.sent.pop(tx, None)
            self._forget_limits(tx)
            return False
        self.sent[tx] = SentProfile(schedule.start, schedule.interval_min, schedule.power_kw)
        limits = SentProfile(schedule.start, schedule.interval_min, result.limits_kw or schedule.power_kw)
        before = self.in_force.get(tx)
        if before is not None:
            self.replaced[tx] = before
        self.in_force[tx] = (at, limits)
        now_kw = limits.at(at) or 0.0
        if now_kw <= 0:
            return False
        if tx not in self.ev or before is None:
            return True
        return now_kw > (before[1].at(at) or 0.0) + 1e-6

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

    def observe(self, transaction_id: int, samples: Iterable[MeterSample]) -> bool:
        """Learn from an EV's meter samples and judge its draw against its limits (a change of compliance
        is queued in `compliance`); True when what planning assumes of it has changed."""
        in_force = self.in_force.get(transaction_id)
        if in_force is None:
            return False
        trace = self.ev.setdefault(transaction_id, EvTrace())
        draw = self.draw.setdefault(transaction_id, DrawTrace())
        settle = self.over_draw.settle
        changed = False
        for sample in sorted(samples, key=lambda s: s.timestamp):
            since, limits = in_force
            replaced = self.replaced.get(transaction_id)
            if sample.timestamp < since and replaced is not None and sample.timestamp >= replaced[0]:
                since, limits = replaced  # taken under the limits before the latest
            limit_kw = limits.at(sample.timestamp) if sample.timestamp >= since else None
            if limit_kw is None:  # measured before any limits we know to have been in force: says nothing
                continue
            changed |= learn(trace, self.learning, limit_kw, sample)
            if sample.timestamp < since + settle:
                continue  # the EV may still be ramping down to a limit just lowered
            before_kw = limits.at(sample.timestamp - settle)  # a step down within `settle`: the higher
            held_kw = max(limit_kw, before_kw if before_kw is not None else limit_kw)
            news, change = check_draw(draw, self.over_draw, transaction_id, held_kw, sample)
            changed |= news
            if change is not None:
                self.compliance.append(change)
        return changed

    def _forget_limits(self, transaction_id: int) -> None:
        """What limits the charge point holds for the transaction is no longer known."""
        self.in_force.pop(transaction_id, None)
        self.replaced.pop(transaction_id, None)

    def take_compliance(self) -> list[ComplianceChange]:
        """The compliance changes found since the last call, for the scheduler to record."""
        changes, self.compliance = self.compliance, []
        return changes

    def transaction_ended(self, transaction_id: int) -> None:
        known_of: tuple[dict[int, Any], ...] = (
            self.sent, self.allocation, self.ev, self.charge_point_of, self.in_force, self.replaced, self.draw
        )  # fmt: skip
        for known in known_of:
            known.pop(transaction_id, None)
        self.non_compliant.discard(transaction_id)

    def charge_point_reset(self, charge_point_id: str, at: datetime | None = None) -> None:
        """After a reconnect or reboot the charge point may have lost its profiles: send them again (and
        judge its draw afresh under them: one over-drawing is compliant again `at` until shown otherwise)."""
        transactions = {tx for tx, cp in self.charge_point_of.items() if cp == charge_point_id}
        for tx in transactions:
            self.sent.pop(tx, None)
            self._forget_limits(tx)
            draw = self.draw.pop(tx, None)
            if draw is not None and draw.since is not None:
                self.compliance.append(
                    ComplianceChange(tx, False, "charge point reset", 0.0, 0.0, at or draw.since)
                )
        self.non_compliant -= transactions


def default_limit_kw(site: Site, connectors: int, share: float, min_kw: float = 0.0) -> float:
    """The limit of each connector's default profile: the site's safe capacity (its fallback limit, within
    the grid connection, less the safety margin) times `share`, divided among `connectors`; 0 when that is
    below the minimum (an EV would not charge at it: better to wait for its TxProfile than to pretend)."""
    safe_kw = max(0.0, min(site.fallback_limit_kw, site.grid_connection_limit_kw) - site.safety_margin_kw)
    limit_kw = safe_kw * share / max(1, connectors)
    return limit_kw if limit_kw >= min_kw else 0.0
