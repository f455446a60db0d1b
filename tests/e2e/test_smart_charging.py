"""The smart-charging loop end to end: a grid operator's forecast in over HTTP, profiles out over OCPP.

Charge points are the `ocpp` package's ChargePoint as clients on real WebSockets; the service is `create_app`
under uvicorn with its OCPP server and scheduler, on SQLite and PostgreSQL.
"""

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call
from sqlmodel import select

from app.db.tables.planning import schedule_entry_table
from tests.e2e.service import Service, running_service
from tests.gateway.helpers import ClientChargePoint, connect_charge_point

pytestmark = pytest.mark.anyio

FORECAST_KW = 30.0
VOLTAGE_V = 230.0
PHASES = 3


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def tx_profiles(client: ClientChargePoint, transaction_id: int) -> list[dict[str, Any]]:
    return [
        payload["csChargingProfiles"]
        for action, payload in client.received
        if action == "SetChargingProfile"
        and payload["csChargingProfiles"]["chargingProfilePurpose"] == "TxProfile"
        and payload["csChargingProfiles"].get("transactionId") == transaction_id
    ]


def limit_kw_at(profile: dict[str, Any], at: datetime) -> float | None:
    schedule = profile["chargingSchedule"]
    start = _parse(schedule["startSchedule"])
    if at < start or at >= start + timedelta(seconds=schedule["duration"]):
        return None
    limit = None
    for period in schedule["chargingSchedulePeriod"]:
        if start + timedelta(seconds=period["startPeriod"]) <= at:
            limit = period["limit"]
    assert limit is not None
    if schedule["chargingRateUnit"] == "W":
        return float(limit) / 1000
    return float(limit) * period.get("numberPhases", PHASES) * VOLTAGE_V / 1000


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout_s: float = 20.0) -> None:
    """Poll `check` until it holds; fail after `timeout_s`."""
    for _ in range(int(timeout_s / 0.05)):
        outcome = check()
        if await outcome if inspect.isawaitable(outcome) else outcome:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {timeout_s} s")


def echo_composite(client: ClientChargePoint) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """GetCompositeSchedule answered from the last TxProfile the charge point accepted."""

    def answer(request: dict[str, Any]) -> dict[str, Any]:
        profiles = [
            p["csChargingProfiles"]
            for a, p in client.received
            if a == "SetChargingProfile" and p["csChargingProfiles"]["chargingProfilePurpose"] == "TxProfile"
        ]
        schedule = profiles[-1]["chargingSchedule"]
        return {
            "status": "Accepted",
            "connectorId": request["connectorId"],
            "scheduleStart": datetime.now(UTC).isoformat(),
            "chargingSchedule": schedule,
        }

    return answer


@contextlib.asynccontextmanager
async def charging(
    service: Service, site_id: int, cp_id: str, tag: str, *, reject_profiles: bool = False
) -> AsyncIterator[tuple[ClientChargePoint, int]]:
    """A registered charge point in the site that boots, reports Available and starts a transaction."""
    response = await service.api.post("/charge-points", json={"id": cp_id})
    assert response.status_code == 201, response.text
    response = await service.api.put(f"/sites/{site_id}/charge-points/{cp_id}", json={})
    assert response.status_code == 200, response.text
    async with connect_charge_point(service.app.state.gateway, cp_id) as client:
        client.responses["GetCompositeSchedule"] = echo_composite(client)
        if reject_profiles:
            client.responses["SetChargingProfile"] = {"status": "Rejected"}
        boot = await client.call(
            call.BootNotification(charge_point_model="E2E", charge_point_vendor="smartcharge")
        )
        assert boot.status == "Accepted"
        await client.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing"))
        started = await client.call(
            call.StartTransaction(
                connector_id=1, id_tag=tag, meter_start=0, timestamp=datetime.now(UTC).isoformat()
            )
        )
        assert started.id_tag_info["status"] == "Accepted"
        yield client, started.transaction_id


def planned_sum_ok(clients: dict[int, ClientChargePoint]) -> bool:
    """At every 5 minutes of the next 24 h the latest profiles add up to at most the forecast."""
    now = datetime.now(UTC)
    for step in range(0, 24 * 12):
        at = now + timedelta(minutes=5 * step)
        total = 0.0
        for tx, client in clients.items():
            profiles = tx_profiles(client, tx)
            if profiles:
                total += limit_kw_at(profiles[-1], at) or 0.0
        if total > FORECAST_KW + 1e-6:
            return False
    return True


def usable_limits_only(clients: dict[int, ClientChargePoint]) -> bool:
    """Every TxProfile sent says its minimum (6 A) and has no period between 0 and it: an EV stops there."""
    for tx, client in clients.items():
        for profile in tx_profiles(client, tx):
            schedule = profile["chargingSchedule"]
            if schedule.get("minChargingRate") != 6.0:
                return False
            if any(0 < p["limit"] < 6.0 for p in schedule["chargingSchedulePeriod"]):
                return False
    return True


def current_kw(client: ClientChargePoint, tx: int) -> float:
    profiles = tx_profiles(client, tx)
    return (limit_kw_at(profiles[-1], datetime.now(UTC)) or 0.0) if profiles else -1.0


async def check_schedule_api(service: Service, site_id: int, tx: int) -> None:
    """What analysts and operators read: the current plan, a transaction's profile, the site's load."""
    schedule = (await service.api.get(f"/sites/{site_id}/schedule")).json()
    revision = schedule["revision"]
    assert len(schedule["entries"]) == 3
    for t in range(revision["n_intervals"]):
        total = sum(e["power_kw"][t] for e in schedule["entries"])
        assert total <= revision["capacity_kw"][t] + 1e-6
        assert total == pytest.approx(revision["planned_kw"][t])
    csv = await service.api.get(f"/sites/{site_id}/schedule.csv")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text.strip().splitlines()) == 1 + 3 * revision["n_intervals"]
    mine = (await service.api.get(f"/transactions/{tx}/schedule")).json()
    assert mine["entry"]["assumption"] == "planned"
    assert mine["profile"]["status"] == "accepted"
    assert mine["profile"]["verified"] is True
    assert mine["profile"]["profile"]["chargingProfilePurpose"] == "TxProfile"
    load = (await service.api.get(f"/sites/{site_id}/load")).json()
    assert load, "load per interval"
    assert all(i["planned_kw"] is None or i["planned_kw"] <= i["capacity_kw"] + 1e-6 for i in load)
    assert any(i["planned_kw"] is not None for i in load)
    revisions = (await service.api.get(f"/sites/{site_id}/schedule/revisions")).json()
    assert revisions["total"] >= 1
    assert revisions["items"][0]["id"] >= revision["id"], "newest first (a replan may have come since)"
    assert revision["id"] in {r["id"] for r in revisions["items"]}


async def test_forecast_reaches_charge_points_as_profiles_that_respect_it(migrated_url: str) -> None:
    settings = {"scheduler_retry_backoff_s": 0.05, "scheduler_retry_attempts": 2}
    async with running_service(migrated_url, **settings) as service:
        site = await service.api.post(
            "/sites", json={"name": "depot", "grid_connection_limit_kw": 100, "fallback_limit_kw": 11}
        )
        assert site.status_code == 201, site.text
        site_id = site.json()["id"]
        now = datetime.now(UTC)
        forecast = await service.api.post(
            f"/sites/{site_id}/forecasts",
            json={
                "forecast_id": "dso-1",
                "intervals": [
                    {
                        "start": (now - timedelta(hours=1)).isoformat(),
                        "end": (now + timedelta(days=2)).isoformat(),
                        "limit_kw": FORECAST_KW,
                    }
                ],
            },
        )
        assert forecast.status_code == 201, forecast.text
        for tag in ("T1", "T2", "T3", "T4"):
            assert (await service.api.post("/id-tags", json={"id_tag": tag})).status_code == 201

        async with (
            charging(service, site_id, "CP1", "T1") as (cp1, tx1),
            charging(service, site_id, "CP2", "T2") as (cp2, tx2),
        ):
            clients = {tx1: cp1, tx2: cp2}
            async with charging(service, site_id, "CP3", "T3") as (cp3, tx3):
                clients[tx3] = cp3
                # every session gets a profile; together they stay within the forecast
                await eventually(lambda: all(current_kw(c, tx) > 0 for tx, c in clients.items()))
                await eventually(
                    lambda: abs(sum(current_kw(c, tx) for tx, c in clients.items()) - FORECAST_KW) < 1
                )
                assert planned_sum_ok(clients)
                assert usable_limits_only(clients)
                fair_kw = current_kw(cp1, tx1)
                assert fair_kw == pytest.approx(FORECAST_KW / 3, abs=0.5)
                assert any(
                    a == "SetChargingProfile"
                    and p["connectorId"] == 0
                    and p["csChargingProfiles"]["chargingProfilePurpose"] == "TxDefaultProfile"
                    for a, p in cp1.received
                ), "a TxDefaultProfile at boot"
                assert any(a == "GetCompositeSchedule" for a, _ in cp1.received), "profiles are read back"
                await check_schedule_api(service, site_id, tx1)

                # one session stops: the others get more
                await cp3.call(
                    call.StopTransaction(
                        meter_stop=5000, timestamp=datetime.now(UTC).isoformat(), transaction_id=tx3
                    )
                )
                del clients[tx3]
            await eventually(lambda: current_kw(cp1, tx1) > fair_kw + 2)
            assert current_kw(cp1, tx1) == pytest.approx(FORECAST_KW / 2, abs=0.5)
            assert planned_sum_ok(clients)
            assert usable_limits_only(clients)

            # an operator pauses one transaction: it gets 0, the other takes what it can
            override = await service.api.post(
                "/overrides",
                json={"scope": "transaction", "transaction_id": tx2, "kind": "pause", "reason": "e2e"},
            )
            assert override.status_code == 201, override.text
            await eventually(lambda: current_kw(cp2, tx2) == 0.0)
            await eventually(lambda: current_kw(cp1, tx1) > FORECAST_KW / 2 + 2)
            assert current_kw(cp1, tx1) <= PHASES * VOLTAGE_V * 32 / 1000
            assert planned_sum_ok(clients)
            deleted = await service.api.delete(f"/overrides/{override.json()['id']}")
            assert deleted.status_code in (200, 204), deleted.text

            # a charge point that rejects its profile is planned at its maximum; the others make room
            async with charging(service, site_id, "CP4", "T4", reject_profiles=True) as (_cp4, tx4):
                database = service.app.state.database

                async def tx4_non_compliant() -> bool:
                    async with database.session() as session:
                        query = select(schedule_entry_table.c.assumption).where(
                            schedule_entry_table.c.transaction_id == tx4
                        )
                        latest = (
                            await session.exec(query.order_by(schedule_entry_table.c.id.desc()))
                        ).first()
                    return latest == "non_compliant"

                await eventually(tx4_non_compliant)
                max_kw = PHASES * VOLTAGE_V * 32 / 1000
                await eventually(
                    lambda: current_kw(cp1, tx1) + current_kw(cp2, tx2) <= FORECAST_KW - max_kw + 0.1
                )


async def test_an_ev_drawing_less_than_its_allocation_leaves_the_headroom_to_others(
    migrated_url: str,
) -> None:
    async with running_service(migrated_url) as service:
        site = await service.api.post(
            "/sites",
            json={"name": "depot", "grid_connection_limit_kw": 100, "fallback_limit_kw": FORECAST_KW},
        )
        site_id = site.json()["id"]
        for tag in ("T1", "T2"):
            assert (await service.api.post("/id-tags", json={"id_tag": tag})).status_code == 201
        async with (
            charging(service, site_id, "CP1", "T1") as (cp1, tx1),
            charging(service, site_id, "CP2", "T2") as (cp2, tx2),
        ):
            await eventually(lambda: current_kw(cp1, tx1) == pytest.approx(FORECAST_KW / 2, abs=0.5))
            await eventually(lambda: current_kw(cp2, tx2) == pytest.approx(FORECAST_KW / 2, abs=0.5))
            for _ in range(2):  # the EV behind CP1 takes 5 kW only
                sample = {
                    "timestamp": datetime.now(UTC).isoformat(),
                    "sampledValue": [{"value": "5000", "measurand": "Power.Active.Import", "unit": "W"}],
                }
                await cp1.call(call.MeterValues(connector_id=1, transaction_id=tx1, meter_value=[sample]))
            await eventually(lambda: current_kw(cp2, tx2) > FORECAST_KW / 2 + 5)
            assert current_kw(cp1, tx1) == pytest.approx(5 * 1.1, abs=0.5)
            assert current_kw(cp1, tx1) + current_kw(cp2, tx2) <= FORECAST_KW + 1e-6
