"""The planning grid and what limits a site on it: forecasts resampled onto the site's intervals, group
capacities from their constant or daily profile. Pure functions of plain data.

Intervals are `site.interval_minutes` long and aligned to the UTC epoch. Resampling is conservative: a
site interval gets the minimum `limit_kw` of every posted row that overlaps it, never an average. The
capacity the scheduler may plan is `max(0, min(limit, grid_connection_limit_kw) − safety_margin_kw)`.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from app.domain.grid import ceil_to_interval, floor_to_interval, interval_starts
from app.domain.planning import Site, SiteGroup

__all__ = [
    "EffectiveInterval",
    "capacity_kw",
    "ceil_to_interval",
    "effective_intervals",
    "floor_to_interval",
    "group_capacity",
    "interval_starts",
    "profile_capacity",
    "resample",
]


def resample(rows: pd.DataFrame, start: datetime, n_intervals: int, interval_minutes: int) -> pd.DataFrame:
    """Rows (`start`, `end`, `limit_kw`, and optionally `forecast`) onto the site grid, conservatively.

    Returns one row per (forecast, interval) that a posted row overlaps: `slot` (interval index from
    `start`), `limit_kw` (the minimum of the overlapping rows) and `covered_s` (seconds of it covered).
    """
    columns = ["forecast", "slot", "limit_kw", "covered_s"]
    if rows.empty or n_intervals <= 0:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    step = interval_minutes * 60.0
    origin = pd.Timestamp(start)
    rel_start = ((pd.to_datetime(rows["start"], utc=True) - origin).dt.total_seconds()).to_numpy()
    rel_end = ((pd.to_datetime(rows["end"], utc=True) - origin).dt.total_seconds()).to_numpy()
    first = np.clip(np.floor(rel_start / step), 0, None).astype(np.int64)
    last = np.clip(np.ceil(rel_end / step) - 1, None, n_intervals - 1).astype(np.int64)
    counts = np.clip(last - first + 1, 0, None)
    owner = np.repeat(np.arange(len(rows)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    slot = first[owner] + offsets
    covered = np.minimum(rel_end[owner], (slot + 1) * step) - np.maximum(rel_start[owner], slot * step)
    forecast = rows["forecast"].to_numpy()[owner] if "forecast" in rows else np.zeros(len(owner), np.int64)
    exploded = pd.DataFrame(
        {
            "forecast": forecast,
            "slot": slot,
            "limit_kw": rows["limit_kw"].to_numpy()[owner],
            "covered_s": covered,
        }
    )
    exploded = exploded[exploded["covered_s"] > 0]
    grouped = exploded.groupby(["forecast", "slot"], as_index=False).agg(
        limit_kw=("limit_kw", "min"), covered_s=("covered_s", "sum")
    )
    return grouped[columns]


@dataclass(frozen=True)
class EffectiveInterval:
    """What applies to one site interval: `limit_kw` is the forecast (or fallback) limit, conservatively
    resampled; `capacity_kw` what the scheduler may plan (grid-capped, less the safety margin)."""

    start: datetime
    end: datetime
    limit_kw: float
    capacity_kw: float
    source: str  # "forecast" | "fallback"
    forecast_pk: int | None
    forecast_id: str | None
    issued_at: datetime | None
    lowered_by: tuple[int, ...]  # more recent forecasts that cover the interval only in part


def capacity_kw(site: Site, limit_kw: float) -> float:
    return max(0.0, min(limit_kw, site.grid_connection_limit_kw) - site.safety_margin_kw)


def effective_intervals(
    site: Site,
    forecasts: Mapping[int, tuple[datetime, str | None]],
    rows: Sequence[tuple[int, datetime, datetime, float]],
    start: datetime,
    n_intervals: int,
) -> list[EffectiveInterval]:
    """Per site interval from `start`: the limit that applies and why, from the forecasts that cover the
    window (`forecasts`: id → (issued_at, forecast_id)) and their rows (`rows`: (forecast id, start, end,
    limit_kw)). Per interval the most recently issued forecast covering all of it applies, lowered by more
    recent ones that cover only part of it; else the site's fallback limit."""
    step = timedelta(minutes=site.interval_minutes)
    meta = forecasts
    frame = pd.DataFrame(
        {
            "forecast": [r[0] for r in rows],
            "start": [r[1] for r in rows],
            "end": [r[2] for r in rows],
            "limit_kw": [r[3] for r in rows],
        }
    )
    slots = resample(frame, start, n_intervals, site.interval_minutes)
    # newest first: issued_at, then the later post
    rank = {pk: i for i, pk in enumerate(sorted(meta, key=lambda pk: (meta[pk][0], pk), reverse=True))}
    candidates: dict[int, list[tuple[int, int, float, bool]]] = {}
    full_s = step.total_seconds() - 1e-6
    for pk, slot, limit, covered in slots.itertuples(index=False):
        candidates.setdefault(int(slot), []).append((rank[int(pk)], int(pk), float(limit), covered >= full_s))
    out = []
    for k, t in enumerate(interval_starts(start, n_intervals, site.interval_minutes)):
        lowered: list[int] = []
        partial_kw = math.inf
        chosen: tuple[int, float] | None = None
        for _, pk, limit, full in sorted(candidates.get(k, [])):
            if full:
                chosen = (pk, limit)
                break
            lowered.append(pk)
            partial_kw = min(partial_kw, limit)
        if chosen is not None:
            pk, limit = chosen
            issued, ref = meta[pk]
            limit = min(limit, partial_kw)
            out.append(
                EffectiveInterval(
                    t, t + step, limit, capacity_kw(site, limit), "forecast", pk, ref, issued, tuple(lowered)
                )
            )
        else:
            limit = min(site.fallback_limit_kw, partial_kw)
            out.append(
                EffectiveInterval(
                    t, t + step, limit, capacity_kw(site, limit), "fallback", None, None, None, tuple(lowered)
                )
            )
    return out


def _profile_value(steps: list[tuple[time, float]], local: datetime) -> float:
    at = local.time().replace(tzinfo=None)
    value = steps[-1][1]  # cyclic: before the first step, the previous day's last step holds
    for start, kw in steps:
        if start <= at:
            value = kw
    return value


def profile_capacity(
    profile: list[dict[str, Any]], timezone: str, start: datetime, n_intervals: int, interval_minutes: int
) -> list[float]:
    """A daily local-time step profile on the UTC grid: the minimum over each interval, never more."""
    zone = ZoneInfo(timezone)
    steps = [(time.fromisoformat(s["start"]), float(s["capacity_kw"])) for s in profile]
    step = timedelta(minutes=interval_minutes)
    out = []
    for t in interval_starts(start, n_intervals, interval_minutes):
        local_start, local_end = t.astimezone(zone), (t + step).astimezone(zone)
        value = _profile_value(steps, local_start)
        day = local_start.date()
        for offset in range(interval_minutes // 1440 + 2):
            for s, kw in steps:
                boundary = datetime.combine(day + timedelta(days=offset), s, tzinfo=zone)
                if local_start < boundary < local_end:
                    value = min(value, kw)
        out.append(value)
    return out


def group_capacity(site: Site, group: SiteGroup, start: datetime, n_intervals: int) -> list[float] | None:
    """The group's capacity per interval from `start` (kW); None for a group without a limit."""
    if group.capacity_profile is not None:
        return profile_capacity(
            group.capacity_profile, site.timezone, start, n_intervals, site.interval_minutes
        )
    if group.capacity_kw is not None:
        return [group.capacity_kw] * n_intervals
    return None
