"""The hindsight bound and the online rule on days small enough to work out by hand."""

from datetime import UTC, datetime, timedelta

import pytest

from app.demo.hindsight import INTERVAL, Visit, hindsight_bound, online_rule
from simulator.ev import EV, FULL_SOC, EVModel
from simulator.stats import SessionResult

T0 = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)


def visit(
    key: str, hours: float, energy_kwh: float, max_kw: float = 11.0, *, phases: int = 3, **values: float
) -> Visit:
    fields = {"battery_kwh": 60.0, "initial_soc": 0.2} | values
    return Visit(key, T0, T0 + timedelta(hours=hours), energy_kwh, max_kw, phases * 230 * 6 / 1000, **fields)


def capacity(kw: float, hours: float = 4) -> dict[datetime, float]:
    return {T0 + k * INTERVAL: kw for k in range(int(hours * 4))}


def test_one_ev_without_a_limit_gets_what_it_wants_or_what_it_can_take() -> None:
    assert hindsight_bound([visit("a", 2, 10)], capacity(100))["a"] == pytest.approx(10)
    assert hindsight_bound([visit("b", 1, 30)], capacity(100))["b"] == pytest.approx(11)
    assert online_rule([visit("a", 2, 10)], capacity(100))["a"] == pytest.approx(10)


def test_capacity_is_shared_and_never_exceeded() -> None:
    visits = [visit("a", 2, 30), visit("b", 2, 30)]
    bound = hindsight_bound(visits, capacity(12, hours=2))
    assert sum(bound.values()) == pytest.approx(24)
    online = online_rule(visits, capacity(12, hours=2))
    assert online["a"] == pytest.approx(22)  # earliest departure (a tie: by key) first, up to its 11 kW
    assert online["b"] == 0.0  # the 1 kW left is under its 6 A minimum


def test_the_online_rule_does_not_offer_less_than_6_a() -> None:
    three_phase = visit("a", 2, 30)
    assert online_rule([three_phase], capacity(3.0))["a"] == 0.0  # 3 kW < 6 A on three phases (4.14 kW)
    assert hindsight_bound([three_phase], capacity(3.0))["a"] == pytest.approx(6.0)  # the bound relaxes it
    one_phase = visit("b", 2, 30, max_kw=7.36, phases=1)
    assert online_rule([one_phase], capacity(3.0))["b"] == pytest.approx(6.0)  # 1.38 kW minimum on one phase


def test_a_nearly_full_battery_tapers() -> None:
    full = visit("a", 1, 5, initial_soc=0.9, battery_kwh=50.0)
    bound = hindsight_bound([full], capacity(100))["a"]
    online = online_rule([full], capacity(100))["a"]
    assert bound * 0.9 < online <= bound  # the bound reads the state of charge once an interval
    assert bound < 11 * 0.55  # the power factor starts at 0.55 and falls from there
    assert bound > 1.0


def test_a_visit_counts_only_the_time_it_is_plugged_in() -> None:
    late = Visit("a", T0 + timedelta(minutes=50), T0 + timedelta(minutes=80), 30, 11, 4.14, 60, 0.2)
    assert hindsight_bound([late], capacity(100))["a"] == pytest.approx(11 * 0.5)
    assert online_rule([late], capacity(100))["a"] == pytest.approx(11 * 0.5)


def test_a_visit_wants_what_the_simulated_ev_takes_before_it_counts_itself_full() -> None:
    def session(requested_kwh: float) -> SessionResult:
        return SessionResult(
            "CP1", 1, "Kia Niro", "TAG1", T0, T0 + timedelta(hours=8), requested_kwh,
            initial_soc=0.5, battery_kwh=60.0, ev_max_kw=11.0,
        )  # fmt: skip

    assert Visit.of(session(10.0)).energy_kwh == 10.0  # to 67 %: all of it
    to_full = Visit.of(session(30.0))  # to 100 %: the EV stops at FULL_SOC, the last 0.06 kWh never goes in
    assert to_full.energy_kwh == pytest.approx(60.0 * (FULL_SOC - 0.5))
    ev = EV(EVModel("Kia Niro", 60.0, 11.0, 3, 1), 0.5)
    while ev.max_power_w() > 0:  # as the simulator charges it: minute by minute, tapering
        ev.charge(ev.max_power_w(), 60)
    assert ev.energy_kwh == pytest.approx(to_full.energy_kwh, abs=0.02)  # to its last minute
