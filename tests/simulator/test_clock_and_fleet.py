"""The scaled clock, and a small fleet end to end against the test central system."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.domain.clock import ScaledClock, clock_from_env
from simulator import Fleet, FleetConfig, Location, Timing, summary_table
from simulator.clock import parse_instant
from simulator.link import backoff_s
from simulator.stats import split_by_interval
from tests.simulator.central import CentralSystem

START = datetime(2024, 3, 5, 6, 0, tzinfo=UTC)


def test_scaled_clock_runs_faster_from_its_start() -> None:
    clock = ScaledClock(speed=3600, start=START)
    first = clock.now()
    assert first - START < timedelta(minutes=5)
    assert clock.real_seconds(3600) == 1.0


@pytest.mark.anyio
async def test_scaled_clock_sleeps_in_simulated_seconds() -> None:
    clock = ScaledClock(speed=600, start=START)
    before = clock.now()
    await clock.sleep(60)  # 0.1 s real
    assert timedelta(seconds=55) <= clock.now() - before <= timedelta(seconds=120)


class WallTime:
    """`time.time` as the test moves it."""

    def __init__(self) -> None:
        self.now_s = 1_000_000.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> WallTime:
    wall = WallTime()
    monkeypatch.setattr("app.domain.clock.time.time", wall)
    return wall


def test_a_held_clock_stands_still_and_goes_on_from_where_it_stopped(wall: WallTime) -> None:
    clock = ScaledClock(speed=100, start=START, holdable=True)
    wall.now_s += 1
    assert clock.now() == START + timedelta(seconds=100)
    with clock.hold():
        wall.now_s += 5
        with clock.hold():  # nested: still standing
            wall.now_s += 5
        assert clock.now() == START + timedelta(seconds=100)
    assert clock.held_s == 10
    wall.now_s += 2
    assert clock.now() == START + timedelta(seconds=300)


def test_hold_is_a_no_op_unless_the_clock_is_holdable(wall: WallTime) -> None:
    clock = ScaledClock(speed=100, start=START)
    with clock.hold():
        wall.now_s += 1
        assert clock.now() == START + timedelta(seconds=100)


@pytest.mark.anyio
async def test_a_sleep_waits_out_a_hold_in_simulated_seconds() -> None:
    clock = ScaledClock(speed=600, start=START, holdable=True)
    with clock.hold():
        held_at = clock.now()
        sleeper = asyncio.create_task(clock.sleep(60))  # 0.1 s of wall time once running
        done, _ = await asyncio.wait({sleeper}, timeout=0.3)
        assert not done  # simulated time stood still: the minute did not pass
        assert clock.now() == held_at
    await sleeper
    assert clock.now() - held_at >= timedelta(seconds=60)


def test_clock_from_env_is_the_shared_contract() -> None:
    anchor = datetime.now(UTC) - timedelta(seconds=10)
    clock = clock_from_env(
        {
            "SMARTCHARGE_CLOCK_SPEED": "720",
            "SMARTCHARGE_CLOCK_START": "2024-03-05T00:00:00Z",
            "SMARTCHARGE_CLOCK_ANCHOR": anchor.isoformat(),
        }
    )
    assert clock.speed == 720
    # 10 s of wall clock since the anchor are two simulated hours since the start.
    assert abs((clock.now() - datetime(2024, 3, 5, 2, 0, tzinfo=UTC)).total_seconds()) < 60
    real = clock_from_env({})
    assert real.speed == 1
    assert abs((real.now() - datetime.now(UTC)).total_seconds()) < 1
    assert parse_instant("2024-03-05T01:00:00") == datetime(2024, 3, 5, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(speed=0)


def test_fleet_config_validates_and_names() -> None:
    with pytest.raises(ValueError, match="connectors"):
        FleetConfig(url="ws://x", connectors=3)
    config = FleetConfig(url="ws://x", site="north")
    assert config.charge_point_id(0) == "north-CP001"
    assert config.id_tag(41) == "north-TAG042"


def test_fleet_config_names_the_charge_points_that_ignore_limits() -> None:
    with pytest.raises(ValueError, match="north-CP009"):
        FleetConfig(url="ws://x", site="north", charge_points=2, ignore_limits=("north-CP009",))
    config = FleetConfig(url="ws://x", site="north", charge_points=2, ignore_limits=("north-CP002",))
    fleet = Fleet(config, ScaledClock(start=START))
    assert [cp.spec.ignores_limits for cp in fleet.charge_points] == [False, True]


def test_a_fleet_runs_out_its_visits_after_the_day_but_takes_no_new_ones() -> None:
    def fleet(run_out_h: float) -> Fleet:
        config = FleetConfig(
            url="ws://x",
            charge_points=5,
            location=Location.home,
            start=START,
            duration_h=6,
            run_out_h=run_out_h,
            seed=4,
        )
        return Fleet(config, ScaledClock(start=START))

    day_end = START + timedelta(hours=6)
    cut = fleet(0)
    assert cut.end == day_end
    whole = fleet(48)
    visits = [plan for plans in whole.plans() for plan in plans]
    assert visits
    assert all(plan.arrival < day_end for plan in visits)
    last = max(plan.departure for plan in visits)
    assert last > day_end  # home visits stay the night: some outlast the day
    assert whole.end == last
    assert fleet(1).end == day_end + timedelta(hours=1)  # at most run_out_h
    with pytest.raises(ValueError, match="run_out_h"):
        FleetConfig(url="ws://x", run_out_h=-1)


def test_same_seed_same_fleet_plans() -> None:
    def plans(seed: int) -> list[tuple[str, int, datetime, float]]:
        config = FleetConfig(url="ws://x", charge_points=3, seed=seed, warm_start=False)
        fleet = Fleet(config, ScaledClock(start=START))
        return [
            (cp.id, c.id, p.arrival, p.energy_kwh)
            for cp in fleet.charge_points
            for c in cp.connectors.values()
            for p in c.plans
        ]

    assert plans(1) == plans(1)
    assert plans(1) != plans(2)


def test_warm_start_plugs_in_the_evs_still_there_from_the_evening() -> None:
    midnight = datetime(2024, 3, 5, tzinfo=UTC)
    config = FleetConfig(url="ws://x", charge_points=10, location=Location.home, seed=2)
    fleet = Fleet(config, ScaledClock(start=midnight))
    plans = [p for cp in fleet.charge_points for c in cp.connectors.values() for p in c.plans]
    already_there = [p for p in plans if p.arrival == fleet.start]
    assert len(already_there) >= 3  # home EVs arrive in the evening and stay the night
    assert all(p.departure > fleet.start for p in plans)
    cold = Fleet(
        FleetConfig(url="ws://x", charge_points=10, location=Location.home, seed=2, warm_start=False),
        ScaledClock(start=midnight),
    )
    assert not [
        p
        for cp in cold.charge_points
        for c in cp.connectors.values()
        for p in c.plans
        if p.arrival == cold.start
    ]


@pytest.mark.anyio
async def test_a_small_fleet_through_a_working_day() -> None:
    central = CentralSystem(heartbeat_s=900)
    await central.start()
    try:
        config = FleetConfig(
            url=central.url,
            site="t",
            charge_points=4,
            location=Location.workplace,
            duration_h=8,
            seed=3,
            sessions_per_day=3.0,
            configuration={"MeterValueSampleInterval": "300"},
            validate_messages=False,  # the central system still validates what arrives
            journal=True,
        )
        fleet = Fleet(config, ScaledClock(speed=14400, start=START), timing=Timing(tick_s=30))
        snapshots: list[dict[str, float]] = []
        summary = await fleet.run(on_progress=snapshots.append, every_real_s=0.2)
    finally:
        await central.stop()

    assert fleet.planned_sessions > 0
    assert len(summary.sessions) == fleet.planned_sessions - summary.turned_away - summary.missed
    assert summary.missed <= 1  # only a machine too slow for ×14400 misses one, at the very end
    started = [s for s in summary.sessions if s.transaction_id is not None]
    starts = central.of("StartTransaction")
    stops = central.of("StopTransaction")
    assert len(starts) == len(stops) == len(started) >= len(summary.sessions) - 1
    assert {s.transaction_id for s in started} == {s["assigned"] for s in starts}
    assert {s["transaction_id"] for s in stops} == {s["assigned"] for s in starts}
    assert sum(summary.messages_sent.values()) == len(central.received)
    journal = [entry for cp in fleet.charge_points for entry in cp.stats.journal or []]
    assert len(journal) == len(central.received)
    assert len({message_id for message_id, _, _ in journal}) == len(journal)
    sent_stops = sorted(p["transactionId"] for _, action, p in journal if action == "StopTransaction")
    assert sent_stops == sorted(s["transaction_id"] for s in stops)
    assert summary.call_errors == summary.timeouts == summary.transaction_messages_dropped == 0
    assert summary.connects == 4
    assert {r.charge_point_id for r in central.received} == {f"t-CP00{i}" for i in range(1, 5)}
    assert all(s["id_tag"].startswith("t-TAG") for s in starts)
    for session in summary.sessions:
        assert 0 <= session.delivered_kwh <= session.requested_kwh + 0.01
    delivered = sum((s["meter_stop"] - start["meter_start"]) for s, start in _pairs(starts, stops)) / 1000
    assert summary.delivered_kwh == pytest.approx(delivered, abs=0.01 * len(stops))
    assert sum(summary.energy_wh_by_interval.values()) / 1000 == pytest.approx(
        summary.delivered_kwh, abs=0.01
    )
    assert 0 < summary.peak_kw <= 4 * 2 * 22
    assert all(start.minute % 15 == 0 and start.second == 0 for start in summary.site_power_kw)
    assert snapshots[-1]["fraction"] == 1.0
    assert max(s["online"] for s in snapshots) == 4
    json.dumps(summary.to_dict())
    assert summary_table(summary).row_count >= 10


def _pairs(
    starts: list[dict[str, Any]], stops: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    by_id = {s["assigned"]: s for s in starts}
    return [(stop, by_id[stop["transaction_id"]]) for stop in stops]


def test_reconnect_backoff_doubles_up_to_the_maximum_with_jitter() -> None:
    timing = Timing(backoff_initial_s=2, backoff_max_s=60)
    assert [backoff_s(n, timing, 0.999999) for n in range(1, 8)] == pytest.approx(
        [2, 4, 8, 16, 32, 60, 60], rel=1e-5
    )
    assert backoff_s(3, timing, 0.0) == 4.0
    assert all(1.0 <= backoff_s(1, timing, j / 10) < 2.0 for j in range(10))


def test_energy_is_split_over_aligned_quarter_hours() -> None:
    start = datetime(2024, 3, 5, 10, 10, tzinfo=UTC)
    parts = split_by_interval(start, start + timedelta(minutes=30))
    assert parts == [
        (datetime(2024, 3, 5, 10, 0, tzinfo=UTC), pytest.approx(5 / 30)),
        (datetime(2024, 3, 5, 10, 15, tzinfo=UTC), pytest.approx(15 / 30)),
        (datetime(2024, 3, 5, 10, 30, tzinfo=UTC), pytest.approx(10 / 30)),
    ]
    assert split_by_interval(start, start) == []
