"""An independent checker: every hard constraint recomputed from the ScheduleProblem and a ScheduleResult.

Written from the issue's text, not from the optimiser's code: it reads datetimes and overrides itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from optimizer import Override, OverrideKind, ScheduleProblem, ScheduleResult, Status

TOL_KW = 1e-6
TOL_KWH = 1e-6


def _subtree_sessions(problem: ScheduleProblem, group_id: str) -> list[str]:
    parents = {g.id: g.parent for g in problem.groups}
    found = []
    for s in problem.sessions:
        node = s.group
        while node is not None:
            if node == group_id:
                found.append(s.id)
                break
            node = parents[node]
    return found


def check(problem: ScheduleProblem, result: ScheduleResult) -> None:
    """Assert every invariant; fixed overrides may differ only where the result lists a relaxation."""
    assert result.status is not Status.INFEASIBLE, result.messages
    n_t = len(problem.capacity_kw)
    step = timedelta(minutes=problem.interval_min)
    dt_h = problem.interval_min / 60
    power = {}
    for s in problem.sessions:
        sched = result.schedules[s.id]
        assert len(sched.power_kw) == n_t
        power[s.id] = sched.power_kw
    for t in range(n_t):
        total = sum(power[s.id][t] for s in problem.sessions)
        assert total <= problem.capacity_kw[t] + TOL_KW * max(1, len(problem.sessions)), ("site", t, total)
    for g in problem.groups:
        members = _subtree_sessions(problem, g.id)
        cap = g.capacity_kw if isinstance(g.capacity_kw, tuple) else (g.capacity_kw,) * n_t
        for t in range(n_t):
            load = sum(power[sid][t] for sid in members)
            assert load <= cap[t] + TOL_KW * max(1, len(members)), ("group", g.id, t, load)
    relaxed = {(r.session, t) for r in result.relaxations for t in r.intervals}
    for s in problem.sessions:
        row = power[s.id]
        for t in range(n_t):
            begin = problem.start + t * step
            plugged = s.arrival <= begin and begin + step <= s.departure
            value = row[t]
            assert value >= -TOL_KW, ("negative", s.id, t, value)
            if not plugged:
                assert value <= TOL_KW, ("unplugged", s.id, t, value)
            assert value <= s.max_kw + TOL_KW, ("max_kw", s.id, t, value)
            assert value <= TOL_KW or value >= s.min_kw - TOL_KW, ("min_kw", s.id, t, value)
            for o in problem.overrides:
                if o.session != s.id:
                    continue
                start_ok = o.valid_from is None or o.valid_from < begin + step
                end_ok = o.valid_until is None or o.valid_until > begin
                if not (start_ok and end_ok):
                    continue
                if o.kind is OverrideKind.PAUSE:
                    assert value <= TOL_KW, ("pause", s.id, t, value)
                elif o.kind is OverrideKind.CAP:
                    assert value <= o.power_kw + TOL_KW, ("cap", s.id, t, value)
        delivered = sum(row) * dt_h
        assert delivered <= s.energy_kwh + TOL_KWH, ("energy", s.id, delivered)
        sched = result.schedules[s.id]
        assert abs(sched.delivered_kwh - delivered) <= TOL_KWH
        assert abs(sched.unmet_kwh - max(s.energy_kwh - delivered, 0.0)) <= TOL_KWH
    _check_fixed(problem, power, relaxed, step)


def _covers(o: Override, begin: datetime, step: timedelta) -> bool:
    return (o.valid_from is None or o.valid_from < begin + step) and (
        o.valid_until is None or o.valid_until > begin
    )


def _check_fixed(
    problem: ScheduleProblem,
    power: dict[str, tuple[float, ...]],
    relaxed: set[tuple[str, int]],
    step: timedelta,
) -> None:
    """Fixed power holds exactly (last fixed override wins; pause beats it), unless listed as relaxed."""
    for s in problem.sessions:
        for t in range(len(problem.capacity_kw)):
            begin = problem.start + t * step
            plugged = s.arrival <= begin and begin + step <= s.departure
            mine = [o for o in problem.overrides if o.session == s.id and _covers(o, begin, step)]
            fixed = [o.power_kw for o in mine if o.kind is OverrideKind.FIXED]
            paused = any(o.kind is OverrideKind.PAUSE for o in mine)
            if not fixed or not plugged or paused or (s.id, t) in relaxed:
                continue
            assert abs(power[s.id][t] - fixed[-1]) <= TOL_KW, ("fixed", s.id, t, power[s.id][t], fixed[-1])
