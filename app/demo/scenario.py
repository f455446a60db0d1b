"""The demo's site, forecast and drivers: what it sets up through the API, as an operator, a grid operator
and drivers' apps would."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from simulator import Fleet, FleetConfig, Location

INTERVAL = timedelta(minutes=15)
DEMO_DAY = datetime(2024, 3, 5, tzinfo=UTC)  # a Tuesday: a fixed day, so that a seed gives the same run
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
                response = await api.put(f"/transactions/{tx}/demand", json=body)
                if response.status_code == 422 and result.departure <= fleet.clock.now():
                    continue  # the driver left while the request was on its way (a busy machine, fast clock)
                await check(response, 200, 409)  # 409: it stopped meanwhile
        await asyncio.sleep(every_real_s)


@dataclass(frozen=True)
class DemoConfig:
    charge_points: int = 20
    connectors: int = 2
    hours: float = 24.0
    speed: float = 720.0  # a day in two minutes
    day: datetime | None = DEMO_DAY  # simulated start of the day (None: today 00:00 UTC)
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
    # simulated time stands still while the service plans and dispatches (see `ScaledClock`): its latency,
    # a fraction of a second, would otherwise count `speed` times over
    hold_clock: bool = True
    # after the day no EV arrives; the simulation runs on until the last one has left, at most this long, so
    # that each visit is judged by its own departure, not by the end of the day
    run_out_h: float = 16.0

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
