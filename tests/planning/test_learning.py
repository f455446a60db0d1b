"""What an EV has shown it can draw, learnt from meter samples (pure)."""

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.events import MeterSample
from app.services.planning.learning import DRAWING_KW, EvTrace, LearningRule, learn

T0 = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)
RULE = LearningRule()


def sample(kw: float, minute: int = 0, phases: int | None = None) -> MeterSample:
    return MeterSample(T0 + timedelta(minutes=minute), power_w=kw * 1000, phases=phases)


def test_phases_in_use_are_learnt_while_it_draws() -> None:
    trace = EvTrace()
    assert learn(trace, RULE, 11.0, sample(3.7, phases=1))
    assert trace.phases == 1
    assert not learn(trace, RULE, 3.7, sample(3.6, 5, phases=1))  # no news


def test_an_ev_below_its_allocation_has_a_ceiling_that_follows_its_taper_down() -> None:
    trace = EvTrace()
    assert learn(trace, RULE, 22.0, sample(11.0))  # an 11 kW on-board charger on a 22 kW connector
    assert trace.ceiling_kw == pytest.approx(11.55)
    assert not learn(trace, RULE, 11.55, sample(11.0, 5))  # at its own maximum, within the margin: stable
    assert not learn(trace, RULE, 11.55, sample(10.5, 10))  # a little less: no news
    assert learn(trace, RULE, 11.55, sample(6.0, 15))  # tapering: the ceiling follows
    assert trace.ceiling_kw == pytest.approx(6.3)


def test_an_ev_that_takes_all_of_its_ceiling_is_offered_more() -> None:
    trace = EvTrace(ceiling_kw=6.6)
    assert not learn(trace, RULE, 6.6, sample(6.6))
    assert learn(trace, RULE, 6.6, sample(6.6, 5))  # twice at the limit we set: it may take more
    assert trace.ceiling_kw is None
    assert not learn(trace, RULE, 4.0, sample(4.0, 10))  # capacity limits it, not its ceiling: no probe


def test_an_ev_that_draws_nothing_when_offered_is_idle_for_a_while_then_offered_again() -> None:
    trace = EvTrace(ceiling_kw=7.0)
    assert not learn(trace, RULE, 4.14, sample(0.0))
    assert learn(trace, RULE, 4.14, sample(0.0, 5))
    assert trace.ceiling_at(T0 + timedelta(minutes=30)) == 0.0
    assert trace.ceiling_at(T0 + timedelta(minutes=5) + RULE.retry_idle) == DRAWING_KW  # its minimum
    assert learn(trace, RULE, 4.14, sample(4.1, 70))  # it draws again: no longer idle
    assert trace.idle_until is None
    assert trace.ceiling_at(T0 + timedelta(minutes=70)) == 7.0


def test_an_ev_idle_again_after_its_rest_rests_longer_each_time() -> None:
    trace = EvTrace()
    learn(trace, RULE, 4.14, sample(0.0))
    assert learn(trace, RULE, 4.14, sample(0.0, 5))
    first = trace.idle_until
    assert first == T0 + timedelta(minutes=5) + RULE.retry_idle
    after = int((first - T0).total_seconds() // 60)
    assert not learn(trace, RULE, 4.14, sample(0.0, after + 1))  # offered again: one sample is not enough
    assert trace.ceiling_at(T0 + timedelta(minutes=after + 1)) == DRAWING_KW  # offered its minimum
    assert learn(trace, RULE, 4.14, sample(0.0, after + 6))  # idle again: planned at 0, for twice as long
    assert trace.idle_until == T0 + timedelta(minutes=after + 6) + 2 * RULE.retry_idle
    for _ in range(4):  # never longer than the maximum rest
        until = trace.idle_until
        assert until is not None
        minute = int((until - T0).total_seconds() // 60)
        learn(trace, RULE, 4.14, sample(0.0, minute + 1))
        learn(trace, RULE, 4.14, sample(0.0, minute + 6))
    assert trace.idle_until == T0 + timedelta(minutes=minute + 6) + RULE.retry_idle_max
    assert learn(trace, RULE, 4.14, sample(4.1, minute + 6 + 300))  # it draws: the rests start over
    assert (trace.idle_until, trace.rests) == (None, 0)


def test_nothing_is_learnt_while_paused_or_without_a_power_reading() -> None:
    trace = EvTrace()
    assert not learn(trace, RULE, 0.0, sample(0.0))
    assert not learn(trace, RULE, 11.0, MeterSample(T0, energy_wh=1000))
    assert trace == EvTrace()
