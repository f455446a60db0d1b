"""What each read asks the API and how its answer is read; paging through lists; a forecast's body.
Both clients run these, one blocking and one with `await`."""

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import pandas as pd

from smartcharge_client import frames

T = TypeVar("T")
PAGE_LIMIT = 1000  # the API's largest page
When = datetime | date | str | pd.Timestamp | None


@dataclass(frozen=True)
class Query(Generic[T]):
    """GET `path` with `params`; a paged list is fetched page by page (at most `max_items`)."""

    path: str
    params: Mapping[str, Any]
    read: Callable[[Any], T]
    paged: bool = False
    max_items: int | None = None


@dataclass
class Pager(Generic[T]):
    """Offset paging with pages of 1,000: asks until `total` items (or `max_items`) are in. Items are
    kept once by id, so a list that grows while it is read repeats nothing."""

    query: Query[T]
    items: list[Any] = field(default_factory=list)
    seen: set[Any] = field(default_factory=set)
    offset: int = 0
    total: int | None = None

    def next_params(self) -> dict[str, Any] | None:
        wanted = self.query.max_items
        remaining = None if wanted is None else wanted - len(self.items)
        if (remaining is not None and remaining <= 0) or (
            self.total is not None and self.offset >= self.total
        ):
            return None
        limit = PAGE_LIMIT if remaining is None else min(PAGE_LIMIT, remaining)
        return {**self.query.params, "limit": limit, "offset": self.offset}

    def add(self, page: Mapping[str, Any]) -> None:
        found = page["items"]
        self.total = int(page["total"]) if found else self.offset
        self.offset += len(found)
        for item in found:
            key = item.get("id", id(item))
            if key not in self.seen:
                self.seen.add(key)
                self.items.append(item)

    def result(self) -> T:
        wanted = self.query.max_items
        return self.query.read(self.items if wanted is None else self.items[:wanted])


def when(value: When) -> str | None:
    """A time for a query: ISO 8601 with its offset (a time without one is taken as UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = pd.Timestamp(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp
    return stamp.isoformat()


TIMES = frozenset({"since", "until", "as_of", "issued_from", "issued_to", "issued_at"})


def params(**values: Any) -> dict[str, Any]:
    """Query parameters without the unset ones; times as ISO 8601, booleans as true/false."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif name in TIMES or isinstance(value, datetime | date):
            value = when(value)
        out[{"since": "from", "until": "to"}.get(name, name)] = value
    return out


def sites() -> Query[pd.DataFrame]:
    return Query("/sites", {}, frames.sites)


def site(site_id: int) -> Query[dict[str, Any]]:
    return Query(f"/sites/{site_id}", {}, dict)


def charge_points(site_id: int | None, connected: bool | None, max_items: int | None) -> Query[pd.DataFrame]:
    filters = params(site_id=site_id, connected=connected)
    return Query("/charge-points", filters, frames.charge_points, paged=True, max_items=max_items)


def transactions(max_items: int | None, **filters: Any) -> Query[pd.DataFrame]:
    return Query("/transactions", params(**filters), frames.transactions, paged=True, max_items=max_items)


def meter_values(max_items: int | None, **filters: Any) -> Query[pd.DataFrame]:
    return Query("/meter-values", params(**filters), frames.meter_values, paged=True, max_items=max_items)


def forecasts(site_id: int, issued_from: When, issued_to: When) -> Query[pd.DataFrame]:
    filters = params(issued_from=issued_from, issued_to=issued_to)
    return Query(f"/sites/{site_id}/forecasts", filters, frames.forecasts, paged=True)


def forecast(site_id: int, forecast_pk: int) -> Query[frames.Forecast]:
    return Query(f"/sites/{site_id}/forecasts/{forecast_pk}", {}, frames.forecast)


def effective_forecast(site_id: int, since: When, until: When, as_of: When) -> Query[pd.DataFrame]:
    filters = params(since=since, until=until, as_of=as_of)
    return Query(f"/sites/{site_id}/forecasts/effective", filters, frames.effective)


def schedule(site_id: int, revision: int | None) -> Query[frames.Schedule]:
    return Query(f"/sites/{site_id}/schedule", params(revision=revision), frames.schedule)


def revisions(site_id: int, since: When, until: When, max_items: int | None) -> Query[pd.DataFrame]:
    filters = params(since=since, until=until)
    path = f"/sites/{site_id}/schedule/revisions"
    return Query(path, filters, frames.revisions, paged=True, max_items=max_items)


def load(site_id: int, since: When, until: When) -> Query[pd.DataFrame]:
    return Query(f"/sites/{site_id}/load", params(since=since, until=until), frames.load)


def compliance(site_id: int, since: When, until: When) -> Query[pd.DataFrame]:
    filters = params(since=since, until=until)
    return Query(f"/sites/{site_id}/compliance", filters, frames.compliance, paged=True)


def overrides(**filters: Any) -> Query[pd.DataFrame]:
    return Query("/overrides", params(**filters), frames.overrides, paged=True)


def override_audit(override_id: int) -> Query[pd.DataFrame]:
    return Query(f"/overrides/{override_id}/audit", {}, frames.audit)


ForecastData = pd.DataFrame | str | bytes | os.PathLike[str]


def forecast_body(
    data: ForecastData, forecast_id: str | None, issued_at: When
) -> tuple[str, bytes, dict[str, Any]]:
    """Content type, body and query of a forecast post. A DataFrame has `start`, `end` and `limit_kw`
    (`start` may be the index) and goes as JSON; a path to a CSV file, CSV text or bytes go as they are."""
    query = params(forecast_id=forecast_id, issued_at=issued_at)
    if isinstance(data, pd.DataFrame):
        frame = data.reset_index() if "start" not in data.columns else data
        missing = {"start", "end", "limit_kw"} - set(frame.columns)
        if missing:
            raise ValueError(
                f"a forecast frame needs columns start, end and limit_kw; missing {sorted(missing)}"
            )
        intervals = [
            {"start": when(start), "end": when(end), "limit_kw": float(limit_kw)}
            for start, end, limit_kw in zip(frame["start"], frame["end"], frame["limit_kw"], strict=True)
        ]
        return "application/json", json.dumps({"intervals": intervals}).encode(), query
    if isinstance(data, bytes):
        return "text/csv", data, query
    if isinstance(data, str) and "\n" in data:
        return "text/csv", data.encode(), query
    return "text/csv", Path(data).read_bytes(), query
