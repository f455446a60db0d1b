"""What a simulated charge point counts: messages, errors, profiles, and one record per EV visit."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from simulator.composite import ChargingProfile
from simulator.refusal import Refusal

INTERVAL_S = 900  # energy is accounted per 15 minutes, aligned to the hour


def split_by_interval(
    start: datetime, end: datetime, interval_s: int = INTERVAL_S
) -> list[tuple[datetime, float]]:
    """The share of [start, end) that falls in each aligned interval, as (interval start, fraction)."""
    total_s = (end - start).total_seconds()
    if total_s <= 0:
        return []
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    out = []
    moment = start
    while moment < end:
        index = (moment - epoch).total_seconds() // interval_s
        begin = epoch + timedelta(seconds=index * interval_s)
        stop = min(end, begin + timedelta(seconds=interval_s))
        out.append((begin, (stop - moment).total_seconds() / total_s))
        moment = stop
    return out


@dataclass
class SessionResult:
    charge_point_id: str
    connector_id: int
    ev_model: str
    id_tag: str
    arrival: datetime
    departure: datetime
    requested_kwh: float
    delivered_kwh: float = 0.0
    transaction_id: int | None = None
    authorized: bool = True
    authorization: str | None = None  # the idTagInfo status Authorize was answered (None: not asked)
    stop_reason: str | None = None
    # the truth about the EV and the connector, for analysis (what a central system never learns directly)
    initial_soc: float = 0.0
    battery_kwh: float = 0.0
    ev_max_kw: float = 0.0
    ev_phases: int = 3
    voltage_v: float = 230.0
    connector_max_current_a: float = 32.0
    connector_phases: int = 3


@dataclass(frozen=True)
class ProfileReceived:
    """A SetChargingProfile as the charge point took it (kept with the journal)."""

    at: datetime
    connector_id: int
    purpose: str
    stack_level: int
    unit: str  # A or W
    limits: tuple[float, ...]  # the schedule's periods' limits, in order
    status: str

    def __str__(self) -> str:
        limits = " → ".join(f"{limit:g}" for limit in self.limits)
        return (
            f"{self.at:%H:%M:%S} connector {self.connector_id}: {self.purpose} (stack {self.stack_level}) "
            f"{limits} {self.unit}: {self.status}"
        )


@dataclass
class ChargePointStats:
    sent: Counter[str] = field(default_factory=Counter)
    call_errors: int = 0
    timeouts: int = 0
    received: Counter[str] = field(default_factory=Counter)
    profiles_received: int = 0
    profiles_accepted: int = 0
    connects: int = 0
    boots_accepted: int = 0
    turned_away: int = 0
    missed: int = 0  # visits not played: the clock passed them, or the run ended first (a slow machine)
    clock_skew_s: float | None = None  # central system's time − ours, from the last BootNotification.conf
    boot_status: str | None = None  # the last BootNotification.conf's status
    refusals: int = 0  # connection attempts that failed before the WebSocket opened (or without ocpp1.6)
    refusal: Refusal | None = None  # the last of them: its HTTP status, what it means, what to do
    journal: list[tuple[str, str, dict[str, Any]]] | None = (
        None  # (message id, action, payload) of every CALL
    )
    profiles: list[ProfileReceived] | None = None  # every SetChargingProfile, kept with the journal
    sessions: list[SessionResult] = field(default_factory=list)
    energy_wh_by_interval: defaultdict[datetime, float] = field(default_factory=lambda: defaultdict(float))

    def add_energy(self, start: datetime, end: datetime, energy_wh: float) -> None:
        """Energy drawn at a constant power over [start, end), accounted per 15-minute interval."""
        for interval, fraction in split_by_interval(start, end):
            self.energy_wh_by_interval[interval] += energy_wh * fraction

    def profile_received(
        self, at: datetime, connector_id: int, profile: ChargingProfile | None, status: str
    ) -> None:
        """Keep a SetChargingProfile (`profile` None: it could not be read) when the journal is on."""
        if self.profiles is None:
            return
        unit = "A" if profile is not None and profile.schedule.unit == "A" else "W"
        self.profiles.append(
            ProfileReceived(
                at,
                connector_id,
                str(profile.purpose) if profile is not None else "unreadable profile",
                profile.stack_level if profile is not None else 0,
                unit,
                tuple(p.limit for p in profile.schedule.periods) if profile is not None else (),
                str(status),
            )
        )

    def refused(self, refusal: Refusal) -> None:
        self.refusals += 1
        self.refusal = refusal

    @property
    def messages_sent(self) -> int:
        return sum(self.sent.values())
