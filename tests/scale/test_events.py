"""Events across processes: a gateway's transaction events reach the scheduler process, a forecast posted
to the API process replans, and the profiles reach charge points on two gateways; events wait in the
stream for a scheduler that was down, which replans every site when it starts."""

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call

from app.cluster.events import EVENT_TYPES, EventExport, EventImport, decode, encode, events_stream
from app.cluster.link import RedisLink
from app.domain import events
from app.domain.bus import EventBus
from tests.e2e.test_smart_charging import current_kw, echo_composite
from tests.gateway.helpers import ClientChargePoint, connect_charge_point, eventually
from tests.scale.helpers import Layout, Process, role_process
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


async def new_site(api: Process) -> int:
    site = await api.http.post(
        "/api/v1/sites", json={"name": "depot", "grid_connection_limit_kw": 100, "fallback_limit_kw": 11}
    )
    assert site.status_code == 201, site.text
    site_id: int = site.json()["id"]
    return site_id


async def test_a_forecast_posted_to_the_api_gives_profiles_on_both_gateways(layout: Layout) -> None:
    api = await layout.start("api")
    gateway_a = await layout.start("gateway", gateway_id="gw-a")
    gateway_b = await layout.start("gateway", gateway_id="gw-b")
    scheduler = await layout.start("scheduler", scheduler_retry_backoff_s=0.05, scheduler_retry_attempts=2)
    site_id = await new_site(api)
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

    async def profiles_counted() -> bool:  # two plans for two transactions
        text = await scrape(scheduler)
        return (metric(text, "smartcharge_profiles_total", purpose="TxProfile", status="accepted") or 0) >= 4

    await eventually(profiles_counted)
    assert metric(await scrape(scheduler), "smartcharge_non_compliant_charge_points") == 0


QUICK = {"scheduler_retry_backoff_s": 0.05, "scheduler_retry_attempts": 2}


async def test_a_scheduler_restarted_reads_what_it_missed_and_replans_every_site(layout: Layout) -> None:
    api = await layout.start("api")
    gateway = await layout.start("gateway", gateway_id="gw-a")
    site_id = await new_site(api)
    await forecast(api, site_id, "dso-1", 10.0)
    async with charging(api, gateway, site_id, "CP1", "T1") as (cp, tx):
        # started after the transaction: it replans every site when it starts
        async with role_process(layout, "scheduler", scheduler_name="planner", **QUICK) as first:
            await eventually(lambda: abs(current_kw(cp, tx) - 10.0) < 0.5, timeout_s=20)
            first.process.kill()  # SIGKILL: whatever it had not acknowledged stays pending in its group
            await asyncio.to_thread(first.process.wait, 30)
        down_since = datetime.now(UTC)
        await forecast(api, site_id, "dso-2", 7.0)  # nobody plans now: the event waits in the stream
        async with role_process(layout, "scheduler", scheduler_name="planner", **QUICK):
            await eventually(lambda: abs(current_kw(cp, tx) - 7.0) < 0.5, timeout_s=20)

            async def triggers() -> str | None:
                revisions = await api.http.get(
                    f"/api/v1/sites/{site_id}/schedule/revisions", params={"from": down_since.isoformat()}
                )
                found = "; ".join(revision["trigger"] for revision in revisions.json()["items"])
                return found if "scheduler start" in found else None

            found = await eventually(triggers)
            assert "forecast posted" in found  # read from the stream, not only replanned at the start


async def test_events_wait_in_the_stream_for_a_group_and_what_was_not_handled_is_read_again(
    redis_url: str, prefix: str
) -> None:
    link = RedisLink(redis_url, prefix)
    await link.start()
    posted = [events.ForecastPosted(site_id, 1, NOW, NOW + timedelta(hours=1)) for site_id in (1, 2, 3)]
    try:
        stuck, hung = EventBus(), asyncio.Event()

        async def hang(event: events.Event) -> None:
            hung.set()
            await asyncio.Event().wait()  # a scheduler that dies while it handles the event

        stuck.subscribe(hang)
        reader = EventImport(link, stuck, group="planner")
        await reader.start()  # joins the group at the stream's end
        sender = EventBus()
        export = EventExport(link, sender, max_len=1000)
        sender.publish(posted[0])
        await asyncio.wait_for(hung.wait(), 10)
        await reader.stop()  # not acknowledged
        for event in posted[1:]:
            sender.publish(event)
        await export.close()  # sent

        heard: list[events.Event] = []
        bus = EventBus()
        bus.subscribe(heard.append)
        again = EventImport(link, bus, group="planner")
        await again.start()
        await eventually(lambda: len(heard) == 3)
        await again.stop()
        assert heard == posted  # the one read before first, then what came meanwhile
        pending = await link.redis.xpending(events_stream(link), "planner")
        assert pending["pending"] == 0  # each acknowledged once handled

        late: list[events.Event] = []
        other = EventBus()
        other.subscribe(late.append)
        newcomer = EventImport(link, other, group="another")  # a new group starts at the end
        await newcomer.start()
        export = EventExport(link, sender, max_len=1000)
        sender.publish(events.ChargePointConnected("CP1", NOW))
        await eventually(lambda: late == [events.ChargePointConnected("CP1", NOW)])
        await newcomer.stop()
        await export.close()
    finally:
        await link.redis.delete(events_stream(link))
        await link.close()
