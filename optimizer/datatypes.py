"""The optimiser's input and output types: frozen, validated when built, units in the names."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from optimizer.errors import InstanceError


def _aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InstanceError(name, "must be a timezone-aware datetime (UTC)")


def _number(value: float, name: str, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InstanceError(name, "must be a number")
    number = float(value)
    if not math.isfinite(number) or number < minimum:
        raise InstanceError(name, f"must be a finite number >= {minimum:g}")
    return number


def _series(values: float | Sequence[float], name: str) -> float | tuple[float, ...]:
    if isinstance(values, int | float) and not isinstance(values, bool):
        return _number(values, name)
    if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
        raise InstanceError(name, "must be a number or a non-empty list of numbers")
    return tuple(_number(v, f"{name}[{t}]") for t, v in enumerate(values))


class OverrideKind(StrEnum):
    CAP = "cap"
    FIXED = "fixed"
    PAUSE = "pause"


class Status(StrEnum):
    """How a result came about; no solver code leaks out."""

    OPTIMAL = "optimal"  # the LP optimum, every constraint checked
    FEASIBLE = "feasible"  # feasible and checked, optimality not proven (min-rate repair, relaxed optimality)
    FEASIBLE_RELAXED = "feasible_relaxed"  # inputs could not all hold; see `relaxations`
    HEURISTIC = "heuristic"  # a baseline strategy was asked for
    FALLBACK = "fallback"  # the solver failed, timed out or its result failed the check: a baseline instead
    INFEASIBLE = (
        "infeasible"  # nothing that holds capacity could be found (not expected; reported, not raised)
    )


@dataclass(frozen=True, slots=True)
class Session:
    """A charging transaction: plugged in on [arrival, departure), wants `energy_kwh` more."""

    id: str
    arrival: datetime
    departure: datetime
    energy_kwh: float
    max_kw: float
    min_kw: float = 0.0
    priority: int = 0
    group: str | None = None
    promised: bool = False  # energy and departure stated by the driver: met before open-ended demand
    served_kwh: float = (
        0.0  # delivered before this plan: where minimum rates do not all fit, least served first
    )
    # what the EV draws under its minimum when that is less (a battery near full): each kW of its limit
    # yields only draw_kw / min_kw kW of energy, and capacity goes first where it all becomes energy
    draw_kw: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise InstanceError("id", "must be a non-empty string")
        _aware(self.arrival, "arrival")
        _aware(self.departure, "departure")
        if self.departure <= self.arrival:
            raise InstanceError("departure", "must be after arrival")
        object.__setattr__(self, "energy_kwh", _number(self.energy_kwh, "energy_kwh"))
        object.__setattr__(self, "max_kw", _number(self.max_kw, "max_kw"))
        object.__setattr__(self, "min_kw", _number(self.min_kw, "min_kw"))
        object.__setattr__(self, "served_kwh", _number(self.served_kwh, "served_kwh"))
        if self.min_kw > self.max_kw:
            raise InstanceError("min_kw", "must not exceed max_kw")
        if self.draw_kw is not None:
            object.__setattr__(self, "draw_kw", _number(self.draw_kw, "draw_kw"))
        if isinstance(self.priority, bool) or not isinstance(self.priority, int) or self.priority < 0:
            raise InstanceError("priority", "must be an integer >= 0 (higher is more important)")
        if not isinstance(self.promised, bool):
            raise InstanceError("promised", "must be true or false")
        if self.group is not None and (not isinstance(self.group, str) or not self.group):
            raise InstanceError("group", "must be a group id or null")


@dataclass(frozen=True, slots=True)
class Group:
    """A feeder or sub-circuit: the sessions below it (directly or via child groups) share its capacity."""

    id: str
    capacity_kw: float | tuple[float, ...]
    parent: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise InstanceError("id", "must be a non-empty string")
        object.__setattr__(self, "capacity_kw", _series(self.capacity_kw, "capacity_kw"))
        if self.parent is not None and (not isinstance(self.parent, str) or not self.parent):
            raise InstanceError("parent", "must be a group id or null")

    def capacity_at(self, n_intervals: int) -> tuple[float, ...]:
        if isinstance(self.capacity_kw, tuple):
            return self.capacity_kw
        return (self.capacity_kw,) * n_intervals


@dataclass(frozen=True, slots=True)
class Override:
    """An operator's instruction for one session on [valid_from, valid_until) (open ends when None).

    It applies to every interval it overlaps. `pause` beats `fixed` beats `cap`; several caps take the lowest.
    """

    session: str
    kind: OverrideKind
    power_kw: float = 0.0
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", OverrideKind(self.kind))
        except ValueError:
            raise InstanceError("kind", "must be one of cap, fixed, pause") from None
        object.__setattr__(self, "power_kw", _number(self.power_kw, "power_kw"))
        if self.valid_from is not None:
            _aware(self.valid_from, "from")
        if self.valid_until is not None:
            _aware(self.valid_until, "until")
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_until <= self.valid_from
        ):
            raise InstanceError("until", "must be after from")


@dataclass(frozen=True, slots=True)
class ScheduleProblem:
    """One planning problem for one site: intervals of `interval_min` from `start`, one per capacity value."""

    start: datetime
    interval_min: int
    capacity_kw: tuple[float, ...]
    sessions: tuple[Session, ...]
    groups: tuple[Group, ...] = ()
    overrides: tuple[Override, ...] = ()

    def __post_init__(self) -> None:
        _aware(self.start, "start")
        if (
            isinstance(self.interval_min, bool)
            or not isinstance(self.interval_min, int)
            or self.interval_min <= 0
        ):
            raise InstanceError("interval_minutes", "must be a positive integer")
        capacity = _series(self.capacity_kw, "capacity_kw")
        if not isinstance(capacity, tuple):
            raise InstanceError("capacity_kw", "must be a list with one value per interval")
        object.__setattr__(self, "capacity_kw", capacity)
        object.__setattr__(self, "sessions", tuple(self.sessions))
        object.__setattr__(self, "groups", tuple(self.groups))
        object.__setattr__(self, "overrides", tuple(self.overrides))
        self._check_groups()
        self._check_sessions()
        self._check_overrides()

    def _check_groups(self) -> None:
        ids: dict[str, int] = {}
        for g, group in enumerate(self.groups):
            if group.id in ids:
                raise InstanceError(f"groups[{g}].id", f"duplicate group id {group.id!r}")
            ids[group.id] = g
            if isinstance(group.capacity_kw, tuple) and len(group.capacity_kw) != self.n_intervals:
                raise InstanceError(
                    f"groups[{g}].capacity_kw", f"must have one value per interval ({self.n_intervals})"
                )
        for g, group in enumerate(self.groups):
            if group.parent is not None and group.parent not in ids:
                raise InstanceError(f"groups[{g}].parent", f"unknown group {group.parent!r}")
            seen = {group.id}
            parent = group.parent
            while parent is not None:
                if parent in seen:
                    raise InstanceError(f"groups[{g}].parent", "groups must form a tree (cycle found)")
                seen.add(parent)
                parent = self.groups[ids[parent]].parent

    def _check_sessions(self) -> None:
        groups = {group.id for group in self.groups}
        seen: set[str] = set()
        for i, session in enumerate(self.sessions):
            if not isinstance(session, Session):
                raise InstanceError(f"sessions[{i}]", "must be a Session")
            if session.id in seen:
                raise InstanceError(f"sessions[{i}].id", f"duplicate session id {session.id!r}")
            seen.add(session.id)
            if session.group is not None and session.group not in groups:
                raise InstanceError(f"sessions[{i}].group", f"unknown group {session.group!r}")

    def _check_overrides(self) -> None:
        ids = {session.id for session in self.sessions}
        for k, override in enumerate(self.overrides):
            if override.session not in ids:
                raise InstanceError(f"overrides[{k}].session", f"unknown session {override.session!r}")

    @property
    def n_intervals(self) -> int:
        return len(self.capacity_kw)

    @property
    def interval_h(self) -> float:
        return self.interval_min / 60.0

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.interval_min * self.n_intervals)


@dataclass(frozen=True, slots=True)
class Relaxation:
    """An input that could not hold, what gave way, and why."""

    session: str
    kind: str  # "fixed" | "min_kw"
    intervals: tuple[int, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class SessionSchedule:
    session: str
    power_kw: tuple[float, ...]
    delivered_kwh: float
    unmet_kwh: float


@dataclass(frozen=True, slots=True)
class ObjectiveParts:
    """The objective's components, recomputed from the schedule (not read back from a solver).

    `energy` is promise-weighted delivered kWh; the others are the scaled tie-breakers; `total` is their sum.
    """

    energy: float
    fairness: float
    early: float
    smooth: float

    @property
    def total(self) -> float:
        return self.energy + self.fairness + self.early + self.smooth


@dataclass(frozen=True, slots=True)
class Explanation:
    """Per interval: the binding constraint (`site`, `group:<id>`, `sessions`, `none`) and the shadow price.

    The shadow price is the LP dual of the site capacity row: the objective gained (promise-weighted kWh)
    by one more kW in that interval. It is 0 where capacity does not bind. Baselines and fallbacks have no
    duals: their prices are 0.0 with `shadow_price_known` False (finite, so JSON-safe everywhere).
    """

    binding: tuple[str, ...]
    shadow_price: tuple[float, ...]
    shadow_price_known: bool = True  # False for baselines and fallbacks: no LP duals, prices given as 0.0


@dataclass(frozen=True)
class ScheduleResult:
    status: Status
    strategy: str
    solver: str | None
    schedules: Mapping[str, SessionSchedule]
    objective: ObjectiveParts
    explanation: Explanation
    relaxations: tuple[Relaxation, ...] = ()
    messages: tuple[str, ...] = ()
    solve_seconds: float = 0.0
    stats: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "schedules", MappingProxyType(dict(self.schedules)))
        object.__setattr__(self, "stats", MappingProxyType(dict(self.stats)))

    def __reduce__(self) -> tuple[object, tuple[dict[str, object]]]:
        """Pickled with its mappings as plain dicts (a read-only view does not pickle): a result crosses
        from a worker process so."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values |= {"schedules": dict(self.schedules), "stats": dict(self.stats)}
        return _result_from, (values,)

    @property
    def delivered_kwh(self) -> float:
        return sum(s.delivered_kwh for s in self.schedules.values())

    @property
    def unmet_kwh(self) -> float:
        return sum(s.unmet_kwh for s in self.schedules.values())


def _result_from(values: dict[str, Any]) -> ScheduleResult:
    return ScheduleResult(**values)
