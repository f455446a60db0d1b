"""A charge point that accepts its limits and ignores them, end to end: simulated charge points against the
whole service (create_app under uvicorn, OCPP server, scheduler) on a shared accelerated clock.

Three charge points on a 24 kW site: two single-phase ones with 7.4 kW EVs that keep to their limits, and
a three-phase one that accepts every profile and lets its 22 kW EV draw all of it. Checked over the HTTP
API: that transaction is flagged non-compliant (its schedule and the site's compliance events), and the plan
then reserves what it draws: the others' planned power plus its measured draw stays within the capacity.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.demo import create_site
from app.domain.clock import ScaledClock
from simulator import FleetConfig
from simulator.charge_point import ChargePointSpec, SimulatedChargePoint
from simulator.dataset import SessionPlan
from simulator.ev import EVModel
from tests.e2e.service import Service, running_service
from tests.e2e.test_smart_charging import eventually
from tests.scale.test_metrics import metric

pytestmark = pytest.mark.anyio

SPEED = 60.0  # a simulated minute per second: a meter sample a second
START = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
CAPACITY_KW = 24.0
SINGLE_PHASE = EVModel("single-phase 7.4 kW", battery_kwh=60.0, max_ac_kw=7.4, phases=1, registrations=1)
THREE_PHASE = EVModel("three-phase 22 kW", battery_kwh=90.0, max_ac_kw=22.0, phases=3, registrations=1)
CONFIG = FleetConfig(url="ws://unused", site="nc", charge_points=3, connectors=1, ignore_limits=("nc-CP003",))


@contextlib.asynccontextmanager
async def charging(service: Service, clock: ScaledClock) -> AsyncIterator[list[SimulatedChargePoint]]:
    """The three charge points, each with an EV plugged in from the start for four hours."""
    charge_points = []
    for index, ev in enumerate((SINGLE_PHASE, SINGLE_PHASE, THREE_PHASE)):
        cp_id = CONFIG.charge_point_id(index)
        visit = SessionPlan(START, START + timedelta(hours=4), 40.0, ev, 0.2)
        spec = ChargePointSpec(cp_id, connectors=1, ignores_limits=cp_id in CONFIG.ignore_limits)
        tag = CONFIG.id_tag(index)
        charge_points.append(
            SimulatedChargePoint(spec, service.ocpp_url, clock, {1: [visit]}, id_tags=lambda tag=tag: tag)
        )
    runs = [asyncio.create_task(cp.run(until=START + timedelta(hours=4))) for cp in charge_points]
    try:
        yield charge_points
    finally:
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, return_exceptions=True)


async def transaction_of(service: Service, charge_point_id: str) -> int | None:
    found = (await service.api.get("/transactions", params={"charge_point_id": charge_point_id})).json()
    items = found["items"] if isinstance(found, dict) else found
    return items[0]["id"] if items else None


async def test_a_charge_point_over_its_limit_is_flagged_and_its_draw_reserved(migrated_url: str) -> None:
    anchor = datetime.now(UTC) + timedelta(seconds=2)
    clock = ScaledClock(SPEED, START, anchor)
    settings = {"clock_speed": SPEED, "clock_start": START, "clock_anchor": anchor}
    async with running_service(migrated_url, **settings) as service:
        site_id = await create_site(
            service.api, CONFIG, grid_connection_limit_kw=100.0, fallback_limit_kw=CAPACITY_KW
        )
        for index in (0, 1):  # planned on one phase from the start
            connector = f"/charge-points/{CONFIG.charge_point_id(index)}/connectors/1"
            assert (await service.api.patch(connector, json={"phases": 1})).status_code == 200
        await clock.sleep(max(0.0, (START - clock.now()).total_seconds()))
        async with charging(service, clock):
            ignoring = CONFIG.ignore_limits[0]
            found: dict[str, Any] = {}

            async def flagged() -> bool:
                tx = await transaction_of(service, ignoring)
                if tx is None:
                    return False
                response = await service.api.get(f"/transactions/{tx}/schedule")
                if response.status_code != 200:
                    return False
                found.update(response.json(), tx=tx)
                compliance = found["compliance"]
                return compliance is not None and compliance["non_compliant"]

            await eventually(flagged, timeout_s=60.0)
            compliance = found["compliance"]
            assert compliance["reason"] == "over_draw"
            assert compliance["charge_point_id"] == ignoring
            assert compliance["measured_kw"] == pytest.approx(22.0, rel=0.02)
            assert compliance["measured_kw"] > compliance["limit_kw"] + 1.0
            events = (await service.api.get(f"/sites/{site_id}/compliance")).json()
            assert events["items"][0]["transaction_id"] == found["tx"]
            assert events["items"][0]["non_compliant"] is True
            metrics = await service.api.get(str(service.api.base_url).removesuffix("/api/v1/") + "/metrics")
            assert metric(metrics.text, "smartcharge_non_compliant_charge_points") == 1
            accepted = metric(
                metrics.text, "smartcharge_profiles_total", purpose="TxProfile", status="accepted"
            )
            assert (accepted or 0) >= 3  # it accepted its profiles, as the two others did

            async def reserved() -> bool:
                """The latest plan holds the transaction at its measured draw; the others make room."""
                schedule = (await service.api.get(f"/sites/{site_id}/schedule")).json()
                entries = {e["transaction_id"]: e for e in schedule["entries"]}
                mine = entries.get(found["tx"])
                if mine is None or mine["assumption"] != "non_compliant" or len(entries) != 3:
                    return False
                found["schedule"] = schedule
                return True

            await eventually(reserved, timeout_s=30.0)
            schedule = found["schedule"]
            revision = schedule["revision"]
            entries = {e["transaction_id"]: e for e in schedule["entries"]}
            mine = entries.pop(found["tx"])
            measured_kw = compliance["measured_kw"]
            assert mine["max_kw"] == pytest.approx(measured_kw, rel=0.1)  # its draw, not what it was told
            assert mine["power_kw"][0] == pytest.approx(mine["max_kw"])
            others_kw = sum(e["power_kw"][0] for e in entries.values())
            assert others_kw + measured_kw <= revision["capacity_kw"][0] + 1e-6
            assert revision["capacity_kw"][0] == pytest.approx(CAPACITY_KW)
