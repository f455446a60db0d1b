"""compress_periods: never above the plan, at most N periods, equal neighbours merged."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import compress_periods


def expand(periods: list[tuple[int, float]], n: int) -> list[float]:
    out = []
    for k, (start, limit) in enumerate(periods):
        end = periods[k + 1][0] if k + 1 < len(periods) else n
        out += [limit] * (end - start)
    return out


def test_merges_equal_neighbours() -> None:
    assert compress_periods([5, 5, 0, 0, 7.4], 10) == [(0, 5.0), (2, 0.0), (4, 7.4)]


def test_merges_downwards_where_it_costs_least() -> None:
    assert compress_periods([11, 10.5, 0, 0], 2) == [(0, 10.5), (2, 0.0)]


def test_max_periods_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_periods"):
        compress_periods([1.0], 0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([0.0, 1.4, 4.2, 7.4, 11.0, 22.0]), min_size=1, max_size=96),
    st.integers(1, 12),
)
def test_properties(plan: list[float], max_periods: int) -> None:
    periods = compress_periods(plan, max_periods)
    runs = 1 + sum(1 for a, b in zip(plan, plan[1:], strict=False) if a != b)
    assert 1 <= len(periods) <= max_periods
    assert periods[0][0] == 0
    assert all(a[0] < b[0] for a, b in zip(periods, periods[1:], strict=False))
    assert all(a[1] != b[1] for a, b in zip(periods, periods[1:], strict=False))
    limits = expand(periods, len(plan))
    assert all(limit <= value for limit, value in zip(limits, plan, strict=True))
    if runs <= max_periods:
        assert limits == plan
