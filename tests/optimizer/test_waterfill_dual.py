"""The water-filling QP on its dual (`optimizer.activeset`) gives HiGHS's QP optimum, on the QPs the pipeline
builds: generated sites with and without feeders, minimum rates and promises; and where it cannot settle,
the pipeline falls back to HiGHS's QP solver."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

import optimizer.activeset as activeset
import optimizer.waterfill as waterfill
from benchmarks.bench_optimizer import generate
from optimizer import ScheduleProblem, solve
from tests.optimizer.invariants import check


def qps(prob: ScheduleProblem, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """The QPs `solve(prob)` hands to the water-filling step, with what the dual method returned."""
    seen: list[tuple[Any, ...]] = []
    dual = activeset.solve_dual

    def recording(*args: Any) -> Any:
        solved = dual(*args)
        seen.append((args, solved))
        return solved

    monkeypatch.setattr(waterfill, "solve_dual", recording)
    check(prob, solve(prob))
    return seen


def promised(prob: ScheduleProblem) -> ScheduleProblem:
    sessions = tuple(replace(s, promised=i % 5 == 0) for i, s in enumerate(prob.sessions))
    return replace(prob, sessions=sessions)


@pytest.mark.parametrize(
    ("n", "seed", "feeders", "min_kw", "promises"),
    [
        (40, 1, False, False, False),
        (60, 2, True, False, False),
        (70, 3, False, True, False),
        (70, 4, True, True, True),
        (20, 5, False, True, True),
    ],
)
def test_the_dual_method_finds_the_qp_optimum_highs_finds(
    n: int, seed: int, feeders: bool, min_kw: bool, promises: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    prob = generate(n, seed, feeders=feeders, min_kw=min_kw)
    seen = qps(promised(prob) if promises else prob, monkeypatch)
    assert seen, "the water-filling QP ran"
    for (matrix, row_lo, row_hi, col_lo, col_hi, curvature), ours in seen:
        assert ours is not None
        theirs = waterfill.solve_qp_highs(matrix, row_lo, row_hi, col_lo, col_hi, curvature, 60.0)
        assert theirs is not None
        assert ours == pytest.approx(theirs, abs=1e-6)
        assert float(curvature @ ours**2) == pytest.approx(float(curvature @ theirs**2), rel=1e-9)
        ax = matrix @ ours
        assert (ax >= row_lo - 1e-7).all()
        assert (ax <= row_hi + 1e-7).all()
        assert (ours >= col_lo - 1e-9).all()
        assert (ours <= col_hi + 1e-9).all()


def test_where_the_dual_method_gives_up_highs_solves_the_qp(monkeypatch: pytest.MonkeyPatch) -> None:
    prob = generate(40, 1)
    monkeypatch.setattr(waterfill, "solve_dual", lambda *args: None)
    fallback = solve(prob)
    monkeypatch.undo()
    check(prob, fallback)
    direct = solve(prob)
    ours = np.array([s.power_kw for s in direct.schedules.values()])
    theirs = np.array([s.power_kw for s in fallback.schedules.values()])
    assert ours == pytest.approx(theirs, abs=1e-6)


def test_a_qp_with_equalities_only_and_no_box_rows() -> None:
    """Every row an equality (the water levels fixed, nothing between two ends): no box row at all, which a
    generated problem reached (hypothesis) and the dual method indexed out of range."""
    matrix = sp.csc_matrix(np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    row = np.array([1.0, 0.5])
    col_lo, col_hi, curvature = np.zeros(3), np.ones(3), np.array([1.0, 3.0, 1.0])
    solved = activeset.solve_dual(matrix, row, row, col_lo, col_hi, curvature)
    expected = waterfill.solve_qp_highs(matrix, row, row, col_lo, col_hi, curvature, 10.0)
    assert solved is not None
    assert expected is not None
    assert np.allclose(solved, expected, atol=1e-7)
    assert np.allclose(solved, [0.75, 0.25, 0.5])  # x_k in proportion to 1 / curvature_k


def test_a_dual_method_that_fails_on_a_shape_leaves_the_qp_to_highs(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Any:
        raise IndexError("a shape the dual method was not written for")

    monkeypatch.setattr(waterfill, "solve_dual", broken)
    prob = generate(20, 5, feeders=False, min_kw=True)
    check(prob, solve(prob))  # planned all the same, by HiGHS's QP solver
