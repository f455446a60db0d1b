"""The intervals of a plan, and which overrides are in force in them (pure)."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from app.domain.planning import Override
from app.domain.snapshot import SiteSnapshot

__all__ = ["Window", "from_now", "next_override_change"]


class Window:
    """The plan's intervals, and which of them an override is in force in."""

    def __init__(self, start: datetime, horizon: int, interval_min: int) -> None:
        self.start, self.horizon, self.interval_min = start, horizon, interval_min
        self.step = timedelta(minutes=interval_min)
        self.step_h = interval_min / 60
        self.end = start + horizon * self.step

    def mask(self, override: Override) -> list[bool]:
        until = override.valid_until
        return [
            override.valid_from < self.start + (t + 1) * self.step
            and (until is None or until > self.start + t * self.step)
            for t in range(self.horizon)
        ]


def from_now(overrides: Sequence[Override], now: datetime, window: Window) -> list[Override]:
    """The overrides as the plan made at `now` applies them. The current interval is only what is left of
    it, so an override counts there only if it is in force at `now`: one that has run out is dropped (a
    2-minute pause is lifted at its end, not at the next boundary); one that starts later in the interval
    starts with the next one (until the scheduler replans at its `valid_from`)."""
    next_start = window.start + window.step
    out = []
    for row in overrides:
        if row.valid_until is not None and row.valid_until <= now:
            continue
        if now < row.valid_from < next_start:
            if row.valid_until is not None and row.valid_until <= next_start:
                continue  # begins and ends within what is left of this interval: planned when it begins
            row = replace(row, valid_from=next_start)
        out.append(row)
    return out


def next_override_change(snapshot: SiteSnapshot, now: datetime) -> datetime | None:
    """The first instant after `now` within the snapshot's window at which an override takes or loses
    effect: the plan is only right until then (`from_now`)."""
    instants = (t for row in snapshot.overrides for t in (row.valid_from, row.valid_until))
    return min((t for t in instants if t is not None and now < t < snapshot.end), default=None)
