"""Forecast posts read and checked: JSON or CSV rows parsed, each error naming its row and field the way a
person reads it (`intervals[3].limit_kw`, `row 5.start`) and the way the API's validation errors do."""

import hashlib
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from app.services.errors import Invalid, error_loc

__all__ = [
    "MAX_ROWS",
    "ForecastSubmission",
    "IntervalRow",
    "body_digest",
    "parse_csv",
    "parse_json",
    "refuse_if_past",
    "validate",
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


def refuse_if_past(submission: ForecastSubmission, *, now: datetime) -> None:
    """A forecast whose every row has ended can plan nothing: refused (422) rather than stored unused."""
    last = max(range(len(submission.rows)), key=lambda i: submission.rows[i].end)
    end, label = submission.rows[last].end, submission.labels[last]
    if end <= now:
        errors = _Errors()
        errors.add(
            f"{label}.end",
            f"the whole forecast is in the past: its last row ends at {end.isoformat()}, before now "
            f"({now.isoformat()}), so no interval of it can be planned",
            **_row_number(label),
        )
        errors.raise_if_any()


def body_digest(rows: Sequence[IntervalRow]) -> str:
    canonical = [[r.start.timestamp(), r.end.timestamp(), r.limit_kw] for r in rows]
    return hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()
