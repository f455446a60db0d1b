"""The demo's picture: drawn from a report, a PNG with the day's dates in its title."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.demo.picture import draw, save
from app.demo.report import DemoReport, IntervalLoad
from app.demo.scenario import DEMO_DAY, DemoConfig
from simulator import FleetSummary
from simulator.stats import SessionResult

DAY = datetime(2024, 3, 5, tzinfo=UTC)


def report() -> DemoReport:
    loads = [
        IntervalLoad(DAY + t * timedelta(minutes=15), 40.0, 40.0, 30.0 if t else None, 28.0, 27.5)
        for t in range(8)
    ]
    visit = SessionResult("CP1", 1, "Kia Niro", "TAG1", DAY, DAY + timedelta(hours=2), 20.0, 15.0)
    summary = FleetSummary(
        start=DAY,
        end=DAY + timedelta(hours=2),
        charge_points=1,
        sessions=[visit],
        messages_sent=Counter(),
        call_errors=0,
        timeouts=0,
        profiles_received=0,
        profiles_accepted=0,
        connects=1,
        transaction_messages_dropped=0,
        turned_away=0,
    )
    return DemoReport(
        config=DemoConfig(hours=2),
        site_id=1,
        day_start=DAY,
        day_end=DAY + timedelta(hours=2),
        summary=summary,
        loads=loads,
        warmup=[],
        transactions_stored=1,
        profiles_sent=0,
        profiles_accepted=0,
        wall_s=1.0,
        database_url="sqlite://",
        undelivered=0,
    )


def test_the_demo_day_is_fixed() -> None:
    assert DemoConfig().day == DEMO_DAY == DAY


def test_picture_of_the_day(tmp_path: Path) -> None:
    figure = draw(report())
    assert "2024-03-05 00:00 – 2024-03-05 02:00 UTC" in figure.texts[0].get_text()
    power, visits = figure.axes[:2]
    assert len(visits.patches) == 1  # one bar per visit
    assert [line.get_label() for line in power.get_lines()[:2]] == ["planned", "drawn (15-min mean)"]
    path = save(report(), tmp_path / "out" / "demo.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
