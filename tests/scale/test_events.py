"""Events across processes: a gateway's transaction events reach the scheduler process, a forecast posted
to the API process replans, and the profiles reach charge points on two gateways."""

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call

from app.cluster.events import EVENT_TYPES, decode, encode
from app.domain import events
from tests.e2e.test_smart_charging import current_kw, echo_composite
from tests.gateway.helpers import ClientChargePoint, connect_charge_point, eventually
from tests.scale.helpers import Layout, Process
from tests.scale.test_metrics import metric, scrape

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def test_every_event_type_crosses_the_wire_unchanged() -> None:
    sample = events.MeterSample(NOW, power_w=7200.0, energy_wh=1500.0, current_a=10.4, phases=3)
    examples = [
        events.ChargePointConnected("CP1", NOW),
        events.ChargePointDisconnected("CP1", NOW),
        events.ChargePointBooted("CP1", "Accepted", "V", "M", NOW),
        events.StatusChanged("CP1", 1, "Charging", NOW),
        events.TransactionStarted(7, "CP1", 1, "TAG", NOW, 100),
        events.TransactionStopped(7, "CP1", 1, "TAG", NOW, 900, None),
        events.ForecastPosted(3, 11, NOW, NOW + timedelta(hours=1)),
        events.OverrideChanged(5, "created", "site", 3, None, None, NOW, None),
        events.ChargePointPlaced("CP1", 3, None, None),
        events.SiteChanged(3, frozenset({"fallback_limit_kw", "name"})),
    ]
    assert {type(e).__name__ for e in examples} | {"MeterValuesReceived"} == set(EVENT_TYPES)
    for event in examples:
        assert decode(encode(event)) == event
    meter = decode(encode(events.MeterValuesReceived("CP1", 1, 7, summarise=lambda: (sample,))))
    assert isinstance(meter, events.MeterValuesReceived)
    assert (meter.charge_point_id, meter.connector_id, meter.transaction_id) == ("CP1", 1, 7)
    assert meter.samples == (sample,)
    assert dataclasses.asdict(meter.samples[0])["timestamp"] == NOW


async def forecast(api: Process, site_id: int, forecast_id: str, limit_kw: float) -> None:
    now = datetime.now(UTC)
    posted = await api.http.post(
        f"/api/v1/sites/{site_id}/forecasts",
        json={
            "forecast_id": forecast_id,
            "intervals": [
                {
                    "start": (now - timedelta(hours=1)).isoformat(),
                    "end": (now + timedelta(days=2)).isoformat(),
                    "limit_kw": limit_kw,
                }
            ],
        },
    )
    assert posted.status_code == 201, posted.text


@contextlib.asynccontextmanager
async def charging(
    api: Process, gateway: Process, site_id: int, cp_id: str, tag: str
) -> AsyncIterator[tuple[ClientChargePoint, int]]:
    assert (await api.http.post("/api/v1/charge-points", json={"id": cp_id})).status_code == 201
    placed = await api.http.put(f"/api/v1/sites/{site_id}/charge-points/{cp_id}", json={})
    assert placed.status_code == 200, placed.text
    assert (await api.http.post("/api/v1/id-tags", json={"id_tag": tag})).status_code == 201
    async with connect_charge_point(gateway.app.state.gateway, cp_id) as client:
        client.responses["GetCompositeSchedule"] = echo_composite(client)
        boot = await client.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
        assert boot.status == "Accepted"
        started = await client.call(
            call.StartTransaction(
                connector_id=1, id_tag=tag, meter_start=0, timestamp=datetime.now(UTC).isoformat()
            )
        )
        assert started.id_tag_info["status"] == "Accepted"
        yield client, started.transaction_id


async def test_a_forecast_posted_to_the_api_gives_profiles_on_both_gateways(layout: Layout) -> None:
    api = await layout.start("api")
    gateway_a = await layout.start("gateway", gateway_id="gw-a")
    gateway_b = await layout.start("gateway", gateway_id="gw-b")
    scheduler = await layout.start("scheduler", scheduler_retry_backoff_s=0.05, scheduler_retry_attempts=2)
    site = await api.http.post(
        "/api/v1/sites", json={"name": "depot", "grid_connection_limit_kw": 100, "fallback_limit_kw": 11}
    )
    assert site.status_code == 201, site.text
    site_id = site.json()["id"]
    await forecast(api, site_id, "dso-1", 30.0)
    async with (
        charging(api, gateway_a, site_id, "CP1", "T1") as (cp1, tx1),
        charging(api, gateway_b, site_id, "CP2", "T2") as (cp2, tx2),
    ):
        # the transactions started on two gateways reach the scheduler; its profiles reach both
        await eventually(
            lambda: abs(current_kw(cp1, tx1) - 15.0) < 0.5 and abs(current_kw(cp2, tx2) - 15.0) < 0.5,
            timeout_s=20,
        )
        await forecast(api, site_id, "dso-2", 20.0)  # to the API process: the scheduler replans
        await eventually(
            lambda: abs(current_kw(cp1, tx1) - 10.0) < 0.5 and abs(current_kw(cp2, tx2) - 10.0) < 0.5,
            timeout_s=20,
        )
        accepted = await api.http.get(f"/api/v1/transactions/{tx2}/schedule")
        assert accepted.json()["profile"]["status"] == "accepted"

    # every role counts what it did
    planned = metric(await scrape(scheduler), "smartcharge_replans_total", status="optimal")
    assert (planned or 0) >= 2
    sent = metric(
        await scrape(gateway_b), "smartcharge_commands_total", action="SetChargingProfile", status="accepted"
    )
    assert (sent or 0) >= 2
