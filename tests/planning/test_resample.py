"""Conservative resampling, checked against a minute-by-minute brute force on generated forecasts."""

from datetime import UTC, datetime, timedelta

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.planning.capacity import resample

ORIGIN = datetime(2030, 1, 1, tzinfo=UTC)


@st.composite
def forecasts(draw: st.DrawFn) -> list[tuple[int, int, float]]:
    """Non-overlapping rows (start minute, end minute, limit kW) with gaps, any lengths, within 6 hours."""
    rows, cursor = [], draw(st.integers(-30, 60))
    for _ in range(draw(st.integers(1, 12))):
        start = cursor + draw(st.integers(0, 20))
        end = start + draw(st.integers(1, 90))
        rows.append((start, end, draw(st.floats(0, 1000, allow_nan=False))))
        cursor = end
    return rows


@settings(max_examples=200, deadline=None)
@given(forecasts(), st.sampled_from([5, 15, 30, 60]))
def test_each_interval_gets_the_minimum_of_what_overlaps_it(
    rows: list[tuple[int, int, float]], step: int
) -> None:
    n_intervals = 6 * 60 // step
    frame = pd.DataFrame(
        {
            "start": [ORIGIN + timedelta(minutes=s) for s, _, _ in rows],
            "end": [ORIGIN + timedelta(minutes=e) for _, e, _ in rows],
            "limit_kw": [kw for _, _, kw in rows],
        }
    )
    got = {
        int(r.slot): (r.limit_kw, r.covered_s)
        for r in resample(frame, ORIGIN, n_intervals, step).itertuples()
    }

    expected: dict[int, tuple[float, float]] = {}
    for minute in range(n_intervals * step):
        limits = [kw for s, e, kw in rows if s <= minute < e]
        if limits:
            slot = minute // step
            low, covered = expected.get(slot, (float("inf"), 0.0))
            expected[slot] = (min(low, *limits), covered + 60.0)
    assert got.keys() == expected.keys()
    for slot, (limit, covered) in expected.items():
        assert got[slot][0] == limit  # the minimum: never above any row that overlaps the interval
        assert abs(got[slot][1] - covered) < 1e-6
