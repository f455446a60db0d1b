from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocpp_gateway.profiles import (
    ChargerCapabilities,
    floor_tenth,
    interval_limits_kw,
    limit_to_power_kw,
    power_to_limit,
    tx_profile,
)
from optimizer import compress_periods

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _limits_per_interval(profile: dict, n: int, interval_min: int) -> list[float]:
    periods = profile["chargingSchedule"]["chargingSchedulePeriod"]
    out = []
    for i in range(n):
        second = i * interval_min * 60
        out.append([p["limit"] for p in periods if p["startPeriod"] <= second][-1])
    return out


def test_floor_tenth_never_rounds_up() -> None:
    assert floor_tenth(16.09) == 16.0
    assert floor_tenth(16.1) == 16.1
    assert floor_tenth(0.3) == 0.3
    assert floor_tenth(-1.0) == 0.0


def test_amps_per_phase_from_kw() -> None:
    caps = ChargerCapabilities(rate_units=("A",), phases=3, voltage_v=230)
    profile = tx_profile(
        profile_id=7,
        transaction_id=42,
        start=START,
        interval_min=15,
        power_kw=[11.0, 11.0, 0.0],
        caps=caps,
        stack_level=1,
        compress=compress_periods,
    )
    schedule = profile["chargingSchedule"]
    assert schedule["chargingRateUnit"] == "A"
    assert schedule["startSchedule"] == "2026-11-26T12:00:00Z"
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 15.9, "numberPhases": 3},
        {"startPeriod": 1800, "limit": 0.0, "numberPhases": 3},
    ]
    assert profile["transactionId"] == 42
    assert profile["chargingProfilePurpose"] == "TxProfile"


def test_watts_when_the_charger_only_takes_power() -> None:
    caps = ChargerCapabilities.from_configuration(
        {"ChargingScheduleAllowedChargingRateUnit": "Power", "ChargingScheduleMaxPeriods": "5"},
        phases=1,
        voltage_v=230,
    )
    assert caps.rate_unit == "W"
    assert caps.max_periods == 5
    profile = tx_profile(
        profile_id=1,
        transaction_id=1,
        start=START,
        interval_min=15,
        power_kw=[3.7],
        caps=caps,
        stack_level=99,
        compress=compress_periods,
    )
    assert profile["chargingSchedule"]["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 3700.0}]
    assert profile["stackLevel"] == caps.max_stack_level


@settings(max_examples=200, deadline=None)
@given(
    power=st.lists(st.floats(min_value=0, max_value=22, allow_nan=False), min_size=1, max_size=96),
    max_periods=st.integers(min_value=1, max_value=30),
    phases=st.sampled_from([1, 3]),
    unit=st.sampled_from(["A", "W"]),
)
def test_profile_never_above_plan_and_within_max_periods(
    power: list[float], max_periods: int, phases: int, unit: str
) -> None:
    caps = ChargerCapabilities(
        rate_units=(unit,),
        max_periods=max_periods,
        phases=phases,
        voltage_v=230,  # type: ignore[arg-type]
    )
    profile = tx_profile(
        profile_id=1,
        transaction_id=1,
        start=START,
        interval_min=15,
        power_kw=power,
        caps=caps,
        stack_level=0,
        compress=compress_periods,
    )
    periods = profile["chargingSchedule"]["chargingSchedulePeriod"]
    assert periods[0]["startPeriod"] == 0
    assert len(periods) <= max_periods
    for planned_kw, limit in zip(power, _limits_per_interval(profile, len(power), 15), strict=True):
        assert limit_to_power_kw(limit, caps.rate_unit, phases, caps.voltage_v) <= planned_kw + 1e-9
        assert limit == pytest.approx(round(limit, 1))


def test_a_limit_is_zero_or_at_least_the_minimum() -> None:
    amps = ChargerCapabilities(rate_units=("A",), phases=3, voltage_v=230)
    at_minimum_kw = 6 * 3 * 230 / 1000
    assert power_to_limit(at_minimum_kw * (1 - 1e-9), amps, 6.0) == 6.0  # rounding does not take it below
    assert power_to_limit(at_minimum_kw * 0.9, amps, 6.0) == 0.0  # a pause, as the EV would take it
    assert power_to_limit(at_minimum_kw * 2, amps, 6.0) == 12.0
    watts = ChargerCapabilities(rate_units=("W",), phases=1, voltage_v=230)
    assert power_to_limit(1.0, watts, 6.0) == 0.0
    assert power_to_limit(1.38, watts, 6.0) == 1380.0


def test_a_tx_profile_states_its_minimum_and_keeps_every_period_at_0_or_above_it() -> None:
    caps = ChargerCapabilities(rate_units=("A",), phases=3, voltage_v=230, max_periods=3)
    minimum_kw = 6 * 3 * 230 / 1000
    profile = tx_profile(
        profile_id=7,
        transaction_id=42,
        start=START,
        interval_min=15,
        power_kw=[minimum_kw, 0.0, minimum_kw * 1.5, minimum_kw, 0.0, 11.0],
        caps=caps,
        stack_level=1,
        compress=compress_periods,
        min_current_a=6.0,
    )
    schedule = profile["chargingSchedule"]
    assert schedule["minChargingRate"] == 6.0
    assert len(schedule["chargingSchedulePeriod"]) <= 3
    assert all(p["limit"] == 0 or p["limit"] >= 6.0 for p in schedule["chargingSchedulePeriod"])


def test_the_limits_sent_per_interval_in_kw() -> None:
    caps = ChargerCapabilities(rate_units=("A",), phases=1, voltage_v=230, max_periods=2)
    profile = tx_profile(
        profile_id=1,
        transaction_id=1,
        start=START,
        interval_min=15,
        power_kw=[3.68, 3.68, 2.0, 7.36],
        caps=caps,
        stack_level=1,
        compress=compress_periods,
        min_current_a=6.0,
    )
    limits = interval_limits_kw(profile, 4, 15, caps)
    assert len(limits) == 4
    assert all(sent <= planned + 1e-9 for sent, planned in zip(limits, [3.68, 3.68, 2.0, 7.36], strict=True))
    assert limits[3] == pytest.approx(7.36)  # (the first three merged at the lowest)
