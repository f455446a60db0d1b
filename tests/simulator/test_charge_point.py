"""The simulated charge point against a tiny central system over a real WebSocket on loopback."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call

from app.domain.clock import ScaledClock
from simulator.charge_point import ChargePointSpec, SimulatedChargePoint
from simulator.composite import ChargingProfile
from simulator.dataset import SessionPlan
from simulator.ev import EVModel
from simulator.link import Timing
from tests.simulator.central import CentralSystem, eventually

pytestmark = pytest.mark.anyio

START = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
MODEL = EVModel("Test 11 kW", battery_kwh=60.0, max_ac_kw=11.0, phases=3, registrations=1)
TIMING = Timing(tick_s=10, min_tick_real_s=0.005, backoff_initial_s=5, backoff_max_s=60, finishing_s=30)
CONFIG = {"MeterValueSampleInterval": "120", "TransactionMessageRetryInterval": "10"}


def plan(arrive_min: float, stay_min: float, energy_kwh: float = 20.0, soc: float = 0.3) -> SessionPlan:
    arrival = START + timedelta(minutes=arrive_min)
    return SessionPlan(arrival, arrival + timedelta(minutes=stay_min), energy_kwh, MODEL, soc)


@pytest.fixture
async def central() -> AsyncIterator[CentralSystem]:
    system = CentralSystem(heartbeat_s=600)
    await system.start()
    try:
        yield system
    finally:
        await system.stop()


def measurands(meter_values: dict[str, Any]) -> dict[str, float]:
    out = {}
    for sample in meter_values["meter_value"][0]["sampled_value"]:
        key = sample["measurand"] + (f".{sample['phase']}" if "phase" in sample else "")
        out[key] = float(sample["value"])
    return out


def simulated(
    central: CentralSystem, plans: list[SessionPlan], speed: float = 2400, **kwargs: Any
) -> SimulatedChargePoint:
    clock = ScaledClock(speed=speed, start=START)
    spec = ChargePointSpec("CP-1", connectors=1, **kwargs)
    return SimulatedChargePoint(
        spec, central.url, clock, {1: plans}, id_tags=lambda: "TAG-1", timing=TIMING, configuration=CONFIG
    )


async def test_a_session_from_boot_to_stop(central: CentralSystem) -> None:
    cp = simulated(central, [plan(5, 60)])  # arrives well after the boot
    stats = await cp.run(until=START + timedelta(minutes=80))

    actions = [r.action for r in central.received]
    assert actions[0] == "BootNotification"
    assert central.of("BootNotification")[0]["charge_point_vendor"] == "smartcharge"
    assert len(central.of("Heartbeat")) >= 5  # every 600 s simulated, from the boot answer
    statuses = [s["status"] for s in central.of("StatusNotification") if s["connector_id"] == 1]
    assert statuses == ["Available", "Preparing", "Charging", "Finishing", "Available"]
    assert {s["connector_id"] for s in central.of("StatusNotification")} == {0, 1}
    assert central.of("Authorize") == [{"id_tag": "TAG-1"}]

    start = central.of("StartTransaction")[0]
    stop = central.of("StopTransaction")[0]
    assert start["connector_id"] == 1
    assert start["meter_start"] == 0
    assert stop["transaction_id"] == start["assigned"]
    assert stop["reason"] == "Local"
    order = [a for a in actions if a in ("StartTransaction", "MeterValues", "StopTransaction")]
    assert order[0] == "StartTransaction"
    assert order[-1] == "StopTransaction"

    values = central.of("MeterValues")
    assert 25 <= len(values) <= 31  # every 120 s for 60 min
    assert all(v["transaction_id"] == start["assigned"] for v in values)
    first = measurands(values[0])
    assert first["Power.Active.Import"] == pytest.approx(11000, rel=0.01)
    assert first["Current.Import.L1"] == pytest.approx(15.9, abs=0.1)
    assert first["Current.Import.L3"] == pytest.approx(15.9, abs=0.1)
    assert 30 <= first["SoC"] <= 32
    registers = [measurands(v)["Energy.Active.Import.Register"] for v in values]
    assert registers == sorted(registers)
    hours = (instant(stop["timestamp"]) - instant(start["timestamp"])).total_seconds() / 3600
    assert 0.9 < hours <= 1.05  # from the start of charging to the departure (or a little after, under load)
    assert stop["meter_stop"] == pytest.approx(11000 * hours, abs=1)  # at 11 kW throughout
    assert stop["meter_stop"] >= registers[-1]

    assert stats.call_errors == 0
    [session] = stats.sessions
    assert session.delivered_kwh == pytest.approx(stop["meter_stop"] / 1000)
    assert session.transaction_id == start["assigned"]
    assert stats.messages_sent == len(central.received)
    assert sum(stats.energy_wh_by_interval.values()) == pytest.approx(stop["meter_stop"], abs=1)
    by_quarter = [wh for _, wh in sorted(stats.energy_wh_by_interval.items())]
    assert max(by_quarter) == pytest.approx(11000 / 4, rel=0.01)  # a full quarter hour at 11 kW


def ten_amps(transaction_id: int) -> dict[str, Any]:
    """A TxProfile of 10 A for the transaction."""
    return {
        "chargingProfileId": 7,
        "transactionId": transaction_id,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}],
        },
    }


async def test_a_tx_profile_limits_the_power_drawn(central: CentralSystem) -> None:
    central.tx_profile = ten_amps
    cp = simulated(central, [plan(5, 40)])
    stats = await cp.run(until=START + timedelta(minutes=50))

    assert central.profile_answers == ["Accepted"]
    assert stats.profiles_received == stats.profiles_accepted == 1
    later = [measurands(v) for v in central.of("MeterValues")[1:]]
    assert later
    for sample in later:
        assert sample["Power.Active.Import"] == pytest.approx(6900, rel=0.01)
        assert sample["Current.Import.L2"] == pytest.approx(10.0, abs=0.05)
    assert central.of("StopTransaction")[0]["meter_stop"] <= 6900 * 40 / 60 * 1.02


async def test_a_charge_point_that_ignores_limits_accepts_them_and_draws_the_ev_maximum(
    central: CentralSystem,
) -> None:
    """The non-compliant charge point issue 13 asks for: it says Accepted, and its EV draws 11 kW anyway."""

    central.tx_profile = ten_amps
    cp = simulated(central, [plan(5, 40)], ignores_limits=True)
    stats = await cp.run(until=START + timedelta(minutes=50))

    assert central.profile_answers == ["Accepted"]
    assert stats.profiles_accepted == 1
    later = [measurands(v) for v in central.of("MeterValues")[1:]]
    assert later
    for sample in later:
        assert sample["Power.Active.Import"] == pytest.approx(11000, rel=0.01)


async def test_a_charge_point_max_profile_and_the_composite_schedule(central: CentralSystem) -> None:
    cp = simulated(central, [plan(1, 60)], speed=600)
    cp.start()
    try:
        await eventually(lambda: bool(central.of("StartTransaction")))
        server = central.connections["CP-1"]
        cap = {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "ChargePointMaxProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "W",
                "startSchedule": START.isoformat(),
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 4140}],
            },
        }
        assert await server.push_profile(0, cap) == "Accepted"
        composite = await server.call(
            call.GetCompositeSchedule(connector_id=1, duration=600, charging_rate_unit="A")
        )
        assert composite.status == "Accepted"
        assert composite.charging_schedule["charging_schedule_period"][0]["limit"] == 6.0
        n = len(central.of("MeterValues"))
        await eventually(lambda: len(central.of("MeterValues")) >= n + 2)
        assert measurands(central.of("MeterValues")[-1])["Power.Active.Import"] == pytest.approx(
            4140, rel=0.01
        )
    finally:
        await cp.stop()


async def test_messages_queued_offline_arrive_in_order_after_reconnecting(central: CentralSystem) -> None:
    # The central system is down from before the EV arrives until mid-session: the StartTransaction is sent
    # late, its transaction id is mapped, and every meter value arrives once, in order.
    cp = simulated(central, [plan(20, 60)], speed=2400)
    cp.start()
    try:
        await eventually(lambda: len(central.of("StatusNotification")) >= 2)
        await central.stop()
        await eventually(lambda: cp.clock.now() > START + timedelta(minutes=45), timeout_s=20)
        assert not central.of("StartTransaction")
        assert len(cp.outbox) >= 10  # start + meter values waiting
        await central.start()
        await eventually(lambda: bool(central.of("StopTransaction")), timeout_s=20)
    finally:
        await cp.stop()

    [start] = central.of("StartTransaction")
    [stop] = central.of("StopTransaction")
    values = central.of("MeterValues")
    assert start["timestamp"] < values[0]["meter_value"][0]["timestamp"]
    stamps = [v["meter_value"][0]["timestamp"] for v in values]
    assert stamps == sorted(stamps)
    assert len(stamps) == len(set(stamps))  # no duplicate
    assert all(v["transaction_id"] == start["assigned"] for v in values)  # mapped after the late start
    assert stop["transaction_id"] == start["assigned"]
    instants = [datetime.fromisoformat(s.replace("Z", "+00:00")) for s in stamps]
    gaps = [(b - a).total_seconds() for a, b in zip(instants, instants[1:], strict=False)]
    assert set(gaps) == {120.0}  # no loss: one every MeterValueSampleInterval, at its own instant
    assert len(values) >= 60 * 60 / 120 - 2
    registers = [measurands(v)["Energy.Active.Import.Register"] for v in values]
    assert registers == sorted(registers)
    assert max(r.connection for r in central.received) >= 2
    assert cp.stats.call_errors == 0
    assert cp.outbox.stats.dropped == 0


async def test_clock_aligned_meter_values_on_the_quarter_hour(central: CentralSystem) -> None:
    cp = simulated(central, [plan(5, 50)])
    cp.config.set("ClockAlignedDataInterval", 900)
    cp.config.set("MeterValueSampleInterval", 0)
    await cp.run(until=START + timedelta(minutes=61))
    aligned = [
        m
        for m in central.of("MeterValues")
        if m["meter_value"][0]["sampled_value"][0]["context"] == "Sample.Clock"
    ]
    stamps = [m["meter_value"][0]["timestamp"] for m in aligned]
    assert stamps == [f"2024-03-04T{hh_mm}:00.000Z" for hh_mm in ("08:15", "08:30", "08:45", "09:00")]
    assert all(len(m["meter_value"][0]["sampled_value"]) == 1 for m in aligned)  # MeterValuesAlignedData
    assert [bool(m.get("transaction_id")) for m in aligned] == [True, True, True, False]  # 08:55 departure
    assert len(central.of("MeterValues")) == len(aligned)


async def test_a_failing_task_ends_the_run_with_its_error(
    central: CentralSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    cp = simulated(central, [plan(1, 30)])
    original, calls = cp._allocate, []

    def fails_once(now: datetime) -> None:
        calls.append(now)
        if len(calls) == 3:
            raise ZeroDivisionError("a bug")
        original(now)

    monkeypatch.setattr(cp, "_allocate", fails_once)
    with pytest.raises(RuntimeError, match=r"CP-1: CP-1-\S+ failed") as failure:
        await cp.run(until=START + timedelta(hours=1))
    assert isinstance(failure.value.__cause__, ZeroDivisionError)


async def test_a_dropped_connection_is_reopened_and_nothing_is_lost(central: CentralSystem) -> None:
    cp = simulated(central, [plan(2, 60)], speed=2400)
    cp.start()
    try:
        await eventually(lambda: len(central.of("MeterValues")) >= 5)
        await central.connections["CP-1"]._connection.close()  # the central system drops it
        await eventually(lambda: len(central.of("BootNotification")) == 2)
        await eventually(lambda: bool(central.of("StopTransaction")), timeout_s=15)
    finally:
        await cp.stop()
    assert cp.stats.connects == 2
    [start] = central.of("StartTransaction")
    assert central.of("StopTransaction")[0]["transaction_id"] == start["assigned"]
    stamps = sorted({v["meter_value"][0]["timestamp"] for v in central.of("MeterValues")})
    instants = [datetime.fromisoformat(s.replace("Z", "+00:00")) for s in stamps]
    assert {(b - a).total_seconds() for a, b in zip(instants, instants[1:], strict=False)} == {120.0}
    assert len(stamps) >= 29  # one every 120 s for 60 min: at least once each, duplicates allowed


async def test_suspended_by_the_evse_then_by_the_full_ev(central: CentralSystem) -> None:
    def paused_first(transaction_id: int) -> dict[str, Any]:
        return {
            "chargingProfileId": 9,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0}, {"startPeriod": 600, "limit": 16}],
            },
        }

    central.tx_profile = paused_first
    cp = simulated(central, [plan(5, 50, energy_kwh=1.0, soc=0.95)])  # wants 96.7 %
    stats = await cp.run(until=START + timedelta(minutes=60))
    statuses = [s["status"] for s in central.of("StatusNotification") if s["connector_id"] == 1]
    assert statuses[:2] == ["Available", "Preparing"]
    assert statuses[-2:] == ["Finishing", "Available"]
    middle = statuses[2:-2]
    assert "SuspendedEVSE" in middle
    assert middle.index("SuspendedEVSE") < middle.index("Charging", middle.index("SuspendedEVSE"))
    assert middle[-1] == "SuspendedEV"
    [session] = stats.sessions
    assert session.delivered_kwh == pytest.approx(1.0, abs=0.01)
    last = measurands(central.of("MeterValues")[-1])
    assert last["SoC"] == 97
    assert last["Power.Active.Import"] == 0


async def test_a_limit_step_applies_at_its_instant_not_at_the_next_tick(central: CentralSystem) -> None:
    cp = simulated(central, [plan(2, 60)])
    step = {
        "charging_profile_id": 1,
        "stack_level": 0,
        "charging_profile_purpose": "TxDefaultProfile",
        "charging_profile_kind": "Relative",
        "charging_schedule": {
            "charging_rate_unit": "A",
            "charging_schedule_period": [
                {"start_period": 0, "limit": 10},
                {"start_period": 1001, "limit": 6},
            ],
        },
    }
    assert cp.profiles.set(0, ChargingProfile.from_ocpp(step), START) == "Accepted"
    await cp.run(until=START + timedelta(minutes=70))
    [start] = central.of("StartTransaction")
    [stop] = central.of("StopTransaction")
    seconds = (instant(stop["timestamp"]) - instant(start["timestamp"])).total_seconds()
    expected_wh = (6900 * 1001 + 4140 * (seconds - 1001)) / 3600
    assert stop["meter_stop"] == pytest.approx(expected_wh, abs=1.5)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
