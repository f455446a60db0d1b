"""Instance and schedule files: `smartcharge-instance/1` in, `smartcharge-schedule/1` out (dicts, str).

`problem_from_dict` names the offending field in every error (`sessions[3].departure: must be after arrival`);
`run_optimize` is the whole `smartcharge optimize` command minus the typer wrapper.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from optimizer.datatypes import Group, Override, ScheduleProblem, ScheduleResult, Session
from optimizer.errors import InstanceError
from optimizer.periods import compress_periods

INSTANCE_FORMAT = "smartcharge-instance/1"
SCHEDULE_FORMAT = "smartcharge-schedule/1"
T = TypeVar("T")


def _get(
    data: Mapping[str, Any], key: str, where: str, default: Any = ..., *, alias: str | None = None
) -> Any:
    if key in data:
        return data[key]
    if alias is not None and alias in data:
        return data[alias]
    if default is ...:
        raise InstanceError(f"{where}.{key}" if where else key, "is required")
    return default


def _time(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise InstanceError(field, "must be an ISO-8601 date-time string with a UTC offset")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        raise InstanceError(field, f"is not an ISO-8601 date-time: {value!r}") from None
    if parsed.tzinfo is None:
        raise InstanceError(field, "needs a time zone (e.g. Z or +00:00)")
    return parsed.astimezone(UTC)


def _items(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InstanceError(key, "must be a list")
    return value


def _build(make: Callable[..., T], field: str, **kwargs: Any) -> T:
    try:
        return make(**kwargs)
    except InstanceError as error:
        raise error.within(field) from None


def _mapping(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InstanceError(field, "must be an object")
    return value


def problem_from_dict(data: Mapping[str, Any]) -> ScheduleProblem:
    """A ScheduleProblem from a `smartcharge-instance/1` document; InstanceError names the field."""
    data = _mapping(data, "instance")
    fmt = data.get("format", INSTANCE_FORMAT)
    if fmt != INSTANCE_FORMAT:
        raise InstanceError("format", f"must be {INSTANCE_FORMAT!r}, not {fmt!r}")
    start = _time(_get(data, "start", ""), "start")
    interval = _get(data, "interval_minutes", "", 15)
    capacity = _get(data, "capacity_kw", "")
    if not isinstance(capacity, list):
        raise InstanceError("capacity_kw", "must be a list with one value per interval")
    groups = []
    for g, raw in enumerate(_items(data, "groups")):
        where = f"groups[{g}]"
        raw = _mapping(raw, where)
        groups.append(
            _build(
                Group,
                where,
                id=_get(raw, "id", where),
                capacity_kw=_get(raw, "capacity_kw", where),
                parent=raw.get("parent"),
            )
        )
    sessions = []
    for i, raw in enumerate(_items(data, "sessions")):
        where = f"sessions[{i}]"
        raw = _mapping(raw, where)
        sessions.append(
            _build(
                Session,
                where,
                id=_get(raw, "id", where),
                arrival=_time(_get(raw, "arrival", where), f"{where}.arrival"),
                departure=_time(_get(raw, "departure", where), f"{where}.departure"),
                energy_kwh=_get(raw, "energy_kwh", where),
                max_kw=_get(raw, "max_kw", where),
                min_kw=raw.get("min_kw") or 0.0,
                priority=raw.get("priority") or 0,
                group=raw.get("group"),
                promised=raw.get("promised", False),
                served_kwh=raw.get("served_kwh") or 0.0,
                draw_kw=raw.get("draw_kw"),
            )
        )
    overrides = []
    for k, raw in enumerate(_items(data, "overrides")):
        where = f"overrides[{k}]"
        raw = _mapping(raw, where)
        kind = _get(raw, "kind", where)
        if kind not in ("cap", "fixed", "pause"):
            raise InstanceError(f"{where}.kind", "must be one of cap, fixed, pause")
        power = raw.get("power_kw")
        if power is None and kind != "pause":
            raise InstanceError(f"{where}.power_kw", f"is required for kind {kind!r}")
        overrides.append(
            _build(
                Override,
                where,
                session=_get(raw, "session", where),
                kind=kind,
                power_kw=0.0 if power is None else power,
                valid_from=None if raw.get("from") is None else _time(raw["from"], f"{where}.from"),
                valid_until=None if raw.get("until") is None else _time(raw["until"], f"{where}.until"),
            )
        )
    if isinstance(interval, bool) or not isinstance(interval, int):
        raise InstanceError("interval_minutes", "must be a positive integer")
    return ScheduleProblem(
        start=start,
        interval_min=interval,
        capacity_kw=tuple(capacity),
        sessions=tuple(sessions),
        groups=tuple(groups),
        overrides=tuple(overrides),
    )


def problem_to_dict(problem: ScheduleProblem) -> dict[str, Any]:
    """The inverse of `problem_from_dict` (round-trips)."""

    def iso(value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")

    return {
        "format": INSTANCE_FORMAT,
        "start": iso(problem.start),
        "interval_minutes": problem.interval_min,
        "capacity_kw": list(problem.capacity_kw),
        "groups": [
            {
                "id": g.id,
                "parent": g.parent,
                "capacity_kw": list(g.capacity_kw) if isinstance(g.capacity_kw, tuple) else g.capacity_kw,
            }
            for g in problem.groups
        ],
        "sessions": [
            {
                "id": s.id,
                "group": s.group,
                "arrival": iso(s.arrival),
                "departure": iso(s.departure),
                "energy_kwh": s.energy_kwh,
                "max_kw": s.max_kw,
                "min_kw": s.min_kw,
                "priority": s.priority,
                "promised": s.promised,
                "served_kwh": s.served_kwh,
                **({} if s.draw_kw is None else {"draw_kw": s.draw_kw}),
            }
            for s in problem.sessions
        ],
        "overrides": [
            {
                "session": o.session,
                "kind": o.kind.value,
                "power_kw": o.power_kw,
                "from": iso(o.valid_from),
                "until": iso(o.valid_until),
            }
            for o in problem.overrides
        ],
    }


def _kw(value: float) -> float:
    """Rounded down to 1 mW: never above the plan (so never above any capacity), within 1e-6 of it."""
    return math.floor(value * 1e6 + 1e-3) / 1e6


def _prices(result: ScheduleResult) -> list[float | None]:
    """The shadow prices; null where no LP duals exist (baselines, fallbacks)."""
    explanation = result.explanation
    if not explanation.shadow_price_known:
        return [None] * len(explanation.shadow_price)
    return [round(v, 9) for v in explanation.shadow_price]


def result_to_dict(
    result: ScheduleResult, problem: ScheduleProblem, *, max_periods: int | None = None
) -> dict[str, Any]:
    """A `smartcharge-schedule/1` document. With `max_periods`, each schedule also carries its periods."""
    schedules = []
    for session in problem.sessions:
        schedule = result.schedules[session.id]
        entry: dict[str, Any] = {"session": session.id, "power_kw": [_kw(v) for v in schedule.power_kw]}
        if max_periods is not None:
            periods = compress_periods(entry["power_kw"], max_periods)
            entry["periods"] = [{"start_interval": s, "limit_kw": limit} for s, limit in periods]
        schedules.append(entry)
    parts = result.objective
    return {
        "format": SCHEDULE_FORMAT,
        "status": result.status.value,
        "strategy": result.strategy,
        "solver": result.solver,
        "objective": round(parts.total, 9),
        "objective_parts": {
            "energy": round(parts.energy, 9),
            "fairness": round(parts.fairness, 9),
            "early": round(parts.early, 9),
            "smooth": round(parts.smooth, 9),
        },
        "solve_seconds": round(result.solve_seconds, 6),
        "start": problem.start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "interval_minutes": problem.interval_min,
        "schedules": schedules,
        "delivered_kwh": {sid: round(s.delivered_kwh, 9) for sid, s in result.schedules.items()},
        "unmet_kwh": {sid: round(s.unmet_kwh, 9) for sid, s in result.schedules.items()},
        "shadow_price": _prices(result),
        "binding": list(result.explanation.binding),
        "relaxations": [
            {"session": r.session, "kind": r.kind, "intervals": list(r.intervals), "reason": r.reason}
            for r in result.relaxations
        ],
        "messages": list(result.messages),
    }


def load_instance(text: str) -> ScheduleProblem:
    """Parse the JSON text of an instance file."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InstanceError("instance", f"is not valid JSON: {error}") from None
    return problem_from_dict(data)


def run_optimize(
    text: str,
    *,
    strategy: str = "lp",
    solver: str = "highs",
    time_limit_s: float | None = None,
    max_periods: int | None = None,
) -> tuple[int, str]:
    """`smartcharge optimize` on the text of an instance file, without the file handling.

    Returns (0, the schedule JSON) or (2, an error message naming the field or option).
    """
    from optimizer.pipeline import SOLVERS, STRATEGIES, solve

    if strategy not in STRATEGIES:
        return 2, f"--strategy: must be one of {', '.join(STRATEGIES)}, not {strategy!r}"
    if solver not in SOLVERS:
        return 2, f"--solver: must be one of {', '.join(SOLVERS)}, not {solver!r}"
    if time_limit_s is not None and not time_limit_s > 0:
        return 2, "--time-limit: must be a positive number of seconds"
    if max_periods is not None and max_periods < 1:
        return 2, "--max-periods: must be at least 1"
    try:
        problem = load_instance(text)
    except InstanceError as error:
        return 2, str(error)
    result = solve(problem, strategy=strategy, solver=solver, time_limit_s=time_limit_s)
    document = result_to_dict(result, problem, max_periods=max_periods)
    return 0, json.dumps(document, indent=2) + "\n"
