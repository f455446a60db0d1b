"""`smartcharge demo`, the run: the service and a simulated fleet through an accelerated day.

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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from pydantic import SecretStr
from rich.console import Console

from app.demo.outcome import outcome
from app.demo.report import DemoReport, interval_loads
from app.demo.scenario import (
    INTERVAL,
    DemoConfig,
    check,
    count,
    create_site,
    driver_app,
    floor_interval,
    forecast_intervals,
)
from app.domain.clock import ScaledClock
from app.domain.ports import Clock
from app.main import create_app
from app.settings import Settings, UnknownChargePoints
from simulator import Fleet, FleetConfig, run_with_display

PAGE = 1000


@contextlib.asynccontextmanager
async def serve(settings: Settings, clock: Clock | None = None) -> AsyncIterator[tuple[str, str]]:
    """The service under uvicorn in this event loop on loopback; yields (API base URL, OCPP URL)."""
    app = create_app(settings, clock=clock)
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


async def every_item(api: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """All items of a paged list."""
    items: list[dict[str, Any]] = []
    while True:
        page = await check(await api.get(path, params={**params, "limit": PAGE, "offset": len(items)}))
        items += page["items"]
        if len(items) >= page["total"] or not page["items"]:
            return items


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
        clock = ScaledClock(config.speed, clock_start, anchor, holdable=config.hold_clock)
        async with (
            serve(settings, clock) as (api_url, ocpp_url),
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
                start=clock_start,  # the same visits for a seed, however long the set-up takes
                duration_h=(day_end - clock_start) / timedelta(hours=1),
                run_out_h=config.run_out_h,
                seed=config.seed,
                configuration={"MeterValueSampleInterval": str(config.sample_interval_s)},
            )
            fleet = Fleet(fleet_config, clock)
            day_end = fleet.end  # the day's last visit has left (at most `run_out_h` after the day)
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
            if clock.now() >= day_end:
                raise RuntimeError("the set-up took longer than the simulated day: lower the speed")
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
            commands = await every_item(api, "/commands", action="SetChargingProfile")
            tx_profiles = [
                (datetime.fromisoformat(c["created_at"]), c["payload"]["csChargingProfiles"])
                for c in sorted(commands, key=lambda c: c["id"])
                if c["payload"]["csChargingProfiles"]["chargingProfilePurpose"] == "TxProfile"
            ]
            starts = {
                int(t["id"]): datetime.fromisoformat(t["start_timestamp"])
                for t in await every_item(api, "/transactions")
            }
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
                outcome=outcome(
                    summary.sessions,
                    {i.start: i.capacity_kw for i in loads},
                    {i.start: i.drawn_kw for i in loads},
                    tx_profiles,
                    starts,
                ),
            )
    return report
