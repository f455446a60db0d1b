"""The planning grid: intervals of a site's `interval_minutes`, aligned to the UTC epoch."""

import math
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def floor_to_interval(at: datetime, interval_minutes: int) -> datetime:
    step = interval_minutes * 60
    seconds = math.floor((at - _EPOCH).total_seconds() / step) * step
    return _EPOCH + timedelta(seconds=seconds)


def ceil_to_interval(at: datetime, interval_minutes: int) -> datetime:
    floor = floor_to_interval(at, interval_minutes)
    return floor if floor == at else floor + timedelta(minutes=interval_minutes)


def interval_starts(start: datetime, n_intervals: int, interval_minutes: int) -> list[datetime]:
    step = timedelta(minutes=interval_minutes)
    return [start + k * step for k in range(n_intervals)]
