"""Issue 2's "Done when", end to end: the whole service (create_app under uvicorn, its OCPP server and
scheduler) on loopback; a charge point and a tag registered over the API; the `ocpp` package's ChargePoint
connects over a real WebSocket, boots, charges a session; the API shows the transaction with its meter values
and energy; ReserveNow sent over the API is accepted in the command's status. SQLite and PostgreSQL.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from ocpp.v16 import call

from app.db.migrate import upgrade
from tests.e2e.service import running_service
from tests.gateway.helpers import ClientChargePoint, connect_charge_point, eventually

pytestmark = pytest.mark.anyio

PASSWORD = "cp1-secret-password"


def stamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


async def charge_a_session(cp: ClientChargePoint, start: datetime) -> int:
    """Boot, report status, authorise, charge 0.5 h with three samples, stop; returns the transactionId."""
    boot = await cp.call(
        call.BootNotification(
            charge_point_model="Wallbox-22", charge_point_vendor="ACME", firmware_version="1.0.4"
        )
    )
    assert boot.status == "Accepted"
    await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
    assert (await cp.call(call.Authorize(id_tag="TAG1"))).id_tag_info["status"] == "Accepted"
    started = await cp.call(
        call.StartTransaction(connector_id=1, id_tag="TAG1", meter_start=10_000, timestamp=stamp(start))
    )
    assert started.id_tag_info["status"] == "Accepted"
    await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
    for minutes, register_wh, power_w in [(10, 11_800, 11_000), (20, 13_700, 11_100), (30, 15_500, 10_900)]:
        sampled = [
            {"value": str(register_wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": str(power_w / 1000), "measurand": "Power.Active.Import", "unit": "kW"},
        ]
        await cp.call(
            call.MeterValues(
                connector_id=1,
                transaction_id=started.transaction_id,
                meter_value=[
                    {"timestamp": stamp(start + timedelta(minutes=minutes)), "sampledValue": sampled}
                ],
            )
        )
    await cp.call(
        call.StopTransaction(
            meter_stop=15_600,
            timestamp=stamp(start + timedelta(minutes=31)),
            transaction_id=started.transaction_id,
            reason="EVDisconnected",
        )
    )
    await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
    transaction_id: int = started.transaction_id
    return transaction_id


async def test_first_session(database_url: str) -> None:
    upgrade(database_url)  # as `make run` does: the schema comes from the migrations
    async with running_service(database_url) as service:
        created = await service.api.post("/api-keys", json={"role": "operator", "name": "e2e operator"})
        assert created.status_code == 201, created.text
        operator = httpx.AsyncClient(
            base_url=str(service.api.base_url),
            headers={"Authorization": f"Bearer {created.json()['token']}"},
            timeout=30,
        )
        async with operator:
            registered = await operator.post("/charge-points", json={"id": "CP1", "password": PASSWORD})
            assert registered.status_code == 201, registered.text
            assert (await operator.post("/id-tags", json={"id_tag": "TAG1"})).status_code == 201
            assert (await operator.get("/charge-points/CP1")).json()["connected"] is False

            gateway = service.app.state.gateway
            start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
            async with connect_charge_point(gateway, "CP1", password=PASSWORD) as cp:
                assert service.ws("CP1") == f"ws://127.0.0.1:{gateway.port}/ocpp/CP1"
                transaction_id = await charge_a_session(cp, start)

                charge_point = (await operator.get("/charge-points/CP1")).json()
                assert charge_point["connected"] is True
                assert (charge_point["vendor"], charge_point["model"]) == ("ACME", "Wallbox-22")
                assert charge_point["last_boot_at"] is not None
                assert [(c["connector_id"], c["status"]) for c in charge_point["connectors"]] == [
                    (1, "Available")
                ]

                async def configuration() -> list[dict[str, Any]]:
                    items: list[dict[str, Any]] = (
                        await operator.get("/charge-points/CP1/configuration")
                    ).json()["items"]
                    return items

                keys = {item["key"]: item["value"] for item in await eventually(configuration, timeout_s=10)}
                assert keys["ChargingScheduleMaxPeriods"] == "24"

                listed = (await operator.get("/transactions", params={"charge_point_id": "CP1"})).json()
                assert listed["total"] == 1
                assert listed["items"][0]["id"] == transaction_id
                detail = (await operator.get(f"/transactions/{transaction_id}")).json()
                assert detail["active"] is False
                assert (detail["meter_start_wh"], detail["meter_stop_wh"]) == (10_000, 15_600)
                assert detail["energy_wh"] == 5_600
                assert detail["stop_reason"] == "EVDisconnected"
                registers = [
                    v["value_normalised"]
                    for v in detail["meter_values"]
                    if v["measurand"] == "Energy.Active.Import.Register" and v["context"] == "Sample.Periodic"
                ]
                assert registers == [11_800, 13_700, 15_500]
                powers = [
                    v["value_normalised"]
                    for v in detail["meter_values"]
                    if v["measurand"] == "Power.Active.Import"
                ]
                assert powers == [11_000, 11_100, 10_900]
                csv_text = (
                    await operator.get("/meter-values.csv", params={"transaction_id": transaction_id})
                ).text
                assert len(csv_text.strip().splitlines()) == 1 + len(detail["meter_values"])

                expiry = stamp(datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1))
                reserve = {
                    "action": "ReserveNow",
                    "payload": {"connectorId": 1, "expiryDate": expiry, "idTag": "TAG1"},
                }
                sent = await operator.post("/charge-points/CP1/commands", json=reserve)
                assert sent.status_code == 202, sent.text
                location = sent.headers["location"].removeprefix("/api/v1")

                async def answered() -> dict[str, Any] | None:
                    command: dict[str, Any] = (await operator.get(location)).json()
                    return command if command["status"] != "pending" else None

                command = await eventually(answered, timeout_s=10)
                assert command["status"] == "accepted"
                assert command["response"] == {"status": "Accepted"}
                assert command["completed_at"] is not None
                received = await cp.wait_for_call("ReserveNow")
                assert received["idTag"] == "TAG1"
                reservations = (await operator.get("/reservations", params={"active": True})).json()
                assert [r["id"] for r in reservations["items"]] == [received["reservationId"]]

                status = (await operator.get("/status")).json()
                assert status["connected_charge_points"] == 1
                assert status["active_reservations"] == 1
                assert status["heartbeats"]["never"] == 1  # booted, no Heartbeat sent yet

            async def disconnected() -> bool:
                return (await operator.get("/charge-points/CP1")).json()["connected"] is False

            assert await eventually(disconnected, timeout_s=10)
            problem = await operator.post("/charge-points/CP1/commands", json={"action": "ClearCache"})
            assert problem.status_code == 409
            assert problem.headers["content-type"].startswith("application/problem+json")


async def test_operator_accepts_a_pending_charge_point(migrated_url: str) -> None:
    async with running_service(migrated_url, unknown_charge_points="pending") as service:
        gateway = service.app.state.gateway
        boot = call.BootNotification(charge_point_model="X1", charge_point_vendor="ACME")
        async with connect_charge_point(gateway, "NEW1") as cp:
            assert (await cp.call(boot)).status == "Pending"
            pending = (
                await service.api.get("/charge-points", params={"registration_status": "Pending"})
            ).json()
            assert [c["id"] for c in pending["items"]] == ["NEW1"]
            assert (await service.api.get("/status")).json()["pending_charge_points"] == 1
            accepted = await service.api.patch(
                "/charge-points/NEW1", json={"registration_status": "Accepted"}
            )
            assert accepted.status_code == 200
            assert (await cp.call(boot)).status == "Accepted"
