"""`/metrics` (Prometheus text format) and `/ready` on every role, after real traffic; JSON log lines on
request."""

import json
import logging

import httpx
import pytest
from ocpp.v16 import call
from prometheus_client.parser import text_string_to_metric_families

from app.logs import JsonFormatter
from tests.e2e.service import running_service
from tests.gateway.helpers import connect_charge_point, eventually
from tests.scale.helpers import Layout, Process

pytestmark = pytest.mark.anyio


async def scrape(process: Process) -> str:
    response = await process.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


def metric(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


async def test_the_embedded_service_counts_messages_commands_and_batches(migrated_url: str) -> None:
    async with (
        running_service(migrated_url, unknown_charge_points="accept") as service,
        httpx.AsyncClient(base_url=str(service.api.base_url).removesuffix("/api/v1/")) as root,
    ):
        process = Process("all", service.app, root)
        async with connect_charge_point(service.app.state.gateway, "CP1") as cp:
            await cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
            await cp.call(call.Heartbeat())
            await cp.wait_for_call("GetConfiguration")  # sent after an accepted boot
            posted = await service.api.post(
                "/charge-points/CP1/commands", json={"action": "Reset", "payload": {"type": "Soft"}}
            )
            assert posted.status_code == 202

            async def reset_counted() -> str | None:
                text = await scrape(process)
                done = metric(text, "smartcharge_commands_total", action="Reset", status="accepted")
                return text if done == 1 else None

            text = await eventually(reset_counted)
        assert metric(text, "smartcharge_connected_charge_points") == 1
        messages = "smartcharge_ocpp_messages_total"
        assert metric(text, messages, direction="in", action="BootNotification", kind="call") == 1
        assert metric(text, messages, direction="out", action="Heartbeat", kind="result") == 1
        assert metric(text, messages, direction="out", action="Reset", kind="call") == 1
        assert metric(text, messages, direction="in", action="Reset", kind="result") == 1
        assert (metric(text, "smartcharge_db_write_batch_seconds_count") or 0) >= 2
        assert (metric(text, "smartcharge_db_write_batch_units_sum") or 0) >= 2
        # how long each action took: the charge point's CALLs we answered, our CALLs it answered
        assert metric(text, "smartcharge_ocpp_handle_seconds_count", action="BootNotification") == 1
        assert metric(text, "smartcharge_ocpp_handle_seconds_count", action="Heartbeat") == 1
        assert (metric(text, "smartcharge_ocpp_handle_seconds_sum", action="Heartbeat") or -1) >= 0
        assert metric(text, "smartcharge_ocpp_round_trip_seconds_count", action="Reset") == 1
        assert metric(text, "smartcharge_ocpp_round_trip_seconds_bucket", action="Reset", le="+Inf") == 1
        assert metric(text, "smartcharge_non_compliant_charge_points") == 0
        ready = await root.get("/ready")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "ready",
            "role": "all",
            "checks": {"database": "ok", "ocpp": "ok"},
        }


async def test_each_scale_out_role_serves_metrics_and_health(layout: Layout) -> None:
    gateway = await layout.start("gateway")
    api = await layout.start("api")
    async with connect_charge_point(gateway.app.state.gateway, "CP1"):
        for process in (gateway, api):
            await eventually(lambda p=process: _connected_is_one(p))
    health = await gateway.http.get("/health")
    assert health.json() == {"status": "ok", "role": "gateway", "database": "ok"}
    ready = await gateway.http.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok", "ocpp": "ok"}
    gateway.app.state.gateway._server.close()  # the OCPP port stops taking connections: not ready
    await gateway.app.state.gateway._server.wait_closed()
    not_ready = await gateway.http.get("/ready")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["ocpp"] == "ConnectionError: the OCPP server is not listening"
    assert (await api.http.get("/ready")).json()["checks"] == {"database": "ok", "redis": "ok"}
    assert (await gateway.http.get("/api/v1/status")).status_code == 404  # the API is the api role's
    assert (await api.http.get("/api/v1/health")).status_code == 200


async def _connected_is_one(process: Process) -> bool:
    return metric(await scrape(process), "smartcharge_connected_charge_points") == 1


def test_json_log_lines_carry_the_ids_a_record_names() -> None:
    record = logging.LogRecord(
        "ocpp_gateway.server", logging.WARNING, __file__, 1, "%s: replaced", ("CP1",), None
    )
    record.charge_point_id = "CP1"
    line = json.loads(JsonFormatter("gateway").format(record))
    assert line["message"] == "CP1: replaced"
    assert (line["level"], line["logger"], line["role"], line["charge_point_id"]) == (
        "WARNING",
        "ocpp_gateway.server",
        "gateway",
        "CP1",
    )
    assert line["time"].endswith("+00:00")
