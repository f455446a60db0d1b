"""Grid-operator capacity forecasts: stored as posted (idempotently), read back, and resolved per site
interval into the limit that applies.

A forecast *covers* a site interval when its rows span all of it. Per interval the effective limit is that
of the most recently issued forecast covering it (else the site's fallback limit), lowered by any more
recently issued forecast that covers only part of it; rows are resampled conservatively (see `capacity`).
"""

from datetime import datetime, timedelta

from app.domain.events import ForecastPosted
from app.domain.paging import Found, Window
from app.domain.persistence import UnitOfWork
from app.domain.planning import Forecast, ForecastInterval
from app.services.errors import Conflict, Invalid, NotFound
from app.services.planning.capacity import EffectiveInterval, effective_intervals, floor_to_interval
from app.services.planning.forecast_parsing import ForecastSubmission, body_digest, refuse_if_past, validate
from app.services.planning.sites import get_site

__all__ = [
    "effective_capacity",
    "effective_forecast",
    "forecast_rows",
    "get_forecast",
    "list_forecasts",
    "post_forecast",
]


async def _find(
    uow: UnitOfWork, site_id: int, forecast_id: str | None, issued_at: datetime | None
) -> Forecast | None:
    """The stored forecast under the key of a post: its `forecast_id`, else its `issued_at`."""
    if forecast_id is not None:
        return await uow.forecasts.named(site_id, forecast_id)
    if issued_at is not None:
        return await uow.forecasts.issued(site_id, issued_at)
    return None


def _replay_of(existing: Forecast, submission: ForecastSubmission, digest: str) -> Forecast:
    same = existing.body_sha256 == digest and (
        submission.issued_at is None or existing.issued_at == submission.issued_at
    )
    if not same:
        key = (
            f"forecast_id {existing.forecast_id!r}"
            if submission.forecast_id is not None
            else f"issued_at {existing.issued_at.isoformat()}"
        )
        raise Conflict(f"forecast {existing.id} already holds {key} with different content")
    return existing


async def post_forecast(
    uow: UnitOfWork,
    site_id: int,
    submission: ForecastSubmission,
    *,
    now: datetime,
    max_horizon_days: int,
    author: str | None = None,
    author_key_id: int | None = None,
) -> tuple[Forecast, bool]:
    """Store a forecast; returns it and whether it is new (False: an identical replay of a stored one)."""
    await get_site(uow, site_id)
    validate(submission, now=now, max_horizon_days=max_horizon_days)
    digest = body_digest(submission.rows)
    existing = await _find(uow, site_id, submission.forecast_id, submission.issued_at)
    if existing is not None:
        return _replay_of(existing, submission, digest), False
    refuse_if_past(submission, now=now)  # after the replay: a stored forecast's replay still answers 200
    issued_at = submission.issued_at or now
    if submission.forecast_id is not None and submission.issued_at is not None:
        clash = await uow.forecasts.issued(site_id, issued_at)
        if clash is not None:
            raise Conflict(f"forecast {clash.id} was already issued at {issued_at.isoformat()}")
    forecast = Forecast(
        site_id=site_id,
        forecast_id=submission.forecast_id,
        issued_at=issued_at,
        source=submission.source,
        author=author,
        author_key_id=author_key_id,
        body_sha256=digest,
        starts_at=min(r.start for r in submission.rows),
        ends_at=max(r.end for r in submission.rows),
        interval_count=len(submission.rows),
        created_at=now,
    )
    if not await uow.forecasts.add(forecast):
        # A concurrent post of the same forecast won the race: answer as a replay.
        existing = await _find(uow, site_id, submission.forecast_id, issued_at)
        if existing is None:
            raise Conflict(f"another forecast of site {site_id} took its key at the same time; post it again")
        return _replay_of(existing, submission, digest), False
    assert forecast.id is not None
    await uow.forecasts.add_rows(forecast, submission.rows)
    uow.record(ForecastPosted(site_id, forecast.id, forecast.starts_at, forecast.ends_at))
    return forecast, True


async def get_forecast(uow: UnitOfWork, site_id: int, forecast_pk: int) -> Forecast:
    forecast = await uow.forecasts.get(forecast_pk)
    if forecast is None or forecast.site_id != site_id:
        raise NotFound(f"forecast {forecast_pk} not found in site {site_id}")
    return forecast


async def list_forecasts(
    uow: UnitOfWork,
    site_id: int,
    window: Window,
    *,
    forecast_id: str | None = None,
    issued_from: datetime | None = None,
    issued_to: datetime | None = None,
) -> Found[Forecast]:
    """The site's forecasts, most recently issued first."""
    await get_site(uow, site_id)
    return await uow.forecasts.list(
        site_id, window, forecast_id=forecast_id, issued_from=issued_from, issued_to=issued_to
    )


async def forecast_rows(uow: UnitOfWork, forecast_pk: int) -> list[ForecastInterval]:
    """Its rows as posted, in order."""
    return await uow.forecasts.rows(forecast_pk)


async def effective_forecast(
    uow: UnitOfWork, site_id: int, start: datetime, n_intervals: int, *, as_of: datetime | None = None
) -> list[EffectiveInterval]:
    """Per site interval from `start` (aligned to the site interval): the limit that applies and why.

    With `as_of`, only forecasts received by then count: what the scheduler knew at that time.
    """
    site = await get_site(uow, site_id)
    if floor_to_interval(start, site.interval_minutes) != start:
        raise Invalid(f"start: {start.isoformat()} is not on a {site.interval_minutes}-minute boundary")
    end = start + n_intervals * timedelta(minutes=site.interval_minutes)
    covering = await uow.forecasts.covering(site_id, start, end, as_of=as_of)
    meta = {f.id or 0: (f.issued_at, f.forecast_id) for f in covering}
    rows = await uow.forecasts.limits(list(meta), start, end)
    return effective_intervals(site, meta, rows, start, n_intervals)


async def effective_capacity(uow: UnitOfWork, site_id: int, start: datetime, n_intervals: int) -> list[float]:
    """kW the site may draw per interval from `start`: forecast (else fallback), capped by the grid
    connection limit, less the safety margin, never below 0."""
    return [i.capacity_kw for i in await effective_forecast(uow, site_id, start, n_intervals)]
