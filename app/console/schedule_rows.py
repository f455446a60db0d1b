"""A ChargingSchedule (of a profile, or a composite schedule) as the rows of a table: each period's start,
as a UTC time when the schedule has one (else as seconds from its start), its end, its limit and unit."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.domain.clock import parse_instant

__all__ = ["ScheduleRow", "schedule_rows"]


@dataclass(frozen=True)
class ScheduleRow:
    offset_s: int
    start: datetime | None  # None: a relative or recurring schedule (no start of its own)
    end_offset_s: int | None  # None: until the schedule's end (no duration)
    limit: float
    unit: str
    phases: int | None

    @property
    def end(self) -> datetime | None:
        if self.start is None or self.end_offset_s is None:
            return None
        return self.start + timedelta(seconds=self.end_offset_s - self.offset_s)


def _instant(text: object) -> datetime | None:
    try:
        return parse_instant(text) if isinstance(text, str) and text else None
    except ValueError:
        return None


def schedule_rows(schedule: Mapping[str, Any], start: str | None = None) -> list[ScheduleRow]:
    """The periods of `schedule`; `start` when the schedule's start is given beside it (a composite
    schedule's `scheduleStart`)."""
    origin = _instant(schedule.get("startSchedule")) or _instant(start)
    periods = sorted(schedule.get("chargingSchedulePeriod") or [], key=lambda p: int(p.get("startPeriod", 0)))
    duration = schedule.get("duration")
    ends: list[int | None] = [int(p.get("startPeriod", 0)) for p in periods[1:]]
    ends.append(int(duration) if isinstance(duration, int) else None)
    rows = []
    for period, end in zip(periods, ends, strict=False):  # no periods: no rows
        offset = int(period.get("startPeriod", 0))
        rows.append(
            ScheduleRow(
                offset_s=offset,
                start=origin + timedelta(seconds=offset) if origin else None,
                end_offset_s=end,
                limit=float(period.get("limit", 0)),
                unit=str(schedule.get("chargingRateUnit", "")),
                phases=period.get("numberPhases"),
            )
        )
    return rows
