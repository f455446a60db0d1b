"""Sessions sampled from the ElaadNL statistics: reproducible and inside the data's ranges."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from simulator.dataset import MIN_CONNECTION_H, ElaadData, Location, SessionSampler

MONDAY = datetime(2024, 3, 4, tzinfo=UTC)


@pytest.fixture(scope="module")
def data() -> ElaadData:
    return ElaadData.load()


def test_shares_sum_to_one_and_no_workplace_weekend(data: ElaadData) -> None:
    for location in Location:
        assert data.arrival_shares(location, weekend=False).sum() == pytest.approx(1.0)
    assert data.arrival_shares(Location.workplace, weekend=True).sum() == 0.0
    assert data.connection_by_hour.shape == (24, 48)


@pytest.mark.parametrize("location", list(Location))
def test_same_seed_same_sessions(data: ElaadData, location: Location) -> None:
    def plan(seed: int) -> list[tuple[datetime, datetime, float, str]]:
        sampler = SessionSampler(data, location, np.random.default_rng(seed))
        return [
            (s.arrival, s.departure, s.energy_kwh, s.ev.name)
            for s in sampler.plan(MONDAY, MONDAY + timedelta(days=3), 4.0)
        ]

    assert plan(7) == plan(7)
    assert plan(7) != plan(8)
    assert len(plan(7)) > 0


@pytest.mark.parametrize("location", list(Location))
def test_sessions_stay_within_the_data(data: ElaadData, location: Location) -> None:
    sampler = SessionSampler(data, location, np.random.default_rng(1))
    column = {"home": "private", "public": "public", "workplace": "workplace"}[location]
    max_hours = max(MIN_CONNECTION_H, float(data.connection_percentiles[column].max()))
    if location == Location.public:
        max_hours = 24.0
    max_kwh = float(data.energy_percentiles[column].max())
    for _ in range(500):
        session = sampler.session(MONDAY + timedelta(hours=float(sampler.rng.uniform(0, 24))))
        hours = (session.departure - session.arrival).total_seconds() / 3600
        assert MIN_CONNECTION_H <= hours <= max_hours
        assert 1.0 <= session.energy_kwh <= max_kwh
        assert session.energy_kwh <= session.ev.battery_kwh
        assert 0.05 <= session.initial_soc < session.target_soc <= 1.0


def test_plans_do_not_overlap_and_follow_the_arrival_shape(data: ElaadData) -> None:
    sampler = SessionSampler(data, Location.workplace, np.random.default_rng(3))
    plans = sampler.plan(MONDAY, MONDAY + timedelta(days=7), 3.0)
    for before, after in zip(plans, plans[1:], strict=False):
        assert after.arrival >= before.departure
    assert all(p.arrival.weekday() < 5 for p in plans)  # no workplace arrivals at weekends

    many = SessionSampler(data, Location.workplace, np.random.default_rng(4))
    arrivals = many.arrivals(MONDAY, MONDAY + timedelta(days=5), 200.0)
    assert len(arrivals) == pytest.approx(1000, rel=0.15)
    morning = sum(7 <= a.hour < 10 for a in arrivals)
    night = sum(a.hour < 5 for a in arrivals)
    assert morning > 5 * night


def test_ev_models_follow_registrations(data: ElaadData) -> None:
    sampler = SessionSampler(data, Location.public, np.random.default_rng(5))
    names = [sampler.ev_model().name for _ in range(3000)]
    assert names.count("Tesla Model 3") > names.count("Volkswagen Golf")
