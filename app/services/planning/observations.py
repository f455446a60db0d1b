"""What the scheduler knows that the database does not say, as planning takes it (pure).

What a charge point was told and accepted (`SentProfile`), what its EV has shown (`learning`), and which
transactions did not accept their profile. An offline charge point keeps to the limits it holds, so its
session is planned at them (`held_kw`), as fixed power (`fixed_runs`).
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import optimizer

__all__ = ["Observations", "SentProfile", "fixed_runs", "held_kw"]


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


@dataclass(frozen=True)
class Observations:
    """What the scheduler has learnt that the database does not say: transactions whose charge point did
    not accept their profile or that draw over it (and what they draw), the power an EV was seen to draw
    well below its allocation, and the limits each charge point holds (what an offline one keeps to)."""

    non_compliant: frozenset[int] = frozenset()
    max_kw: Mapping[int, float] = field(default_factory=dict)  # the EV's ceiling; 0: idle
    phases: Mapping[int, int] = field(default_factory=dict)  # phases the EV uses
    installed: Mapping[int, SentProfile] = field(default_factory=dict)  # the TxProfile it accepted
    default_kw: Mapping[str, float] = field(default_factory=dict)  # per connector, the TxDefaultProfile
    draw_kw: Mapping[int, float] = field(default_factory=dict)  # non-compliant, drawing over its limit
    # (SoC as a fraction, battery kWh) where the EV reports its SoC and its battery has been worked out
    charge: Mapping[int, tuple[float, float]] = field(default_factory=dict)


def held_kw(
    start: datetime, step: timedelta, horizon: int, installed: SentProfile | None, default_kw: float | None
) -> list[float]:
    """Per interval from `start`, the most an offline charge point's limits allow: the TxProfile it accepted
    while it is valid, then its TxDefaultProfile; unbounded where neither is known."""
    held = []
    for t in range(horizon):
        begin = start + t * step
        ends = (begin, begin + step - timedelta(seconds=1))  # a profile on another grid may change within
        limits = [installed.at(moment) if installed is not None else None for moment in ends]
        fallback = math.inf if default_kw is None else default_kw
        held.append(max(fallback if kw is None else kw for kw in limits))
    return held


def fixed_runs(
    key: str, start: datetime, step: timedelta, power_kw: Sequence[float]
) -> list[optimizer.Override]:
    """Session `key` fixed at `power_kw` per interval from `start`: one override per run of equal power."""
    runs = optimizer.compress_periods(power_kw, max(1, len(power_kw)))  # equal neighbours merged, no more
    ends = [first for first, _ in runs[1:]] + [len(power_kw)]
    return [
        optimizer.Override(
            key,
            optimizer.OverrideKind.FIXED,
            limit_kw,
            valid_from=start + first * step,
            valid_until=start + last * step,
        )
        for (first, limit_kw), last in zip(runs, ends, strict=True)
    ]
