"""The large-problem path (earliness by shifting after the LP), instance round trips and the public API."""

from __future__ import annotations

import inspect
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings

import optimizer
import optimizer.objective as objective
from optimizer import ScheduleProblem, Status, problem_from_dict, result_to_dict, solve
from optimizer.instance import problem_to_dict
from tests.optimizer.helpers import problem, session
from tests.optimizer.invariants import check
from tests.optimizer.test_properties import problems


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_large_problem_path_holds_every_invariant_and_the_energy(prob: ScheduleProblem) -> None:
    small = solve(prob)
    with (
        mock.patch.object(objective, "EARLY_MAX_VARIABLES", -1),
        mock.patch.object(objective, "SMOOTH_MAX_VARIABLES", -1),
    ):
        large = solve(prob)
    check(prob, large)
    assert large.status not in (Status.FALLBACK, Status.INFEASIBLE)
    if small.status is large.status is Status.OPTIMAL:  # no min-rate repair: the same energy optimum
        assert large.objective.energy == pytest.approx(small.objective.energy, rel=1e-6, abs=1e-6)


def test_shift_moves_energy_into_earlier_spare_capacity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(objective, "EARLY_MAX_VARIABLES", -1)
    prob = problem([50.0] * 12, [session("a", 0, 12, 11.0, 11.0), session("b", 0, 12, 5.5, 11.0)])
    result = solve(prob)
    check(prob, result)
    assert sum(result.schedules["a"].power_kw[:4]) == pytest.approx(44.0)
    assert sum(result.schedules["b"].power_kw[:4]) == pytest.approx(22.0)


def test_instance_round_trip() -> None:
    prob = problem([10.0, 12.5], [session("a", -1, 2, 5.0, 11.0, min_kw=1.4, priority=2)])
    assert problem_from_dict(problem_to_dict(prob)) == prob


def test_result_document_has_the_issue_fields() -> None:
    prob = problem([10.0, 12.5], [session("a", 0, 2, 5.0, 11.0)])
    doc = result_to_dict(solve(prob), prob)
    for key in ("format", "status", "objective", "solve_seconds", "schedules", "delivered_kwh", "unmet_kwh"):
        assert key in doc
    assert doc["schedules"][0]["session"] == "a"
    assert len(doc["shadow_price"]) == 2


def test_public_api() -> None:
    for name in optimizer.__all__:
        assert hasattr(optimizer, name), name
    params = inspect.signature(optimizer.solve).parameters
    assert list(params) == ["problem", "strategy", "solver", "time_limit_s"]
    assert params["strategy"].default == "lp"
    assert params["solver"].default == "highs"
    assert params["time_limit_s"].default is None
    assert list(inspect.signature(optimizer.compress_periods).parameters) == ["power_kw", "max_periods"]
    error = optimizer.InstanceError("sessions[3].departure", "must be after arrival")
    assert str(error) == "sessions[3].departure: must be after arrival"
    assert error.field == "sessions[3].departure"
