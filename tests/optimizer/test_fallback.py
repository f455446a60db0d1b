"""The solver's word is never taken: failures, time limits and bad results all end in a capacity-holding
baseline with status `fallback`."""

from __future__ import annotations

import numpy as np
import pytest

import optimizer.pipeline as pipeline
from optimizer import ScheduleProblem, Status, solve
from optimizer.solution import LpSolution, LpStatus
from tests.optimizer.helpers import problem, session
from tests.optimizer.invariants import check


def medium(n: int = 150, seed: int = 1) -> ScheduleProblem:
    rng = np.random.default_rng(seed)
    sessions = []
    for i in range(n):
        arrive = float(rng.integers(-4, 60))
        sessions.append(
            session(f"s{i}", arrive, arrive + float(rng.integers(4, 40)), float(rng.uniform(5, 40)), 11.0)
        )
    return problem([n * 2.0] * 96, sessions)


def test_a_result_that_breaks_capacity_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    def lying_solver(p, lower, upper, weights, *, time_limit_s=None):  # type: ignore[no-untyped-def]
        return LpSolution(LpStatus.OPTIMAL, upper * 1000, np.zeros(p.n_intervals), 0.0, 0.0)

    monkeypatch.setattr(pipeline, "solve_highs", lying_solver)
    prob = problem([10.0] * 2, [session("a", 0, 2, 40, 11), session("b", 0, 2, 40, 11)])
    result = solve(prob)
    check(prob, result)
    assert result.status is Status.FALLBACK
    assert "failed the constraint check" in result.messages[0]
    assert result.delivered_kwh == pytest.approx(5.0)


def test_a_failed_solve_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_solver(p, lower, upper, weights, *, time_limit_s=None):  # type: ignore[no-untyped-def]
        return LpSolution.failed((p.n_sessions, p.n_intervals), LpStatus.FAILED, "HiGHS: broken", 0.0, 0.0)

    monkeypatch.setattr(pipeline, "solve_highs", failing_solver)
    prob = problem([10.0] * 2, [session("a", 0, 2, 40, 11)])
    result = solve(prob)
    check(prob, result)
    assert result.status is Status.FALLBACK
    assert "HiGHS: broken" in result.messages[-1]
    assert not result.explanation.shadow_price_known
    assert result.explanation.shadow_price == (0.0, 0.0)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_time_limit_gives_the_fallback(solver: str) -> None:
    prob = medium()
    result = solve(prob, solver=solver, time_limit_s=1e-3)
    check(prob, result)
    assert result.status is Status.FALLBACK
    assert "time limit" in " ".join(result.messages)
    assert result.solve_seconds < 5


def test_generous_time_limit_is_optimal() -> None:
    prob = medium(40)
    result = solve(prob, time_limit_s=60)
    check(prob, result)
    assert result.status is Status.OPTIMAL
