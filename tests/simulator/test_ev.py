"""EV models and the tapering battery."""

import pytest

from simulator.composite import Limit
from simulator.ev import EV, MIN_CURRENT_A, EVModel, load_ev_models, phases_for, taper_factor

V = 230.0
MODEL = EVModel("Test", battery_kwh=50.0, max_ac_kw=11.0, phases=3, registrations=1)


def test_thirteen_models_with_sensible_specs() -> None:
    models = load_ev_models()
    assert len(models) == 13
    assert {m.name for m in models} >= {"Tesla Model 3", "Renault Zoe", "Nissan Leaf"}
    for model in models:
        assert 20 <= model.battery_kwh <= 120
        assert 3 <= model.max_ac_kw <= 22
        assert model.registrations > 0
    assert phases_for(3.6) == phases_for(7.4) == 1
    assert phases_for(11) == phases_for(22) == 3


def test_taper_is_flat_to_80_percent_then_linear_to_a_tenth() -> None:
    assert taper_factor(0.1) == taper_factor(0.8) == 1.0
    assert taper_factor(0.9) == pytest.approx(0.55)
    assert taper_factor(0.9999) == pytest.approx(0.1, abs=0.001)
    assert taper_factor(1.0) == 0.0


def test_a_tapering_ev_may_draw_below_six_amps_itself() -> None:
    ev = EV(MODEL, soc=0.97)
    assert ev.power_w(Limit(32 * V * 3, 3), V) == pytest.approx(11000 * taper_factor(0.97))
    assert ev.power_w(Limit(32 * V * 3, 3), V) / (3 * V) < MIN_CURRENT_A


def test_ev_draws_the_minimum_of_its_own_maximum_and_the_limit() -> None:
    ev = EV(MODEL, soc=0.2)
    assert ev.power_w(Limit(32 * V * 3, 3), V) == pytest.approx(11000)
    assert ev.power_w(Limit(10 * V * 3, 3), V) == pytest.approx(6900)
    assert ev.power_w(Limit(5000, 3), V) == pytest.approx(5000)
    assert ev.power_w(Limit((MIN_CURRENT_A - 0.1) * V * 3, 3), V) == 0.0
    # A single-phase limit leaves a three-phase EV one phase.
    assert ev.power_w(Limit(12 * V, 1), V) == pytest.approx(12 * V)


def test_single_phase_ev_takes_its_current_on_one_phase() -> None:
    leaf = EV(EVModel("Leaf", 39, 3.6, 1, 1), soc=0.3)
    assert leaf.power_w(Limit(32 * V * 3, 3), V) == pytest.approx(3600)
    assert leaf.phases_used(Limit(32 * V * 3, 3)) == 1


def test_charging_tapers_and_stops_at_the_target() -> None:
    ev = EV(MODEL, soc=0.7, target_soc=1.0)
    powers = []
    for _ in range(4 * 60 * 6):  # 6 hours in 15 s steps
        power = ev.power_w(Limit(32 * V * 3, 3), V)
        powers.append(power)
        ev.charge(power, 15)
    assert powers[0] == pytest.approx(11000)
    assert max(powers[1:]) <= 11000
    assert min(p for p in powers if p > 0) < 0.15 * 11000  # tapered to about a tenth
    assert ev.full
    assert powers == sorted(powers, reverse=True)
    assert ev.soc == pytest.approx(1.0, abs=0.002)
    assert ev.energy_kwh == pytest.approx(15.0, abs=0.1)


def test_charge_never_overshoots_the_target() -> None:
    ev = EV(MODEL, soc=0.5, target_soc=0.6)
    assert ev.charge(11000, 3600) == pytest.approx(5.0)
    assert ev.full
    assert ev.max_power_w() == 0.0
