"""`smartcharge demo`: the service and a simulated fleet through an accelerated day, then what happened.

The service (API, OCPP server, scheduler) runs in this process under uvicorn on loopback, OS-assigned ports,
on the scaled clock the simulator shares. Everything the demo does to it goes through the HTTP API as an
operator and a grid operator would: a site, charge points, id tags, a forecast; what it reports comes back
through the API too (`/sites/{id}/load`, `/transactions`, `/commands`), set beside what the simulated charge
points measured.
"""

import asyncio
import contextlib
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from app.domain.clock import ScaledClock
from app.main import create_app
from app.settings import Settings, UnknownChargePoints
from simulator import Fleet, FleetConfig, FleetSummary, Location, run_with_display

INTERVAL = timedelta(minutes=15)
KW_PER_CONNECTOR = 230.0 * 3 * 32 / 1000  # a 32 A three-phase connector: 22.08 kW

# The rest of a residential feeder's load over a day, as a fraction of its evening peak (hour → fraction,
# linear in between): low at night, a morning shoulder, the peak when people come home.
HOUSEHOLD_SHAPE = (
    (0.0, 0.35),
    (5.0, 0.30),
    (7.5, 0.55),
    (9.0, 0.60),
    (12.0, 0.50),
    (16.0, 0.60),
    (18.5, 1.00),
    (20.5, 0.95),
    (22.5, 0.60),
    (24.0, 0.35),
)


def household_fraction(hour: float) -> float:
    hour %= 24.0
    for (h0, f0), (h1, f1) in zip(HOUSEHOLD_SHAPE, HOUSEHOLD_SHAPE[1:], strict=False):
        if h0 <= hour <= h1:
            return f0 + (f1 - f0) * (hour - h0) / (h1 - h0)
    return HOUSEHOLD_SHAPE[-1][1]


def forecast_intervals(
    start: datetime, end: datetime, transformer_kw: float, household_peak_kw: float
) -> list[dict[str, Any]]:
    """A grid operator's capacity forecast per 15 minutes over [start, end): what the transformer has left
    after the households, rounded down to 0.5 kW. `start` must be aligned to 15 minutes."""
    rows = []
    at = start
    while at < end:
        middle = at + INTERVAL / 2
        hour = middle.hour + middle.minute / 60
        limit_kw = transformer_kw - household_peak_kw * household_fraction(hour)
        rows.append(
            {
                "start": at.isoformat(),
                "end": (at + INTERVAL).isoformat(),
                "limit_kw": max(0.0, int(limit_kw * 2) / 2),
            }
        )
        at += INTERVAL
    return rows


def floor_interval(moment: datetime) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    return epoch + (moment - epoch) // INTERVAL * INTERVAL


async def check(response: httpx.Response, *expected: int) -> Any:
    if response.status_code not in (expected or (200, 201)):
        raise RuntimeError(
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        )
    return response.json() if response.content else None


async def create_site(
    api: httpx.AsyncClient,
    fleet: FleetConfig,
    *,
    grid_connection_limit_kw: float,
    fallback_limit_kw: float,
    name: str | None = None,
) -> int:
    """A site with the fleet's charge points (registered with their connectors, placed) and its id tags."""
    site = await check(
        await api.post(
            "/sites",
            json={
                "name": name or fleet.site,
                "grid_connection_limit_kw": grid_connection_limit_kw,
                "fallback_limit_kw": fallback_limit_kw,
            },
        )
    )
    site_id = int(site["id"])
    for index in range(fleet.charge_points):
        charge_point_id = fleet.charge_point_id(index)
        await check(await api.post("/charge-points", json={"id": charge_point_id}))
        await check(await api.put(f"/sites/{site_id}/charge-points/{charge_point_id}", json={}))
        # entered at registration, so that the TxDefaultProfile sent at the first boot is shared by all of
        # them (the service counts only the connectors it knows)
        for connector_id in range(1, fleet.connectors + 1):
            electrical = {"phases": 3, "nominal_voltage_v": 230.0, "max_current_a": fleet.max_current_a}
            await check(
                await api.patch(
                    f"/charge-points/{charge_point_id}/connectors/{connector_id}", json=electrical
                )
            )
    for index in range(fleet.id_tags or fleet.charge_points * fleet.connectors):
        # the simulator draws a visit's tag from the pool at random, so one tag may be in two visits at once
        tag = {
            "id_tag": fleet.id_tag(index),
            "max_active_transactions": fleet.charge_points * fleet.connectors,
        }
        await check(await api.post("/id-tags", json=tag))
    return site_id


async def count(api: httpx.AsyncClient, path: str, **params: Any) -> int:
    page = await check(await api.get(path, params={**params, "limit": 1}))
    return int(page["total"])


@dataclass(frozen=True)
class IntervalLoad:
    """One site interval: the forecast, what was planned, and the mean power drawn (simulator: the energy
    the EVs really drew; service: the mean of the Power.Active.Import samples it stored)."""

    start: datetime
    limit_kw: float
    planned_kw: float | None
    drawn_kw: float
    metered_kw: float | None

    @property
    def excess_kw(self) -> float:
        return self.drawn_kw - self.limit_kw


def interval_loads(summary: FleetSummary, load: list[dict[str, Any]]) -> list[IntervalLoad]:
    """The service's `/sites/{id}/load` rows beside the fleet's energy per 15 minutes."""
    drawn = summary.site_power_kw
    out = []
    for row in load:
        start = datetime.fromisoformat(row["start"])
        out.append(
            IntervalLoad(start, row["limit_kw"], row["planned_kw"], drawn.get(start, 0.0), row["measured_kw"])
        )
    return out


@dataclass(frozen=True)
class DemoConfig:
    charge_points: int = 20
    connectors: int = 2
    hours: float = 24.0
    speed: float = 720.0  # a day in two minutes
    day: datetime | None = None  # simulated start of the day; default: today 00:00 UTC
    warmup_min: float = 30.0  # simulated minutes before the day in which the charge points boot
    setup_real_s: float = 10.0  # wall time allowed for the set-up; the clock reaches day − warm-up after it
    seed: int = 1
    location: Location = Location.public
    database_url: str | None = None  # default: SQLite in a temporary directory
    transformer_kw_per_connector: float = 3.0
    household_peak_kw_per_connector: float = 2.0
    # simulated seconds between MeterValues: at ×720 the default 60 s would be 12 messages per wall-clock
    # second per charging connector, a load test rather than a demo
    sample_interval_s: int = 300
    driver_app: bool = True  # tell the service each visit's departure and energy, as a driver's app would
    fallback_kw_per_connector: float = 1.5  # TxDefaultProfile share: what a connector may draw unplanned
    tolerance_kw: float | None = None  # default: see `tolerance_kw`

    @property
    def connectors_total(self) -> int:
        return self.charge_points * self.connectors

    def tolerance(self) -> float:
        return self.tolerance_kw if self.tolerance_kw is not None else tolerance_kw(self.speed)


def tolerance_kw(speed: float, latency_real_s: float = 0.25, step_kw: float = KW_PER_CONNECTOR) -> float:
    """How far an interval's mean power may exceed its limit without a planning fault.

    Between a plan and the charge points applying it, a connector can draw its previous limit: a raise that
    lands before the matching cut elsewhere, a new session on its TxDefaultProfile share. That lasts the
    round trip (`latency_real_s` of wall time, `× speed` in simulated time) and at most one connector's step
    (`step_kw`), so it adds at most step × latency × speed / interval to the interval's mean. Limits are
    rounded down to 0.1 A before they are sent, so rounding is not a source. At least 0.5 kW.
    """
    return max(0.5, step_kw * latency_real_s * speed / INTERVAL.total_seconds())


@dataclass
class DemoReport:
    config: DemoConfig
    site_id: int
    day_start: datetime
    day_end: datetime
    summary: FleetSummary
    loads: list[IntervalLoad]  # the day's intervals
    warmup: list[IntervalLoad]  # before the day: charge points booting (not counted)
    transactions_stored: int
    profiles_sent: int
    profiles_accepted: int
    wall_s: float
    database_url: str
    undelivered: int  # messages still queued in the charge points when the run ended
    notes: list[str] = field(default_factory=list)

    @property
    def tolerance_kw(self) -> float:
        return self.config.tolerance()

    @property
    def violations(self) -> list[IntervalLoad]:
        return [i for i in self.loads if i.excess_kw > self.tolerance_kw]

    @property
    def peak(self) -> IntervalLoad:
        return max(self.loads, key=lambda i: i.drawn_kw)

    @property
    def closest(self) -> IntervalLoad:
        return max(self.loads, key=lambda i: i.excess_kw)


async def driver_app(api: httpx.AsyncClient, fleet: Fleet, every_real_s: float = 0.25) -> None:
    """What drivers tell the service through an app: each started transaction's departure and energy."""
    told: set[int] = set()
    while True:
        for charge_point in fleet.charge_points:
            for result in charge_point.stats.sessions:
                tx = result.transaction_id
                if tx is None or tx in told or result.departure <= fleet.clock.now():
                    continue
                told.add(tx)
                body = {
                    "departure": result.departure.isoformat(),
                    "energy_kwh": round(result.requested_kwh, 2),
                }
                # 409: it stopped meanwhile
                await check(await api.put(f"/transactions/{tx}/demand", json=body), 200, 409)
        await asyncio.sleep(every_real_s)


@contextlib.asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[tuple[str, str]]:
    """The service under uvicorn in this event loop on loopback; yields (API base URL, OCPP URL)."""
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="none", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(600):
        if server.started:
            break
        if task.done():
            task.result()
            raise RuntimeError("the service stopped during start-up")
        await asyncio.sleep(0.05)
    else:
        raise RuntimeError("the service did not start within 30 s")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/api/v1", f"ws://127.0.0.1:{app.state.gateway.port}/ocpp"
    finally:
        server.should_exit = True
        await task


async def run_demo(
    config: DemoConfig,
    console: Console | None = None,
    run_fleet: Callable[[Fleet], Any] | None = None,
) -> DemoReport:
    """Start the service, set up the site, post the forecast, run the fleet through the day; report."""
    console = console or Console()
    wall_start = time.monotonic()
    day = config.day or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    day = floor_interval(day)
    day_end = day + timedelta(hours=config.hours)
    clock_start = day - timedelta(minutes=config.warmup_min)
    # the clock reaches `clock_start` once the set-up is done, so that the warm-up is the fleet's own
    anchor = datetime.now(UTC) + timedelta(seconds=config.setup_real_s)
    with contextlib.ExitStack() as stack:
        database_url = config.database_url
        if database_url is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="smartcharge-demo-")))
            database_url = f"sqlite+aiosqlite:///{folder / 'demo.db'}"
        from app.db.migrate import upgrade

        await asyncio.to_thread(upgrade, database_url)
        token = f"sc_demo_{secrets.token_hex(16)}"
        settings = Settings(
            database_url=database_url,
            admin_token=SecretStr(token),
            ocpp_host="127.0.0.1",
            ocpp_port=0,
            unknown_charge_points=UnknownChargePoints.reject,
            clock_speed=config.speed,
            clock_start=clock_start,
            clock_anchor=anchor,
            log_level="WARNING",
        )
        clock = ScaledClock(config.speed, clock_start, anchor)
        async with (
            serve(settings) as (api_url, ocpp_url),
            httpx.AsyncClient(
                base_url=api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
            ) as api,
        ):
            n = config.connectors_total
            fleet_config = FleetConfig(
                url=ocpp_url,
                site="demo",
                charge_points=config.charge_points,
                connectors=config.connectors,
                location=config.location,
                duration_h=1.0,  # replaced below, once the set-up time is known
                seed=config.seed,
                configuration={"MeterValueSampleInterval": str(config.sample_interval_s)},
            )
            site_id = await create_site(
                api,
                fleet_config,
                grid_connection_limit_kw=round(n * config.transformer_kw_per_connector, 1),
                fallback_limit_kw=round(n * config.fallback_kw_per_connector, 1),
            )
            rows = forecast_intervals(
                floor_interval(clock_start) - INTERVAL,
                day_end + INTERVAL,
                n * config.transformer_kw_per_connector,
                n * config.household_peak_kw_per_connector,
            )
            await check(
                await api.post(
                    f"/sites/{site_id}/forecasts", json={"forecast_id": "dso-demo", "intervals": rows}
                )
            )
            await clock.sleep((clock_start - clock.now()).total_seconds())
            remaining_h = (day_end - clock.now()) / timedelta(hours=1)
            if remaining_h <= 0:
                raise RuntimeError("the set-up took longer than the simulated day: lower the speed")
            fleet_config = FleetConfig(**{**fleet_config.__dict__, "duration_h": remaining_h})
            fleet = Fleet(fleet_config, clock)
            console.print(
                f"service: API {api_url}, OCPP {ocpp_url}, clock ×{config.speed:g}; site {site_id}: "
                f"{config.charge_points} charge points × {config.connectors}, "
                f"{fleet.planned_sessions} EV visits planned ({config.location.value}, seed {config.seed})"
            )
            app_task = asyncio.create_task(driver_app(api, fleet)) if config.driver_app else None
            try:
                summary = await (run_with_display(fleet, console) if run_fleet is None else run_fleet(fleet))
            finally:
                if app_task is not None:
                    app_task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await app_task
            await asyncio.sleep(0.5)  # the last messages are stored
            load = await check(
                await api.get(
                    f"/sites/{site_id}/load",
                    params={"from": floor_interval(clock_start).isoformat(), "to": day_end.isoformat()},
                )
            )
            loads = interval_loads(summary, load)
            report = DemoReport(
                config=config,
                site_id=site_id,
                day_start=day,
                day_end=day_end,
                summary=summary,
                loads=[i for i in loads if i.start >= day],
                warmup=[i for i in loads if i.start < day],
                transactions_stored=await count(api, "/transactions"),
                profiles_sent=await count(api, "/commands", action="SetChargingProfile"),
                profiles_accepted=await count(
                    api, "/commands", action="SetChargingProfile", status="accepted"
                ),
                wall_s=time.monotonic() - wall_start,
                undelivered=sum(len(cp.outbox) for cp in fleet.charge_points),
                database_url=database_url,
            )
    return report


def print_report(report: DemoReport, console: Console) -> None:
    summary = report.summary
    table = Table(title=f"smartcharge demo: {report.day_start:%Y-%m-%d %H:%M} – {report.day_end:%H:%M} UTC")
    table.add_column("")
    table.add_column("", justify="right")
    delivered, requested = summary.delivered_kwh, summary.requested_kwh
    share = f" ({delivered / requested:.0%})" if requested else ""
    table.add_row("EV visits (sessions)", f"{len(summary.sessions)}")
    table.add_row("energy delivered / requested", f"{delivered:.0f} / {requested:.0f} kWh{share}")
    peak = report.peak
    table.add_row(
        "peak site power (15-min mean)",
        f"{peak.drawn_kw:.1f} kW at {peak.start:%H:%M}, forecast {peak.limit_kw:.1f} kW",
    )
    closest = report.closest
    table.add_row(
        "closest to the forecast",
        f"{closest.drawn_kw:.1f} kW at {closest.start:%H:%M} against {closest.limit_kw:.1f} kW "
        f"({closest.excess_kw:+.2f} kW)",
    )
    binding = sum(1 for i in report.loads if i.drawn_kw >= 0.95 * i.limit_kw)
    table.add_row("intervals at ≥ 95 % of the forecast", f"{binding} of {len(report.loads)}")
    table.add_row(
        f"violations (> forecast + {report.tolerance_kw:.2f} kW)",
        f"[{'green' if not report.violations else 'red'}]{len(report.violations)}[/]",
    )
    table.add_row(
        "transactions stored / started",
        f"{report.transactions_stored} / {summary.messages_sent['StartTransaction']}",
    )
    table.add_row(
        "profiles sent / accepted (service)", f"{report.profiles_sent} / {report.profiles_accepted}"
    )
    table.add_row(
        "profiles received / accepted (charge points)",
        f"{summary.profiles_received} / {summary.profiles_accepted}",
    )
    table.add_row("messages sent by charge points", f"{sum(summary.messages_sent.values())}")
    table.add_row(
        "CALLERRORs / timeouts / dropped",
        f"{summary.call_errors} / {summary.timeouts} / {summary.transaction_messages_dropped}",
    )
    table.add_row("messages left undelivered at the end", f"{report.undelivered}")
    table.add_row("wall time", f"{report.wall_s:.0f} s")
    console.print(curve_table(report))
    console.print(table)
    if report.warmup:
        worst = max(report.warmup, key=lambda i: i.excess_kw)
        console.print(
            f"[dim]warm-up before the day (charge points booting, not counted): "
            f"{len(report.warmup)} intervals, worst {worst.drawn_kw:.1f} kW "
            f"against {worst.limit_kw:.1f} kW[/]"
        )


def curve_table(report: DemoReport, every: int = 4) -> Table:
    """Hour by hour: forecast, planned, drawn (simulator) and metered (service) power, and the margin."""
    table = Table(title="site power per hour (the hour's highest 15-minute interval)")
    for name in ("hour", "forecast kW", "planned kW", "drawn kW", "metered kW", "drawn − forecast"):
        table.add_column(name, justify="right")
    for h in range(0, len(report.loads), every):
        hour = report.loads[h : h + every]
        top = max(hour, key=lambda i: i.excess_kw)
        planned = f"{top.planned_kw:.1f}" if top.planned_kw is not None else "-"
        metered = f"{top.metered_kw:.1f}" if top.metered_kw is not None else "-"
        table.add_row(
            f"{top.start:%H:%M}",
            f"{top.limit_kw:.1f}",
            planned,
            f"{top.drawn_kw:.1f}",
            metered,
            f"{top.excess_kw:+.1f}",
        )
    return table
