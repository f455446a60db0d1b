"""Postprocess: a session's plan as charging-schedule periods, as a charge point accepts them."""

from __future__ import annotations

from collections.abc import Sequence


def compress_periods(power_kw: Sequence[float], max_periods: int) -> list[tuple[int, float]]:
    """(start interval, limit kW) periods covering the plan: equal neighbours merged, at most `max_periods`.

    When there are too many, the pair of neighbouring periods whose merge gives away the least energy is
    merged into one at the lower of the two limits, repeatedly: never above the plan in any interval.
    """
    if max_periods < 1:
        raise ValueError("max_periods must be >= 1")
    periods: list[list[float]] = []  # [start, limit, length]
    for t, value in enumerate(power_kw):
        limit = float(value)
        if periods and periods[-1][1] == limit:
            periods[-1][2] += 1
        else:
            periods.append([t, limit, 1])
    while len(periods) > max_periods:
        best, best_loss = 0, float("inf")
        for k in range(len(periods) - 1):
            a, b = periods[k], periods[k + 1]
            low = min(a[1], b[1])
            loss = (a[1] - low) * a[2] + (b[1] - low) * b[2]
            if loss < best_loss:
                best, best_loss = k, loss
        a, b = periods[best], periods[best + 1]
        periods[best] = [a[0], min(a[1], b[1]), a[2] + b[2]]
        del periods[best + 1]
        if best > 0 and periods[best - 1][1] == periods[best][1]:
            periods[best - 1][2] += periods[best][2]
            del periods[best]
        if best + 1 < len(periods) and periods[best + 1][1] == periods[best][1]:
            periods[best][2] += periods[best + 1][2]
            del periods[best + 1]
    return [(int(start), limit) for start, limit, _ in periods]
