"""A scripted session: one simulated charge point connects, an EV plugs in on a connector, its driver's tag is
authorised, it charges under the limits the central system sends for a given stay (or until it is full),
the transaction stops, and the charge point says what happened.

It is the fleet's `SimulatedChargePoint` and its visit machinery with one visit, played once the charge point
is online; offline authorisation is off, so the tag is accepted or refused by the central system itself.
"""

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from simulator.charge_point import ChargePointSpec, SimulatedChargePoint
from simulator.clock import Clock
from simulator.dataset import SessionPlan
from simulator.ev import EVModel, load_ev_models
from simulator.link import Timing
from simulator.refusal import Refusal, not_booted
from simulator.stats import ProfileReceived, SessionResult

POLL_REAL_S = 0.05  # how often the connection's outcome is looked at while waiting for it


@dataclass(frozen=True)
class ScriptedSession:
    url: str  # the OCPP endpoint; the charge point id is appended
    charge_point_id: str
    id_tag: str
    minutes: float = 5.0  # simulated stay, plugged in
    energy_kwh: float = 20.0  # what the EV wants (it arrives at SoC 1 − energy / battery)
    connector_id: int = 1
    connectors: int = 2
    password: str | None = None
    max_current_a: float = 32.0
    connect_timeout_real_s: float = 30.0  # to be connected and booted, or the session is not played

    def __post_init__(self) -> None:
        if self.minutes <= 0:
            raise ValueError("minutes must be positive")
        if self.energy_kwh <= 0:
            raise ValueError("energy_kwh must be positive")
        if not 1 <= self.connector_id <= self.connectors:
            raise ValueError(f"connector_id must be between 1 and {self.connectors}")


@dataclass
class SessionReport:
    charge_point_id: str
    url: str
    refusal: Refusal | None = None  # set when the session could not be played
    session: SessionResult | None = None
    profiles_received: int = 0
    profiles_accepted: int = 0
    profiles: list[ProfileReceived] = field(default_factory=list)  # every SetChargingProfile, in order
    call_errors: int = 0

    @property
    def ok(self) -> bool:
        """Connected, authorised, and the central system gave the transaction an id."""
        return (
            self.session is not None and self.session.authorized and self.session.transaction_id is not None
        )


def most_registered(models: tuple[EVModel, ...]) -> EVModel:
    return max(models, key=lambda m: m.registrations)


async def _online(cp: SimulatedChargePoint, timeout_real_s: float) -> Refusal | None:
    """Wait until the charge point is connected and booted; otherwise why not."""
    async with asyncio.timeout(timeout_real_s):
        while not cp.online:
            if cp.stats.connects == 0 and cp.stats.refusal is not None:
                return cp.stats.refusal
            if cp.stats.boot_status in ("Pending", "Rejected"):
                return not_booted(cp.stats.boot_status, cp.id)
            await asyncio.sleep(POLL_REAL_S)
    return None


async def run_session(
    script: ScriptedSession, clock: Clock, ev: EVModel | None = None, drain_timeout_real_s: float = 10.0
) -> SessionReport:
    """Connect, play the one visit, stop; report it (a refusal when it could not be played)."""
    spec = ChargePointSpec(
        script.charge_point_id,
        connectors=script.connectors,
        max_current_a=script.max_current_a,
        password=script.password,
    )
    cp = SimulatedChargePoint(
        spec,
        script.url,
        clock,
        id_tags=lambda: script.id_tag,
        timing=Timing(finishing_s=5.0),
        configuration={"AllowOfflineTxForUnknownId": "false", "LocalAuthorizeOffline": "false"},
        journal=True,
    )
    report = SessionReport(script.charge_point_id, cp.link.url)
    cp.start()
    try:
        try:
            report.refusal = await _online(cp, script.connect_timeout_real_s)
        except TimeoutError:
            report.refusal = cp.stats.refusal or Refusal(
                None,
                f"not connected and booted after {script.connect_timeout_real_s:g} s",
                "check --url and the service's log",
            )
        if report.refusal is None:
            model = ev or most_registered(load_ev_models())
            energy_kwh = min(script.energy_kwh, 0.95 * model.battery_kwh)
            now = clock.now()
            plan = SessionPlan(
                now,
                now + timedelta(minutes=script.minutes),
                energy_kwh,
                model,
                1 - energy_kwh / model.battery_kwh,
            )
            report.session = await cp.play(script.connector_id, plan)
    finally:
        await cp.stop(drain_timeout_real_s)
    stats = cp.stats
    report.profiles_received, report.profiles_accepted = stats.profiles_received, stats.profiles_accepted
    report.call_errors = stats.call_errors
    report.profiles = list(stats.profiles or ())
    return report
