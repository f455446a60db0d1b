"""A session's plan as the site page shows it: the power in the interval under way and the plan from then
as steps, equal neighbours merged; nothing under way outside the revision's horizon."""

from datetime import UTC, datetime, timedelta

from app.console.site_layout import Step, steps_from
from app.domain.planning import ScheduleEntry, ScheduleRevision

START = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


def plan(power_kw: list[float]) -> tuple[ScheduleRevision, ScheduleEntry]:
    n = len(power_kw)
    revision = ScheduleRevision(
        id=1, site_id=1, trigger="test", status="optimal", strategy="lp", solve_seconds=0.01, start=START,
        interval_minutes=15, n_intervals=n, capacity_kw=[22.0] * n, planned_kw=power_kw, binding=["none"] * n,
        shadow_price=[0.0] * n, relaxations=[], messages=[],
    )  # fmt: skip
    entry = ScheduleEntry(
        revision_id=1, transaction_id=7, charge_point_id="CP1", connector_id=1, power_kw=power_kw,
        max_kw=22.0, energy_kwh=20.0, delivered_kwh=sum(power_kw) / 4, unmet_kwh=0.0,
        departure=START + timedelta(hours=2), demand_source="default", assumption="planned",
    )  # fmt: skip
    return revision, entry


def test_the_plan_from_the_interval_under_way_in_steps() -> None:
    revision, entry = plan([11.0, 11.0, 7.4, 7.4, 7.4, 0.0, 0.0, 4.2])
    now_kw, steps = steps_from(revision, entry, START + timedelta(minutes=20))
    assert now_kw == 11.0
    assert steps == [
        Step(START + timedelta(minutes=15), 11.0),
        Step(START + timedelta(minutes=30), 7.4),
        Step(START + timedelta(minutes=75), 0.0),
        Step(START + timedelta(minutes=105), 4.2),
    ]


def test_outside_the_horizon_nothing_is_under_way() -> None:
    revision, entry = plan([5.0, 6.0])
    now_kw, steps = steps_from(revision, entry, START - timedelta(minutes=1))
    assert (now_kw, steps) == (None, [Step(START, 5.0), Step(START + timedelta(minutes=15), 6.0)])
    assert steps_from(revision, entry, START + timedelta(minutes=30)) == (None, [])
