"""Small problem builders for the optimiser tests (times in intervals of 15 minutes from START)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from optimizer import Group, Override, OverrideKind, ScheduleProblem, Session

START = datetime(2026, 1, 5, tzinfo=UTC)
STEP = timedelta(minutes=15)


def at(t: float) -> datetime:
    return START + t * STEP


def session(sid: str, arrive: float, depart: float, energy_kwh: float, max_kw: float, **kw: Any) -> Session:
    return Session(sid, at(arrive), at(depart), energy_kwh, max_kw, **kw)


def problem(
    capacity_kw: list[float],
    sessions: list[Session],
    groups: list[Group] | None = None,
    overrides: list[Override] | None = None,
) -> ScheduleProblem:
    return ScheduleProblem(
        START, 15, tuple(capacity_kw), tuple(sessions), tuple(groups or ()), tuple(overrides or ())
    )


def override(
    sid: str, kind: str, power_kw: float = 0.0, start: float | None = None, end: float | None = None
) -> Override:
    return Override(
        sid,
        OverrideKind(kind),
        power_kw,
        None if start is None else at(start),
        None if end is None else at(end),
    )
