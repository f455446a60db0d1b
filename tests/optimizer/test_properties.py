"""Hypothesis-generated problems: every strategy holds every invariant; the LP reaches the max-energy bound
(computed here independently with scipy's linprog); the fast path and the PuLP reference agree."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from optimizer import Group, OverrideKind, ScheduleProblem, Status, solve
from tests.optimizer.helpers import START, override, problem, session
from tests.optimizer.invariants import check

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw: st.DrawFn, *, with_min: bool = True, with_fixed: bool = True) -> ScheduleProblem:
    n_t = draw(st.integers(2, 8))
    capacity = draw(st.lists(st.sampled_from([0.0, 5.0, 11.0, 16.5, 30.0, 60.0]), min_size=n_t, max_size=n_t))
    groups: list[Group] = []
    for g in range(draw(st.integers(0, 2))):
        parent = draw(st.sampled_from([None, *[x.id for x in groups]]))
        constant = draw(st.sampled_from([4.0, 11.0, 20.0]))
        cap: float | tuple[float, ...] = constant
        if draw(st.booleans()):
            cap = tuple(draw(st.lists(st.sampled_from([0.0, 7.4, 15.0]), min_size=n_t, max_size=n_t)))
        groups.append(Group(f"G{g}", cap, parent))
    sessions = []
    for i in range(draw(st.integers(0, 6))):
        arrive = draw(st.sampled_from([-3.0, 0.0, 0.5, 1.0, 2.0, 3.0]))
        stay = draw(st.sampled_from([0.5, 1.0, 2.0, 3.0, 5.0, 9.0]))
        max_kw = draw(st.sampled_from([3.7, 7.4, 11.0, 22.0]))
        min_kw = draw(st.sampled_from([0.0, 1.4, 4.2, 6.0])) if with_min else 0.0
        sessions.append(
            session(
                f"s{i}",
                arrive,
                arrive + stay,
                draw(st.sampled_from([0.0, 1.0, 2.5, 6.0, 15.0, 40.0])),
                max_kw,
                min_kw=min(min_kw, max_kw),
                priority=draw(st.integers(0, 2)),
                promised=draw(st.booleans()),
                group=draw(st.sampled_from([None, *[g.id for g in groups]])),
            )
        )
    overrides = []
    kinds = ["cap", "pause", "fixed"] if with_fixed else ["cap", "pause"]
    for _ in range(draw(st.integers(0, 3)) if sessions else 0):
        sid = draw(st.sampled_from([s.id for s in sessions]))
        start = draw(st.sampled_from([None, 0.0, 1.0, 2.5]))
        end = draw(st.sampled_from([None, 3.0, 6.0]))
        if start is not None and end is not None and end <= start:
            end = None
        overrides.append(
            override(sid, draw(st.sampled_from(kinds)), draw(st.sampled_from([0, 2, 5, 12])), start, end)
        )
    return problem(capacity, sessions, groups, overrides)


def max_energy_bound(prob: ScheduleProblem) -> float:
    """max sum_i w_i * e_i (w_i = 2 for a promised session, else 1) under capacity, group, bound, cap and
    pause constraints (no min rates, no fixed power), written directly from the problem with scipy."""
    n_t, dt = len(prob.capacity_kw), prob.interval_min / 60
    step = timedelta(minutes=prob.interval_min)
    keys, upper = [], []
    for i, s in enumerate(prob.sessions):
        for t in range(n_t):
            begin = START + t * step
            if not (s.arrival <= begin and begin + step <= s.departure):
                continue
            ub = s.max_kw
            for o in prob.overrides:
                hit = (o.valid_from is None or o.valid_from < begin + step) and (
                    o.valid_until is None or o.valid_until > begin
                )
                if o.session == s.id and hit:
                    ub = 0.0 if o.kind is OverrideKind.PAUSE else min(ub, o.power_kw)
            keys.append((i, t))
            upper.append(ub)
    if not keys:
        return 0.0
    rows, rhs = [], []
    for t in range(n_t):
        rows.append([1.0 if k[1] == t else 0.0 for k in keys])
        rhs.append(prob.capacity_kw[t])
    parents = {g.id: g.parent for g in prob.groups}
    for g in prob.groups:
        cap = g.capacity_kw if isinstance(g.capacity_kw, tuple) else (g.capacity_kw,) * n_t
        under = set()
        for i, s in enumerate(prob.sessions):
            node = s.group
            while node is not None:
                if node == g.id:
                    under.add(i)
                node = parents[node]
        for t in range(n_t):
            rows.append([1.0 if k[1] == t and k[0] in under else 0.0 for k in keys])
            rhs.append(cap[t])
    for i, s in enumerate(prob.sessions):
        rows.append([dt if k[0] == i else 0.0 for k in keys])
        rhs.append(s.energy_kwh)
    cost = [-(1 + prob.sessions[i].promised) * dt for i, _ in keys]
    res = linprog(cost, A_ub=np.array(rows), b_ub=rhs, bounds=list(zip([0] * len(keys), upper, strict=True)))
    assert res.status == 0
    return float(-res.fun)


def weighted_energy(prob: ScheduleProblem, result) -> float:  # type: ignore[no-untyped-def]
    return sum((1 + s.promised) * result.schedules[s.id].delivered_kwh for s in prob.sessions)


@SETTINGS
@given(problems())
def test_every_strategy_holds_every_invariant(prob: ScheduleProblem) -> None:
    for strategy in ("lp", "edf", "equal-share", "uncontrolled"):
        result = solve(prob, strategy=strategy)
        check(prob, result)
        assert result.status is not Status.FALLBACK, result.messages


@SETTINGS
@given(problems(with_min=False, with_fixed=False))
def test_lp_reaches_the_max_energy_bound_and_beats_the_baselines(prob: ScheduleProblem) -> None:
    result = solve(prob)
    check(prob, result)
    assert result.status is Status.OPTIMAL
    bound = max_energy_bound(prob)
    energy = weighted_energy(prob, result)
    assert energy >= bound * (1 - 1e-3) - 1e-6
    assert energy <= bound + 1e-6
    for strategy in ("edf", "equal-share", "uncontrolled"):
        assert weighted_energy(prob, solve(prob, strategy=strategy)) <= energy * (1 + 1e-3) + 1e-6


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(with_min=False))
def test_fast_path_and_pulp_reference_agree_on_the_objective(prob: ScheduleProblem) -> None:
    fast = solve(prob)
    for solver in ("cbc", "pulp-highs"):
        reference = solve(prob, solver=solver)
        check(prob, reference)
        assert reference.status is fast.status
        assert reference.objective.total == pytest.approx(fast.objective.total, rel=1e-6, abs=1e-6)
        assert reference.objective.energy == pytest.approx(fast.objective.energy, rel=1e-6, abs=1e-6)
