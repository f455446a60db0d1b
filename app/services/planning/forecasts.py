"""Grid-operator capacity forecasts: parse (JSON or CSV), validate, store as posted, resample, read back.

Resampling is conservative: a site interval gets the minimum `limit_kw` of every posted row that overlaps
it, never an average. A forecast *covers* a site interval when its rows span all of it. Per interval the
effective limit is that of the most recently issued forecast covering it (else the site's fallback limit),
lowered by any more recently issued forecast that covers only part of it. The scheduler's capacity is
`max(0, min(limit, grid_connection_limit_kw) − safety_margin_kw)`.
"""

import hashlib
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, insert, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.store import session_of
from app.db.tables.planning import forecast_interval_table, forecast_table
from app.domain.events import ForecastPosted
from app.domain.persistence import UnitOfWork
from app.domain.planning import Forecast, ForecastInterval
from app.services.errors import error_loc
from app.services.planning.capacity import EffectiveInterval, effective_intervals, floor_to_interval
from app.services.planning.sites import Conflict, Invalid, NotFound, get_site

__all__ = [
    "MAX_ROWS",
    "ForecastPosted",
    "ForecastSubmission",
    "IntervalRow",
    "effective_capacity",
    "effective_forecast",
    "get_forecast",
    "list_forecasts",
    "parse_csv",
    "parse_json",
    "post_forecast",
    "forecast_rows",
]

MAX_ROWS = 100_000
MAX_ERRORS = 50
CSV_COLUMNS = ("start", "end", "limit_kw")


@dataclass(frozen=True)
class IntervalRow:
    start: datetime
    end: datetime
    limit_kw: float


@dataclass(frozen=True)
class ForecastSubmission:
    rows: list[IntervalRow]
    labels: list[str]  # how each row is named in errors: "intervals[3]" or "row 5"
    source: str  # "json" | "csv"
    forecast_id: str | None = None
    issued_at: datetime | None = None


class _Errors:
    """Validation errors: `path` names the row and field as a person reads it, `loc` as the API's other
    validation errors do."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, path: str, msg: str, **extra: Any) -> None:
        if len(self.items) < MAX_ERRORS:
            self.items.append(
                {"loc": error_loc(path), "path": path, "msg": msg, "type": "value_error", **extra}
            )

    def raise_if_any(self) -> None:
        if self.items:
            shown = "; ".join(f"{e['path']}: {e['msg']}" for e in self.items[:5])
            more = len(self.items) - 5
            raise Invalid(shown + (f" (and {more} more)" if more > 0 else ""), self.items)


# --- parsing -------------------------------------------------------------------------------------------


def _parse_time(value: Any, loc: str, errors: _Errors) -> datetime | None:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            errors.add(loc, f"not an ISO 8601 date-time: {value!r}")
            return None
    elif value is None or value == "":
        errors.add(loc, "required (an ISO 8601 date-time with an offset)")
        return None
    else:
        errors.add(loc, f"must be an ISO 8601 date-time string, not {type(value).__name__}")
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        errors.add(loc, "must be timezone-aware (end with Z or an offset such as +01:00)")
        return None
    return parsed


def _parse_limit(value: Any, loc: str, errors: _Errors) -> float | None:
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        errors.add(loc, "required (a number of kW)")
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            errors.add(loc, f"not a number: {value!r}")
            return None
    if not isinstance(value, int | float):
        errors.add(loc, "must be a number of kW")
        return None
    limit = float(value)
    if not math.isfinite(limit):
        errors.add(loc, "must be finite")
        return None
    if limit < 0:
        errors.add(loc, "must not be negative")
        return None
    return limit


def _parse_rows(
    records: Sequence[Mapping[str, Any]], labels: list[str], errors: _Errors
) -> list[IntervalRow | None]:
    rows: list[IntervalRow | None] = []
    for record, label in zip(records, labels, strict=True):
        start = _parse_time(record.get("start"), f"{label}.start", errors)
        end = _parse_time(record.get("end"), f"{label}.end", errors)
        limit = _parse_limit(record.get("limit_kw"), f"{label}.limit_kw", errors)
        if start is not None and end is not None and end <= start:
            errors.add(f"{label}.end", "must be after start")
            end = None
        rows.append(IntervalRow(start, end, limit) if None not in (start, end, limit) else None)  # type: ignore[arg-type]
    return rows


def _row_number(label: str) -> dict[str, Any]:
    return {"row": int(label.split()[-1])} if label.startswith("row ") else {}


def parse_json(
    body: Any, *, forecast_id: str | None = None, issued_at: str | None = None
) -> ForecastSubmission:
    """`{forecast_id?, issued_at?, intervals: [...]}` or a bare list of `{start, end, limit_kw}`."""
    errors = _Errors()
    if isinstance(body, list):
        records: Any = body
    elif isinstance(body, dict):
        unknown = sorted(set(body) - {"forecast_id", "issued_at", "intervals"})
        if unknown:
            errors.add(unknown[0], "unknown field (expected forecast_id, issued_at, intervals)")
        records = body.get("intervals")
        forecast_id = body.get("forecast_id", forecast_id)
        issued_at = body.get("issued_at", issued_at)
        if records is None:
            errors.add("intervals", "required (a list of {start, end, limit_kw})")
    else:
        errors.add("body", "must be a JSON object with intervals, or a JSON list of intervals")
        records = None
    if records is not None and not isinstance(records, list):
        errors.add("intervals", "must be a list")
        records = None
    if records is not None and not all(isinstance(r, dict) for r in records):
        bad = next(i for i, r in enumerate(records) if not isinstance(r, dict))
        errors.add(f"intervals[{bad}]", "must be an object {start, end, limit_kw}")
        records = None
    errors.raise_if_any()
    return _submission(
        records or [],
        [f"intervals[{i}]" for i in range(len(records or []))],
        "json",
        forecast_id,
        issued_at,
        errors,
    )


def parse_csv(
    data: bytes, *, forecast_id: str | None = None, issued_at: str | None = None
) -> ForecastSubmission:
    """CSV with a header and columns `start,end,limit_kw` (others ignored). Row N is the Nth data row."""
    errors = _Errors()
    try:
        frame = pd.read_csv(
            io.BytesIO(data), dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig"
        )
    except pd.errors.EmptyDataError as exc:
        raise Invalid("body: empty CSV (expected a header start,end,limit_kw and rows)") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise Invalid(f"body: not readable as CSV: {exc}".strip()) from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in CSV_COLUMNS if c not in frame.columns]
    if missing:
        raise Invalid(f"header: missing column(s) {', '.join(missing)} (expected start,end,limit_kw)")
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in frame[list(CSV_COLUMNS)].to_dict("records")
    ]
    return _submission(
        records, [f"row {i + 1}" for i in range(len(records))], "csv", forecast_id, issued_at, errors
    )


def _submission(
    records: Sequence[Mapping[str, Any]],
    labels: list[str],
    source: str,
    forecast_id: Any,
    issued_at: Any,
    errors: _Errors,
) -> ForecastSubmission:
    if forecast_id is not None and (not isinstance(forecast_id, str) or not 0 < len(forecast_id) <= 100):
        errors.add("forecast_id", "must be a string of 1 to 100 characters")
        forecast_id = None
    issued = _parse_time(issued_at, "issued_at", errors) if issued_at is not None else None
    if not records:
        errors.add("intervals", "at least one interval is required")
    if len(records) > MAX_ROWS:
        errors.add("intervals", f"at most {MAX_ROWS} intervals")
        records = []
    parsed = _parse_rows(records, labels, errors)
    errors.raise_if_any()
    return ForecastSubmission([r for r in parsed if r is not None], labels, source, forecast_id, issued)


def validate(submission: ForecastSubmission, *, now: datetime, max_horizon_days: int) -> None:
    """Ordered, non-overlapping, within the horizon; raises `Invalid` naming each offending row."""
    errors = _Errors()
    horizon = now + timedelta(days=max_horizon_days)
    previous: tuple[IntervalRow, str] | None = None
    beyond = 0
    for row, label in zip(submission.rows, submission.labels, strict=True):
        extra = _row_number(label)
        if previous is not None:
            before, before_label = previous
            if row.start < before.start:
                errors.add(f"{label}.start", f"not in order: starts before {before_label}", **extra)
            elif row.start < before.end:
                errors.add(
                    f"{label}.start",
                    f"overlaps {before_label}, which ends at {before.end.isoformat()}",
                    **extra,
                )
        if row.end > horizon and beyond == 0:
            later = sum(1 for r in submission.rows if r.end > horizon) - 1
            errors.add(
                f"{label}.end",
                f"beyond the horizon of {max_horizon_days} days (ends after {horizon.isoformat()})"
                + (f", and so do {later} later rows" if later else ""),
                **extra,
            )
        beyond += row.end > horizon
        previous = (row, label)
    errors.raise_if_any()


def body_digest(rows: Sequence[IntervalRow]) -> str:
    canonical = [[r.start.timestamp(), r.end.timestamp(), r.limit_kw] for r in rows]
    return hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()


# --- storing and reading -------------------------------------------------------------------------------


async def _find(
    session: AsyncSession, site_id: int, forecast_id: str | None, issued_at: datetime | None
) -> Forecast | None:
    query = select(Forecast).where(forecast_table.c.site_id == site_id)
    if forecast_id is not None:
        query = query.where(forecast_table.c.forecast_id == forecast_id)
    elif issued_at is not None:
        query = query.where(forecast_table.c.issued_at == issued_at)
    else:
        return None
    return (await session.exec(query)).first()


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
    session = session_of(uow)
    await get_site(session, site_id)
    validate(submission, now=now, max_horizon_days=max_horizon_days)
    digest = body_digest(submission.rows)
    existing = await _find(session, site_id, submission.forecast_id, submission.issued_at)
    if existing is not None:
        return _replay_of(existing, submission, digest), False
    issued_at = submission.issued_at or now
    if submission.forecast_id is not None and submission.issued_at is not None:
        clash = await _find(session, site_id, None, issued_at)
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
    try:
        async with session.begin_nested():
            session.add(forecast)
            await session.flush()
    except IntegrityError:
        # A concurrent post of the same forecast won the race: answer as a replay.
        existing = await _find(session, site_id, submission.forecast_id, issued_at)
        if existing is None:
            raise
        return _replay_of(existing, submission, digest), False
    assert forecast.id is not None
    await session.exec(
        insert(ForecastInterval),
        params=[
            {
                "forecast_pk": forecast.id,
                "site_id": site_id,
                "row": i,
                "start": r.start,
                "end": r.end,
                "limit_kw": r.limit_kw,
            }
            for i, r in enumerate(submission.rows)
        ],
    )
    uow.record(ForecastPosted(site_id, forecast.id, forecast.starts_at, forecast.ends_at))
    return forecast, True


async def get_forecast(session: AsyncSession, site_id: int, forecast_pk: int) -> Forecast:
    forecast = await session.get(Forecast, forecast_pk)
    if forecast is None or forecast.site_id != site_id:
        raise NotFound(f"forecast {forecast_pk} not found in site {site_id}")
    return forecast


async def list_forecasts(
    session: AsyncSession,
    site_id: int,
    *,
    forecast_id: str | None = None,
    issued_from: datetime | None = None,
    issued_to: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Forecast], int]:
    """The site's forecasts, most recently issued first, and how many match in all."""
    conditions: list[Any] = [forecast_table.c.site_id == site_id]
    if forecast_id is not None:
        conditions.append(forecast_table.c.forecast_id == forecast_id)
    if issued_from is not None:
        conditions.append(forecast_table.c.issued_at >= issued_from)
    if issued_to is not None:
        conditions.append(forecast_table.c.issued_at < issued_to)
    total = (await session.exec(select(func.count()).select_from(Forecast).where(*conditions))).one()
    query = (
        select(Forecast)
        .where(*conditions)
        .order_by(forecast_table.c.issued_at.desc(), forecast_table.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list((await session.exec(query)).all()), total


async def forecast_rows(session: AsyncSession, forecast_pk: int) -> list[ForecastInterval]:
    query = select(ForecastInterval).where(forecast_interval_table.c.forecast_pk == forecast_pk)
    return list((await session.exec(query.order_by(forecast_interval_table.c.row))).all())


async def effective_forecast(
    session: AsyncSession, site_id: int, start: datetime, n_intervals: int, *, as_of: datetime | None = None
) -> list[EffectiveInterval]:
    """Per site interval from `start` (aligned to the site interval): the limit that applies and why.

    With `as_of`, only forecasts received by then count: what the scheduler knew at that time.
    """
    site = await get_site(session, site_id)
    if floor_to_interval(start, site.interval_minutes) != start:
        raise Invalid(f"start: {start.isoformat()} is not on a {site.interval_minutes}-minute boundary")
    step = timedelta(minutes=site.interval_minutes)
    end = start + n_intervals * step
    covering = select(Forecast).where(
        forecast_table.c.site_id == site_id,
        forecast_table.c.ends_at > start,
        forecast_table.c.starts_at < end,
    )
    if as_of is not None:
        covering = covering.where(forecast_table.c.created_at <= as_of)
    meta = {f.id or 0: (f.issued_at, f.forecast_id) for f in (await session.exec(covering)).all()}
    query = select(
        forecast_interval_table.c.forecast_pk,
        forecast_interval_table.c.start,
        forecast_interval_table.c.end,
        forecast_interval_table.c.limit_kw,
    ).where(
        forecast_interval_table.c.forecast_pk.in_(list(meta)),
        forecast_interval_table.c.end > start,
        forecast_interval_table.c.start < end,
    )
    records = (await session.exec(query)).all() if meta else []
    return effective_intervals(site, meta, [tuple(r) for r in records], start, n_intervals)


async def effective_capacity(
    session: AsyncSession, site_id: int, start: datetime, n_intervals: int
) -> list[float]:
    """kW the site may draw per interval from `start`: forecast (else fallback), capped by the grid
    connection limit, less the safety margin, never below 0."""
    return [i.capacity_kw for i in await effective_forecast(session, site_id, start, n_intervals)]
