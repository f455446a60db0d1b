"""Every strategy on one problem, side by side: energy, unmet demand, peak against capacity, fairness,
promises kept and solve time, each recomputed from the schedules (not read back from a solver)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from optimizer.datatypes import ScheduleProblem, ScheduleResult
from optimizer.pipeline import STRATEGIES, solve

__all__ = ["PROMISE_TOLERANCE_KWH", "StrategyOutcome", "compare", "outcome"]

PROMISE_TOLERANCE_KWH = 0.05


@dataclass(frozen=True, slots=True)
class StrategyOutcome:
    """How one strategy did. `reachable_kwh`: what the sessions could take in the horizon at their own
    maximum; `fairness`: Jain's index of each session's delivered share of its reachable energy (1: all
    the same share); a promise is kept when the session gets its reachable energy."""

    strategy: str
    status: str
    delivered_kwh: float
    unmet_kwh: float
    reachable_kwh: float
    peak_kw: float
    capacity_at_peak_kw: float
    over_capacity_kw: float  # the largest excess of the load over the site capacity (0 when held)
    fairness: float
    promises_kept: int
    promises: int
    solve_seconds: float
    load_kw: tuple[float, ...]


def reachable_kwh(problem: ScheduleProblem) -> dict[str, float]:
    """Per session: its energy, or what its maximum delivers while it is plugged in within the horizon."""
    out = {}
    for session in problem.sessions:
        start = max(session.arrival, problem.start)
        end = min(session.departure, problem.end)
        hours = max(0.0, (end - start).total_seconds() / 3600)
        out[session.id] = min(session.energy_kwh, session.max_kw * hours)
    return out


def outcome(problem: ScheduleProblem, result: ScheduleResult) -> StrategyOutcome:
    reach = reachable_kwh(problem)
    load = [0.0] * problem.n_intervals
    for schedule in result.schedules.values():
        load = [a + b for a, b in zip(load, schedule.power_kw, strict=True)]
    peak_t = max(range(problem.n_intervals), key=lambda t: load[t])
    delivered = {sid: s.delivered_kwh for sid, s in result.schedules.items()}
    shares = [delivered[sid] / reach[sid] for sid in reach if reach[sid] > 0]
    promised = [s.id for s in problem.sessions if s.promised]
    kept = [sid for sid in promised if delivered[sid] >= reach[sid] - PROMISE_TOLERANCE_KWH]
    return StrategyOutcome(
        strategy=result.strategy,
        status=result.status.value,
        delivered_kwh=result.delivered_kwh,
        unmet_kwh=result.unmet_kwh,
        reachable_kwh=sum(reach.values()),
        peak_kw=load[peak_t],
        capacity_at_peak_kw=problem.capacity_kw[peak_t],
        over_capacity_kw=max(0.0, *(p - c for p, c in zip(load, problem.capacity_kw, strict=True))),
        fairness=jain(shares),
        promises_kept=len(kept),
        promises=len(promised),
        solve_seconds=result.solve_seconds,
        load_kw=tuple(load),
    )


def jain(values: Sequence[float]) -> float:
    """Jain's fairness index: 1 when all values are equal, 1/n when one takes everything (1 when empty)."""
    square_sum = sum(v * v for v in values)
    return 1.0 if square_sum == 0 else sum(values) ** 2 / (len(values) * square_sum)


def compare(
    problem: ScheduleProblem,
    *,
    strategies: Sequence[str] = STRATEGIES,
    solver: str = "highs",
    time_limit_s: float | None = None,
) -> list[tuple[ScheduleResult, StrategyOutcome]]:
    """Solve `problem` with each strategy; the results with how each did, in the order given."""
    results = [solve(problem, strategy=s, solver=solver, time_limit_s=time_limit_s) for s in strategies]
    return [(result, outcome(problem, result)) for result in results]
