"""The pipeline: preprocess -> formulate and solve (or a baseline) -> repair min rates -> check -> result."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from optimizer import baselines
from optimizer.blas import one_blas_thread
from optimizer.check import clean, violations
from optimizer.datatypes import (
    Explanation,
    Relaxation,
    ScheduleProblem,
    ScheduleResult,
    SessionSchedule,
    Status,
)
from optimizer.explain import binding
from optimizer.fair import equalise
from optimizer.highs_lp import solve_highs
from optimizer.minrate import below_min, pattern_bounds, repair
from optimizer.objective import FULL, Weights, early_step, parts
from optimizer.prepare import Array, Prepared, prepare
from optimizer.shift import shift_earlier
from optimizer.smooth import smooth_hours
from optimizer.solution import LpSolution, LpStatus
from optimizer.waterfill import waterfill

STRATEGIES = ("lp", "equal-share", "edf", "uncontrolled")
SOLVERS = ("highs", "cbc", "pulp-highs")
FALLBACK = "edf"

_BASELINES: dict[str, Callable[[Prepared], Array]] = {
    "equal-share": baselines.equal_share,
    "edf": baselines.edf,
    "uncontrolled": baselines.uncontrolled,
}


def solve(
    problem: ScheduleProblem,
    *,
    strategy: str = "lp",
    solver: str = "highs",
    time_limit_s: float | None = None,
) -> ScheduleResult:
    """Plan every session of `problem`; never above any capacity, whatever the solver does.

    strategy: `lp` (the optimiser) or a baseline (`equal-share`, `edf`, `uncontrolled` -- capped, first
    come first served). solver (for `lp`): `highs` (vectorised, default), `cbc` or `pulp-highs` (the PuLP
    reference model). time_limit_s bounds the LP solves (wall clock, CBC too); past it: the EDF fallback.
    BLAS runs on one thread meanwhile (`optimizer.blas`).
    """
    with one_blas_thread():
        return _solve(problem, strategy, solver, time_limit_s)


def _solve(
    problem: ScheduleProblem, strategy: str, solver: str, time_limit_s: float | None
) -> ScheduleResult:
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, not {solver!r}")
    began = time.perf_counter()
    p = prepare(problem)
    messages: list[str] = []
    relaxations = list(p.relaxations)
    stats: dict[str, float] = {}
    duals = np.full(p.n_intervals, np.nan)
    if strategy != "lp":
        plan, status = _BASELINES[strategy](p), Status.HEURISTIC
    else:
        plan, status, duals = _optimise(p, solver, time_limit_s, began, messages, relaxations, stats)
    found = violations(p, plan)
    if found and status is not Status.FALLBACK:
        messages.append(f"result failed the constraint check ({found[0]}); {FALLBACK} fallback used")
        plan, status, duals = _BASELINES[FALLBACK](p), Status.FALLBACK, np.full(p.n_intervals, np.nan)
        relaxations = list(p.relaxations)  # the LP path's min-rate relaxations do not apply to the fallback
        found = violations(p, plan)
    if found:
        messages.append(f"no plan passed the constraint check: {found[0]}")
        status = Status.INFEASIBLE
    elif relaxations and status in (Status.OPTIMAL, Status.FEASIBLE):
        status = Status.FEASIBLE_RELAXED
    return _result(p, plan, status, strategy, solver, duals, messages, relaxations, stats, began)


def _lp(
    p: Prepared,
    lower: Array,
    upper: Array,
    solver: str,
    time_limit_s: float | None,
    weights: Weights = FULL,
) -> LpSolution:
    if solver == "highs":
        return solve_highs(p, lower, upper, weights, time_limit_s=time_limit_s)
    from optimizer.reference import solve_reference

    return solve_reference(p, lower, upper, weights, solver=solver, time_limit_s=time_limit_s)


def _optimise(
    p: Prepared,
    solver: str,
    time_limit_s: float | None,
    began: float,
    messages: list[str],
    relaxations: list[Relaxation],
    stats: dict[str, float],
) -> tuple[Array, Status, Array]:
    def remaining() -> float | None:
        return None if time_limit_s is None else max(time_limit_s - (time.perf_counter() - began), 1e-3)

    nan = np.full(p.n_intervals, np.nan)
    weights = Weights.for_size(p)
    if not weights.smooth:
        messages.append("smoothness term left out of the LP at this size (docs/optimizer.md)")
    if not weights.early:
        messages.append("earliness by shifting energy into spare capacity after the LP (docs/optimizer.md)")
    first = _lp(p, p.lower_kw, p.upper_kw, solver, remaining(), weights)
    stats["build_seconds"] = first.build_seconds
    stats["lp_seconds"] = first.solve_seconds
    if first.status is not LpStatus.OPTIMAL:
        messages.append(f"{solver}: {first.message or first.status.value}; {FALLBACK} fallback used")
        return _BASELINES[FALLBACK](p), Status.FALLBACK, nan
    plan = clean(p, first.power_kw, p.lower_kw, p.upper_kw)
    if not below_min(p, plan).any():
        return _earlier(p, plan, weights), Status.OPTIMAL, first.site_dual
    # alike sessions share before the repair decides who is on: otherwise the LP's vertex decides, the same
    # way at every replan, and the same sessions wait for ever; shared, they take turns (`minrate`)
    repaired, paused = repair(p, equalise(p, plan, p.lower_kw, p.upper_kw))
    relaxations += paused
    messages.append(
        "minimum rates: LP solved without them, repaired to 0-or-min and re-solved with that on/off pattern"
        + (
            f"; {len(paused)} sessions paused in some intervals: minimum rates did not all fit"
            if paused
            else ""
        )
    )
    lower, upper = pattern_bounds(p, repaired)
    second = _lp(p, lower, upper, solver, remaining(), weights)
    stats["build_seconds"] += second.build_seconds
    stats["lp_seconds"] += second.solve_seconds
    if second.status is LpStatus.OPTIMAL:
        final = _earlier(p, clean(p, second.power_kw, lower, upper), weights)
        if not violations(p, final):
            return final, Status.FEASIBLE, first.site_dual
    messages.append(
        f"re-solve after the min-rate repair: {second.message or 'failed the check'}; repair kept"
    )
    return repaired, Status.FEASIBLE, first.site_dual


def _earlier(p: Prepared, plan: Array, weights: Weights) -> Array:
    """Where the LP had no earliness or smoothness term: shift energy into earlier spare capacity, then make
    power constant within each hour (absorbers per node take what capacity forces); then the fair split
    within each interval: the water-filling QP on small problems, twins' mean plans (and alike sessions'
    equal shares without the QP) at every size. Each step keeps energy, fairness and earliness."""
    if not weights.early:
        plan = shift_earlier(p, plan, *pattern_bounds(p, plan))
    if not weights.smooth:
        plan = smooth_hours(p, plan, *pattern_bounds(p, plan), early_step(p))
    split = waterfill(p, plan, *pattern_bounds(p, plan))
    return equalise(p, split, *pattern_bounds(p, split), alike=split is plan)


def _result(
    p: Prepared,
    plan: Array,
    status: Status,
    strategy: str,
    solver: str,
    duals: Array,
    messages: list[str],
    relaxations: list[Relaxation],
    stats: dict[str, float],
    began: float,
) -> ScheduleResult:
    delivered = plan.sum(axis=1) * p.interval_h
    rows = plan.tolist()
    schedules = {
        sid: SessionSchedule(
            session=sid,
            power_kw=tuple(rows[i]),
            delivered_kwh=float(delivered[i]),
            unmet_kwh=float(max(p.demand_kwh[i] - delivered[i], 0.0)),
        )
        for i, sid in enumerate(p.ids)
    }
    from_lp = bool(np.isfinite(duals).all())
    prices = tuple(float(d) for d in duals) if from_lp else (0.0,) * p.n_intervals
    explanation = Explanation(binding=binding(p, plan), shadow_price=prices, shadow_price_known=from_lp)
    return ScheduleResult(
        status=status,
        strategy=strategy,
        solver=solver if strategy == "lp" else None,
        schedules=schedules,
        objective=parts(p, plan),
        explanation=explanation,
        relaxations=tuple(relaxations),
        messages=tuple(messages),
        solve_seconds=time.perf_counter() - began,
        stats=stats,
    )
