"""The time an EV's taper adds to its last kWh, and the battery worked out from its meter (pure)."""

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.events import MeterSample
from app.services.planning.learning import EvTrace, LearningRule, learn
from app.services.planning.taper import TaperModel, taper_hours

T0 = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)
MODEL = TaperModel(start_soc=0.8, end_factor=0.1)


def test_no_taper_below_its_start() -> None:
    assert taper_hours(0.2, 60.0, 30.0, 11.0, MODEL) == 0.0  # 20 % → 70 %: flat all the way
    assert taper_hours(0.5, 60.0, 0.0, 11.0, MODEL) == 0.0
    assert taper_hours(0.5, 0.0, 10.0, 11.0, MODEL) == 0.0  # no battery known: nothing to say


def test_the_tail_takes_longer_than_a_flat_plan_by_the_integral_of_the_taper() -> None:
    # 80 % → 100 % of 60 kWh at 11 kW: 12 kWh, at a power falling linearly to a tenth
    extra = taper_hours(0.8, 60.0, 12.0, 11.0, MODEL)
    slope = 0.9 / 0.2
    expected = 60.0 / 11.0 * (1 / slope) * (-__import__("math").log(0.1)) - 12.0 / 11.0
    assert extra == pytest.approx(expected)
    assert extra > 1.0  # more than an hour beyond the 1.1 h a flat plan assumes


def test_an_ev_already_in_its_taper_is_measured_from_what_it_takes_now() -> None:
    # at 90 % it takes 55 % of its 11 kW: the same remaining tail, from either end
    from_now = taper_hours(0.9, 60.0, 5.4, 11.0 * MODEL.factor(0.9), MODEL)
    whole = MODEL.hours_per_kw(0.9, 0.99, 60.0) / 11.0
    assert from_now == pytest.approx(whole - 5.4 / (11.0 * MODEL.factor(0.9)))
    assert from_now > 0


def test_more_energy_than_the_battery_holds_stops_at_full() -> None:
    assert taper_hours(0.9, 60.0, 100.0, 11.0, MODEL) == 0.0  # what a flat plan assumes is longer already


def soc_sample(minute: int, soc: float, wh: float, kw: float = 11.0) -> MeterSample:
    return MeterSample(T0 + timedelta(minutes=minute), power_w=kw * 1000, energy_wh=wh, soc_percent=soc)


def test_the_battery_is_worked_out_once_the_soc_has_risen_enough() -> None:
    trace, rule = EvTrace(), LearningRule(soc_span=0.05)
    assert not learn(trace, rule, 11.0, soc_sample(0, 40, 1_000))
    assert not learn(trace, rule, 11.0, soc_sample(5, 43, 2_800))  # 3 points: too few to say
    assert trace.battery_kwh is None
    assert learn(trace, rule, 11.0, soc_sample(10, 46, 4_600))  # news: planning may use it
    assert trace.battery_kwh == pytest.approx(3.6 / 0.06)
    assert trace.soc_last == (0.46, 4_600)
    assert not learn(trace, rule, 11.0, soc_sample(15, 49, 6_400))
    assert trace.soc_last == (0.49, 6_400)  # followed, the battery kept


def test_samples_without_soc_or_with_nonsense_teach_nothing_about_the_battery() -> None:
    trace = EvTrace()
    learn(trace, LearningRule(), 11.0, MeterSample(T0, power_w=11_000, energy_wh=1_000))
    learn(trace, LearningRule(), 11.0, soc_sample(5, 140, 2_000))
    assert trace.soc_first is None
    assert trace.battery_kwh is None
