"""Forecast-to-profiles latency: a grid operator posts a forecast over HTTP; how long until every connected
charge point with a running transaction has received its new TxProfile?

The whole service runs as `make run` runs it (create_app under uvicorn: API, OCPP server, scheduler) on a
SQLite file, with N simulated charge points on loopback, one transaction each. Baseline, in the same run and
process: one OCPP round trip to every charge point through the same command path (ClearCache, recorded like
every command). The ratio says what planning and dispatch add on top of talking to every charge point once.
"""

import asyncio
import contextlib
import json
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from sqlalchemy import create_engine
from websockets.asyncio.client import connect

from app.db.tables import metadata
from app.main import create_app
from app.settings import Settings
from ocpp_gateway.profiles import ChargerCapabilities, tx_profile
from optimizer import compress_periods

SIZES = (100, 300)
RUNS = 3
TOKEN = "bench-admin-token"


class BenchChargePoint(ChargePoint):  # type: ignore[misc]
    """Answers what the central system asks during smart charging; notes when a TxProfile arrives."""

    def __init__(self, cp_id: str, connection: Any) -> None:
        super().__init__(cp_id, connection, response_timeout=60)
        self.profiles: list[tuple[float, dict[str, Any]]] = []  # (perf_counter when received, TxProfile)

    @on("SetChargingProfile")
    def set_profile(self, connector_id: int, cs_charging_profiles: dict[str, Any]) -> Any:
        if cs_charging_profiles["charging_profile_purpose"] == "TxProfile":
            self.profiles.append((time.perf_counter(), cs_charging_profiles))
        return call_result.SetChargingProfile(status="Accepted")

    @on("GetConfiguration")
    def get_configuration(self, **_: Any) -> Any:
        keys = {"ChargingScheduleAllowedChargingRateUnit": "Current", "ChargingScheduleMaxPeriods": "24"}
        return call_result.GetConfiguration(
            configuration_key=[{"key": k, "readonly": True, "value": v} for k, v in keys.items()]
        )

    @on("GetCompositeSchedule")
    def composite(self, connector_id: int, duration: int, charging_rate_unit: str | None = None) -> Any:
        return call_result.GetCompositeSchedule(status="Rejected")

    @on("ClearCache")
    def clear_cache(self) -> Any:
        return call_result.ClearCache(status="Accepted")


@contextlib.asynccontextmanager
async def service(database_url: str) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    settings = Settings(
        database_url=database_url,
        admin_token=TOKEN,
        ocpp_host="127.0.0.1",
        ocpp_port=0,
        unknown_charge_points="accept",
        ocpp_ping_interval_s=None,
        log_level="WARNING",
    )
    application = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=0, log_level="warning", ws="none")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(6000):
        if server.started:
            break
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}/api/v1", headers=headers, timeout=120
    ) as api:
        try:
            yield application, api
        finally:
            server.should_exit = True
            await task


async def run_size(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = create_engine(url)
        metadata.create_all(engine)
        engine.dispose()
        async with service(url) as (application, api), contextlib.AsyncExitStack() as stack:
            body = {"name": "bench", "grid_connection_limit_kw": 10_000, "fallback_limit_kw": 11 * n}
            site_id = (await api.post("/sites", json=body)).json()["id"]
            port = application.state.gateway.port
            clients: list[BenchChargePoint] = []
            for i in range(n):
                cp_id = f"BENCH{i:05d}"
                ws = await stack.enter_async_context(
                    connect(f"ws://127.0.0.1:{port}/ocpp/{cp_id}", subprotocols=["ocpp1.6"])  # type: ignore[list-item]
                )
                cp = BenchChargePoint(cp_id, ws)
                task = asyncio.create_task(cp.start())
                stack.callback(task.cancel)
                clients.append(cp)
                await cp.call(
                    call.BootNotification(charge_point_model="bench", charge_point_vendor="smartcharge")
                )
                await api.put(f"/sites/{site_id}/charge-points/{cp_id}", json={})
            tag = await api.post("/id-tags", json={"id_tag": "BENCH", "max_active_transactions": n + 1})
            assert tag.status_code == 201, tag.text
            now = datetime.now(UTC)
            start = call.StartTransaction(
                connector_id=1, id_tag="BENCH", meter_start=0, timestamp=now.isoformat()
            )
            await asyncio.gather(*(cp.call(start) for cp in clients))
            await _settle(clients)
            latencies, baselines = [], []
            for run in range(RUNS):
                await asyncio.sleep(0.5)
                row = {
                    "start": (now - timedelta(hours=1)).isoformat(),
                    "end": (now + timedelta(days=1)).isoformat(),
                    # scarce (below what the sessions could draw), and a new limit per session in every
                    # run, so that every charge point must get a new profile
                    "limit_kw": (4.0 + 0.5 * run) * n,
                }
                started = time.perf_counter()
                response = await api.post(
                    f"/sites/{site_id}/forecasts", json={"forecast_id": f"bench-{run}", "intervals": [row]}
                )
                assert response.status_code == 201, response.text
                plan = await _plan_after_forecast(api, site_id, row["limit_kw"])
                arrived = await _profiles_matching(clients, plan, since=started)
                latencies.append(max(arrived) - started)
                commands = application.state.gateway.commands
                started = time.perf_counter()
                await asyncio.gather(*(commands.send(cp.id, "ClearCache", {}, wait=True) for cp in clients))
                baselines.append(time.perf_counter() - started)
            revision = (await api.get(f"/sites/{site_id}/schedule")).json()["revision"]
    return {
        "latency_s": statistics.median(latencies),
        "latency_max_s": max(latencies),
        "baseline_s": statistics.median(baselines),
        "solve_s": revision["solve_seconds"],
    }


def _limit_a_now(profile: dict[str, Any]) -> float:
    """The profile's limit at this moment (A per phase)."""
    schedule = profile["charging_schedule"]
    start = datetime.fromisoformat(schedule["start_schedule"].replace("Z", "+00:00"))
    elapsed_s = (datetime.now(UTC) - start).total_seconds()
    return float(
        [p["limit"] for p in schedule["charging_schedule_period"] if p["start_period"] <= elapsed_s][-1]
    )


async def _plan_after_forecast(
    api: httpx.AsyncClient, site_id: int, limit_kw: float, timeout_s: float = 120
) -> dict[str, float]:
    """Per charge point, the limit (A per phase) that the plan made for the new forecast gives it now,
    as the profile conversion puts it (floored to 0.1 A, at most 24 periods)."""
    caps = ChargerCapabilities(rate_units=("A",), max_periods=24, phases=3, voltage_v=230.0)
    for _ in range(int(timeout_s / 0.02)):
        # The newest revision alone (cheap: the observer shares the service's CPU); its entries once it is
        # the plan for this forecast.
        page = (await api.get(f"/sites/{site_id}/schedule/revisions", params={"limit": 1})).json()
        revision = page["items"][0] if page["items"] else None
        if (
            revision is not None
            and "forecast posted" in revision["trigger"]
            and revision["capacity_kw"][0] == limit_kw
        ):
            schedule = (await api.get(f"/sites/{site_id}/schedule/revisions/{revision['id']}")).json()
            start = datetime.fromisoformat(revision["start"])
            elapsed_s = (datetime.now(UTC) - start).total_seconds()
            expected = {}
            for entry in schedule["entries"]:
                profile = tx_profile(
                    profile_id=0, transaction_id=0, start=start, interval_min=revision["interval_minutes"],
                    power_kw=entry["power_kw"], caps=caps, stack_level=1, compress=compress_periods,
                )  # fmt: skip
                periods = profile["chargingSchedule"]["chargingSchedulePeriod"]
                expected[entry["charge_point_id"]] = [
                    p["limit"] for p in periods if p["startPeriod"] <= elapsed_s
                ][-1]
            return expected
        await asyncio.sleep(0.02)
    raise TimeoutError(f"no plan for the forecast of {limit_kw} kW")


async def _profiles_matching(
    clients: list[BenchChargePoint], plan: dict[str, float], *, since: float, timeout_s: float = 120
) -> list[float]:
    """When each charge point's latest profile came to say what the plan says (its arrival time)."""
    checked: dict[str, tuple[int, bool]] = {}  # charge point → (profiles seen, whether the latest matches)

    def matches(cp: BenchChargePoint) -> bool:  # cheap when nothing new came (the observer shares the CPU)
        seen = checked.get(cp.id)
        if seen is None or seen[0] != len(cp.profiles):
            ok = bool(cp.profiles) and abs(_limit_a_now(cp.profiles[-1][1]) - plan[cp.id]) <= 0.05
            seen = checked[cp.id] = (len(cp.profiles), ok)
        return seen[1]

    for _ in range(int(timeout_s / 0.005)):
        arrived = []
        for cp in clients:
            if not matches(cp):
                break
            arrived.append(max(since, cp.profiles[-1][0]))
        else:
            return arrived
        await asyncio.sleep(0.005)
    late = [(cp.id, _limit_a_now(cp.profiles[-1][1]), plan[cp.id]) for cp in clients if cp.profiles]
    late = [x for x in late if abs(x[1] - x[2]) > 0.05]
    raise TimeoutError(f"charge points did not get their profiles: {late[:5]}")


async def _settle(clients: list[BenchChargePoint], timeout_s: float = 120) -> None:
    """Until every charge point has a profile."""
    for _ in range(int(timeout_s / 0.01)):
        if all(cp.profiles for cp in clients):
            return
        await asyncio.sleep(0.01)
    raise TimeoutError(f"{sum(not cp.profiles for cp in clients)} charge points without a profile")


def main() -> None:
    print("forecast posted over HTTP -> every charge point has its new TxProfile (SQLite, one process)")
    print(f"median of {RUNS} runs; baseline = one recorded OCPP round trip to every charge point\n")
    print(f"{'sessions':>8} {'latency s':>10} {'max s':>8} {'baseline s':>11} {'ratio':>6} {'solve s':>8}")
    rows = []
    for n in SIZES:
        figures = asyncio.run(run_size(n))
        rows.append({"sessions": n, **figures})
        ratio = figures["latency_s"] / figures["baseline_s"]
        print(
            f"{n:>8} {figures['latency_s']:>10.3f} {figures['latency_max_s']:>8.3f}"
            f" {figures['baseline_s']:>11.3f} {ratio:>6.2f} {figures['solve_s']:>8.3f}",
            flush=True,
        )
    print(json.dumps({"smart_charging": rows}))


if __name__ == "__main__":
    main()
