"""A site's load per interval: the forecast limit, the capacity, the plan in force and the measured power
side by side."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.clock import as_utc
from app.domain.persistence import UnitOfWork
from app.domain.planning import ScheduleRevision
from app.domain.repositories.planning import PowerSample
from app.services.planning.capacity import floor_to_interval, interval_starts
from app.services.planning.forecasts import effective_forecast
from app.services.planning.sites import get_site

__all__ = ["LoadInterval", "site_load"]


@dataclass(frozen=True)
class LoadInterval:
    start: datetime
    end: datetime
    limit_kw: float  # the forecast (or fallback) limit
    capacity_kw: float  # what the scheduler may plan: grid-capped, less the safety margin
    planned_kw: float | None  # the plan in force for the interval (the latest revision made before it ended)
    measured_kw: float | None  # mean of the reported active power of the site's transactions


async def site_load(uow: UnitOfWork, site_id: int, since: datetime, until: datetime) -> list[LoadInterval]:
    site = await get_site(uow, site_id)
    step = timedelta(minutes=site.interval_minutes)
    start = floor_to_interval(since, site.interval_minutes)
    n = max(1, int((until - start) / step + 0.999999))
    end = start + n * step
    forecast = await effective_forecast(uow, site_id, start, n)
    planned = _planned_kw(await uow.schedules.starting_before(site_id, end), start, n, site.interval_minutes)
    measured = _measured_kw(await uow.sites.power_samples(site_id, start, end), start, step)
    return [
        LoadInterval(f.start, f.end, f.limit_kw, f.capacity_kw, planned[t], measured.get(t))
        for t, f in enumerate(forecast)
    ]


def _planned_kw(
    revisions: Sequence[ScheduleRevision], start: datetime, n: int, interval_minutes: int
) -> list[float | None]:
    """Per interval: the plan of the last revision (in creation order) made before the interval ended
    that covers it."""
    step = timedelta(minutes=interval_minutes)
    planned: list[float | None] = [None] * n
    for t, at in enumerate(interval_starts(start, n, interval_minutes)):
        for revision in revisions:
            index = int((at - revision.start) / timedelta(minutes=revision.interval_minutes))
            if 0 <= index < revision.n_intervals and revision.created_at < at + step:
                planned[t] = revision.planned_kw[index]
    return planned


def _measured_kw(samples: Sequence[PowerSample], start: datetime, step: timedelta) -> dict[int, float]:
    """Per interval: the sum over transactions of each one's mean reported active power."""
    by_interval: dict[tuple[int, int | None], list[float]] = defaultdict(list)
    for sample in samples:
        index = int((as_utc(sample.at) - start) / step)
        by_interval[(index, sample.transaction_id)].append(float(sample.power_w or 0.0) / 1000)
    out: dict[int, float] = defaultdict(float)
    for (index, _), values in by_interval.items():
        out[index] += sum(values) / len(values)
    return dict(out)
