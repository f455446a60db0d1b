"""N simulated charge points run concurrently against one central system, and what they add up to."""

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from simulator.charge_point import ChargePointSpec, SimulatedChargePoint
from simulator.clock import Clock
from simulator.dataset import ElaadData, Location, SessionPlan, SessionSampler
from simulator.link import Timing
from simulator.stats import INTERVAL_S, SessionResult

SESSIONS_PER_DAY = {Location.public: 3.0, Location.workplace: 1.5, Location.home: 1.2}  # per connector


@dataclass(frozen=True)
class FleetConfig:
    url: str
    site: str = "demo"
    charge_points: int = 10
    connectors: int = 2
    location: Location = Location.public
    duration_h: float = 24.0
    seed: int = 0
    # the simulated start of the fleet's day (default: the clock's now when the fleet is made); fixed, a seed
    # plays the same visits however long the set-up before took (visits already due start at once)
    start: datetime | None = None
    password: str | None = None
    sessions_per_day: float | None = None  # per connector; default by location
    max_current_a: float = 32.0
    id_tags: int | None = None  # size of the tag pool; default one per connector
    configuration: dict[str, str] = field(default_factory=dict)
    warm_start: bool = True  # EVs that arrived before the start and are still there begin plugged in
    # after the day (`duration_h`) no visit arrives; the fleet runs on until the last one has left, at most
    # this long: each visit gets its whole stay, not a stay cut at the end of the day
    run_out_h: float = 0.0
    validate_messages: bool = True  # schema-check outgoing CALLs (turn off to spare CPU in load tests)
    journal: bool = False  # keep every CALL sent (id, action, payload) in each charge point's stats
    ignore_limits: tuple[str, ...] = ()  # charge points that accept profiles but let EVs draw their maximum
    # play these charge point ids (registered in the central system) instead of `{site}-CP001…`; the fleet
    # is then these charge points, whatever `charge_points` says
    ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # the drivers' id tags (registered ones) instead of `{site}-TAG001…`

    def __post_init__(self) -> None:
        if self.ids:
            if len(set(self.ids)) != len(self.ids) or not all(self.ids):
                raise ValueError("ids must be distinct and not empty")
            object.__setattr__(self, "charge_points", len(self.ids))
        if self.charge_points < 1:
            raise ValueError("charge_points must be at least 1")
        if self.connectors not in (1, 2):
            raise ValueError("a simulated charge point has 1 or 2 connectors")
        if self.duration_h <= 0:
            raise ValueError("duration_h must be positive")
        if self.run_out_h < 0:
            raise ValueError("run_out_h must not be negative")
        known = {self.charge_point_id(index) for index in range(self.charge_points)}
        if unknown := sorted(set(self.ignore_limits) - known):
            raise ValueError(f"ignore_limits: no such charge point in the fleet: {', '.join(unknown)}")

    def charge_point_id(self, index: int) -> str:
        return self.ids[index] if self.ids else f"{self.site}-CP{index + 1:03d}"

    def id_tag(self, index: int) -> str:
        return f"{self.site}-TAG{index + 1:03d}"


@dataclass
class FleetSummary:
    start: datetime
    end: datetime
    charge_points: int
    sessions: list[SessionResult]
    messages_sent: Counter[str]
    call_errors: int
    timeouts: int
    profiles_received: int
    profiles_accepted: int
    connects: int
    transaction_messages_dropped: int
    turned_away: int
    missed: int = 0  # visits the simulation could not play (see `ChargePointStats.missed`)
    energy_wh_by_interval: dict[datetime, float] = field(default_factory=dict)
    max_clock_skew_s: float | None = None  # largest |central system time − ours| seen at a boot
    refusals: dict[str, str] = field(default_factory=dict)  # charge point → why its last attempt failed

    @property
    def site_power_kw(self) -> dict[datetime, float]:
        """Mean power of the whole fleet per 15-minute interval: what the grid connection sees."""
        hours = INTERVAL_S / 3600
        return {start: wh / 1000 / hours for start, wh in sorted(self.energy_wh_by_interval.items())}

    @property
    def peak_kw(self) -> float:
        return max(self.site_power_kw.values(), default=0.0)

    @property
    def requested_kwh(self) -> float:
        return sum(s.requested_kwh for s in self.sessions)

    @property
    def delivered_kwh(self) -> float:
        return sum(s.delivered_kwh for s in self.sessions)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"], data["end"] = self.start.isoformat(), self.end.isoformat()
        data["messages_sent"] = dict(self.messages_sent)
        data["requested_kwh"], data["delivered_kwh"] = self.requested_kwh, self.delivered_kwh
        data["energy_wh_by_interval"] = {
            k.isoformat(): v for k, v in sorted(self.energy_wh_by_interval.items())
        }
        data["site_power_kw"] = {k.isoformat(): v for k, v in self.site_power_kw.items()}
        data["peak_kw"] = self.peak_kw
        for session in data["sessions"]:
            session["arrival"] = session["arrival"].isoformat()
            session["departure"] = session["departure"].isoformat()
        return data


class Fleet:
    """Charge points `{site}-CP001…`, id tags `{site}-TAG001…`, sessions drawn per connector from `seed`."""

    def __init__(
        self, config: FleetConfig, clock: Clock, data: ElaadData | None = None, timing: Timing | None = None
    ):
        self.config = config
        self.clock = clock
        self.start = config.start or clock.now()
        self.end = self.start + timedelta(hours=config.duration_h)
        data = data or ElaadData.load()
        seeds = np.random.SeedSequence(config.seed).spawn(config.charge_points + 1)
        tag_rng = np.random.default_rng(seeds[-1])
        pool = list(config.tags) or [
            config.id_tag(k) for k in range(config.id_tags or config.charge_points * config.connectors)
        ]

        def next_tag() -> str:
            return pool[int(tag_rng.integers(len(pool)))]

        self.charge_points: list[SimulatedChargePoint] = []
        for index in range(config.charge_points):
            connector_seeds = seeds[index].spawn(config.connectors)
            plans = {
                n + 1: self._plan(
                    SessionSampler(data, config.location, np.random.default_rng(connector_seeds[n]))
                )
                for n in range(config.connectors)
            }
            spec = ChargePointSpec(
                config.charge_point_id(index),
                connectors=config.connectors,
                max_current_a=config.max_current_a,
                password=config.password,
                ignores_limits=config.charge_point_id(index) in config.ignore_limits,
            )
            self.charge_points.append(
                SimulatedChargePoint(
                    spec,
                    config.url,
                    clock,
                    plans,
                    id_tags=next_tag,
                    timing=timing,
                    configuration=config.configuration,
                    seed=int(seeds[index].generate_state(1)[0]),
                    validate_messages=config.validate_messages,
                    journal=config.journal,
                )
            )

        last = max((plan.departure for plans in self.plans() for plan in plans), default=self.end)
        self.end = min(max(self.end, last), self.end + timedelta(hours=config.run_out_h))

    def plans(self) -> list[list[SessionPlan]]:
        """Each connector's visits."""
        return [c.plans for cp in self.charge_points for c in cp.connectors.values()]

    def _plan(self, sampler: SessionSampler) -> list[SessionPlan]:
        """Visits to one connector; with `warm_start`, those that began in the day before and are still
        there at the start are plugged in at the start (with the energy they still want)."""
        per_day = self.config.sessions_per_day or SESSIONS_PER_DAY[self.config.location]
        if not self.config.warm_start:
            return sampler.plan(self.start, self.end, per_day)
        plans = sampler.plan(self.start - timedelta(days=1), self.end, per_day)
        return [
            replace(plan, arrival=max(plan.arrival, self.start))
            for plan in plans
            if plan.departure > self.start + timedelta(minutes=5)
        ]

    @property
    def planned_sessions(self) -> int:
        return sum(len(plans) for plans in self.plans())

    def summary(self) -> FleetSummary:
        sent: Counter[str] = Counter()
        for cp in self.charge_points:
            sent.update(cp.stats.sent)
        stats = [cp.stats for cp in self.charge_points]
        energy: dict[datetime, float] = {}
        for st in stats:
            for interval, wh in st.energy_wh_by_interval.items():
                energy[interval] = energy.get(interval, 0.0) + wh
        return FleetSummary(
            start=self.start,
            end=self.end,
            charge_points=len(self.charge_points),
            sessions=[s for st in stats for s in st.sessions],
            messages_sent=sent,
            call_errors=sum(s.call_errors for s in stats),
            timeouts=sum(s.timeouts for s in stats),
            profiles_received=sum(s.profiles_received for s in stats),
            profiles_accepted=sum(s.profiles_accepted for s in stats),
            connects=sum(s.connects for s in stats),
            transaction_messages_dropped=sum(cp.outbox.stats.dropped for cp in self.charge_points),
            turned_away=sum(s.turned_away for s in stats),
            missed=sum(s.missed for s in stats),
            energy_wh_by_interval=energy,
            max_clock_skew_s=max(
                (abs(s.clock_skew_s) for s in stats if s.clock_skew_s is not None), default=None
            ),
            refusals={cp.id: str(cp.stats.refusal) for cp in self.charge_points if cp.stats.refusal},
        )

    def refused(self) -> bool:
        """No charge point has connected, and each was refused (or could not reach the central system)."""
        return all(cp.stats.connects == 0 and cp.stats.refusal is not None for cp in self.charge_points)

    def progress(self) -> dict[str, float]:
        """A snapshot for a live display."""
        now = self.clock.now()
        total_s = (self.end - self.start).total_seconds()
        return {
            "fraction": min(1.0, max(0.0, (now - self.start).total_seconds() / total_s)),
            "online": sum(cp.online for cp in self.charge_points),
            "charging": sum(c.power_w > 0 for cp in self.charge_points for c in cp.connectors.values()),
            "power_kw": sum(c.power_w for cp in self.charge_points for c in cp.connectors.values()) / 1000,
            "sessions": sum(len(cp.stats.sessions) for cp in self.charge_points),
            "messages": sum(cp.stats.messages_sent for cp in self.charge_points),
            "call_errors": sum(cp.stats.call_errors for cp in self.charge_points),
            "profiles": sum(cp.stats.profiles_received for cp in self.charge_points),
            "queued": sum(len(cp.outbox) for cp in self.charge_points),
        }

    async def run(
        self,
        on_progress: Callable[[dict[str, float]], None] | None = None,
        every_real_s: float = 0.5,
        drain_timeout_real_s: float = 10.0,
        give_up_when_refused: bool = False,
    ) -> FleetSummary:
        """Run every charge point until the end of the simulated period; then report. With
        `give_up_when_refused`, end early when every charge point's first attempts were refused."""
        runs = [
            asyncio.create_task(cp.run(self.end, drain_timeout_real_s), name=cp.id)
            for cp in self.charge_points
        ]
        try:
            while not all(run.done() for run in runs):
                if give_up_when_refused and self.refused():
                    break
                if on_progress is not None:
                    on_progress(self.progress())
                await asyncio.wait(runs, timeout=every_real_s)
        finally:
            for run in runs:
                run.cancel()
            await asyncio.gather(*runs, return_exceptions=True)
        for run in runs:
            if not run.cancelled() and run.exception() is not None:
                raise RuntimeError(f"charge point {run.get_name()} failed") from run.exception()
        if on_progress is not None:
            on_progress(self.progress())
        return self.summary()
