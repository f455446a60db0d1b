"""Charging sessions sampled from ElaadNL statistics (see simulator/data/PROVENANCE.md).

- arrivals: a Poisson process per 15-minute slot, shaped by the weekday or weekend arrival shares of the
  location (no workplace arrivals at weekends);
- connection time: for `public`, conditional on the arrival hour (`time_of_connection_vs_hour.npy`, half-hour
  bins); for `home` and `workplace`, the location's percentile table;
- energy demand (kWh): the location's percentile table, at most what the sampled EV's battery holds;
- EV model: weighted by Dutch registrations.

Everything draws from one seeded `numpy.random.Generator`, so a seed gives the same sessions every run.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property
from importlib import resources

import numpy as np
import pandas as pd

from simulator.ev import EVModel, load_ev_models

SLOT = timedelta(minutes=15)
MIN_CONNECTION_H = 0.25
MIN_ENERGY_KWH = 1.0
MIN_INITIAL_SOC = 0.05


class Location(StrEnum):
    home = "home"
    public = "public"
    workplace = "workplace"


_COLUMN = {Location.home: "private", Location.public: "public", Location.workplace: "workplace"}


@dataclass(frozen=True)
class SessionPlan:
    """One EV visit to a connector."""

    arrival: datetime
    departure: datetime
    energy_kwh: float
    ev: EVModel
    initial_soc: float

    @property
    def target_soc(self) -> float:
        return min(1.0, self.initial_soc + self.energy_kwh / self.ev.battery_kwh)


@dataclass(frozen=True)
class ElaadData:
    arrival_weekday: pd.DataFrame  # 96 slots × private/public/workplace, shares summing to 100
    arrival_weekend: pd.DataFrame  # 96 slots × private/public
    connection_by_hour: np.ndarray  # 24 × 48: P(connection in half-hour bin | arrival hour)
    connection_percentiles: pd.DataFrame  # 101 rows: hours that p % of sessions reach or exceed
    energy_percentiles: pd.DataFrame  # 101 rows: kWh that p % of sessions reach or exceed
    ev_models: tuple[EVModel, ...]

    @classmethod
    def load(cls) -> "ElaadData":
        files = resources.files("simulator").joinpath("data")

        def csv(name: str) -> pd.DataFrame:
            with files.joinpath(name).open("rb") as handle:
                return pd.read_csv(handle, encoding="utf-8-sig")

        with files.joinpath("time_of_connection_vs_hour.npy").open("rb") as handle:
            by_hour = np.load(handle)
        return cls(
            arrival_weekday=csv("distribution-of-arrival.csv"),
            arrival_weekend=csv("distribution-of-arrival-weekend.csv"),
            connection_by_hour=by_hour,
            connection_percentiles=csv("distribution-of-connection-time.csv"),
            energy_percentiles=csv("distribution-of-energy-demand.csv"),
            ev_models=load_ev_models(),
        )

    def arrival_shares(self, location: Location, weekend: bool) -> np.ndarray:
        """Share of a day's arrivals per 15-minute slot (sums to 1; zeros where the data has none)."""
        return self._shares[(location, weekend)]

    @cached_property
    def _shares(self) -> dict[tuple[Location, bool], np.ndarray]:
        return {
            (loc, weekend): self._arrival_shares(loc, weekend)
            for loc in Location
            for weekend in (False, True)
        }

    def _arrival_shares(self, location: Location, weekend: bool) -> np.ndarray:
        table = self.arrival_weekend if weekend else self.arrival_weekday
        column = _COLUMN[location]
        if column not in table:
            return np.zeros(len(table))
        values: np.ndarray = table[column].to_numpy(dtype=float)
        return np.asarray(values / float(values.sum()))


class SessionSampler:
    """Draws sessions for one kind of location; reproducible for a given `rng` seed."""

    def __init__(self, data: ElaadData, location: Location, rng: np.random.Generator):
        self.data = data
        self.location = location
        self.rng = rng
        weights = np.array([m.registrations for m in data.ev_models], dtype=float)
        self._ev_weights = weights / weights.sum()
        self._percent = data.connection_percentiles.iloc[:, 0].to_numpy(dtype=float)

    def arrivals(self, start: datetime, end: datetime, sessions_per_day: float) -> list[datetime]:
        """Arrival instants in [start, end): per slot, Poisson(sessions_per_day × share), uniform inside."""
        out: list[datetime] = []
        slot_start = start.replace(minute=start.minute - start.minute % 15, second=0, microsecond=0)
        while slot_start < end:
            index = slot_start.hour * 4 + slot_start.minute // 15
            shares = self.data.arrival_shares(self.location, slot_start.weekday() >= 5)
            count = int(self.rng.poisson(sessions_per_day * shares[index]))
            offsets = np.sort(self.rng.uniform(0, SLOT.total_seconds(), count))
            for offset in offsets:
                moment = slot_start + timedelta(seconds=float(offset))
                if start <= moment < end:
                    out.append(moment)
            slot_start += SLOT
        return out

    def connection_hours(self, arrival: datetime) -> float:
        if self.location == Location.public:
            probabilities = self.data.connection_by_hour[arrival.hour]
            bin_ = int(self.rng.choice(len(probabilities), p=probabilities / probabilities.sum()))
            hours = (bin_ + float(self.rng.uniform())) * 0.5
        else:
            hours = self._from_percentiles(self.data.connection_percentiles[_COLUMN[self.location]])
        return max(MIN_CONNECTION_H, hours)

    def energy_kwh(self) -> float:
        return max(
            MIN_ENERGY_KWH, self._from_percentiles(self.data.energy_percentiles[_COLUMN[self.location]])
        )

    def ev_model(self) -> EVModel:
        return self.data.ev_models[int(self.rng.choice(len(self.data.ev_models), p=self._ev_weights))]

    def session(self, arrival: datetime) -> SessionPlan:
        ev = self.ev_model()
        hours = self.connection_hours(arrival)
        energy = min(self.energy_kwh(), ev.battery_kwh * (1 - MIN_INITIAL_SOC))
        initial_soc = max(MIN_INITIAL_SOC, 1 - energy / ev.battery_kwh)
        return SessionPlan(arrival, arrival + timedelta(hours=hours), energy, ev, initial_soc)

    def plan(
        self,
        start: datetime,
        end: datetime,
        sessions_per_day: float,
        turnover: timedelta = timedelta(minutes=5),
    ) -> list[SessionPlan]:
        """Non-overlapping sessions for one connector: arrivals while it is occupied go elsewhere."""
        plans: list[SessionPlan] = []
        free_at = start
        for arrival in self.arrivals(start, end, sessions_per_day):
            if arrival < free_at:
                continue
            session = self.session(arrival)
            plans.append(session)
            free_at = session.departure + turnover
        return plans

    def _from_percentiles(self, column: pd.Series) -> float:
        """Inverse of the exceedance table: a uniform percentage, interpolated between the rows."""
        percent = float(self.rng.uniform(0, 100))
        return float(np.interp(percent, self._percent, column.to_numpy(dtype=float)))
