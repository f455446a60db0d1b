"""Charge points: registration, connectors, configuration, status and boot history, deletion."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from app.domain.ocpp import (
    BootNotification,
    ChargePoint,
    ChargePointConfiguration,
    Connector,
    StatusNotification,
)
from app.services.passwords import verify_password
from tests.api import seed
from tests.api.conftest import Api, problem

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.mark.anyio
async def test_register_with_password(api: Api, operator: httpx.AsyncClient) -> None:
    response = await operator.post(
        "/charge-points", json={"id": "CP1", "description": "bay 1", "password": "s3cret-pass"}
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/api/v1/charge-points/CP1"
    created = response.json()
    assert created["id"] == "CP1"
    assert created["has_password"] is True
    assert created["registration_status"] == "Accepted"
    assert created["connected"] is False
    assert created["connectors"] == []
    assert "password" not in created
    assert "password_hash" not in created
    async with api.database.session() as session:
        row = await session.get(ChargePoint, "CP1")
    assert row is not None
    assert row.password_hash is not None
    assert row.password_hash != "s3cret-pass"
    assert verify_password(row.password_hash, "s3cret-pass")


@pytest.mark.anyio
async def test_register_conflicts_and_validation(api: Api, operator: httpx.AsyncClient) -> None:
    assert (await operator.post("/charge-points", json={"id": "CP1"})).status_code == 201
    assert "already" in problem(await operator.post("/charge-points", json={"id": "CP1"}), 409)["detail"]
    for bad in ["", "a b", "x" * 49, "a/b"]:
        body = problem(await operator.post("/charge-points", json={"id": bad}), 422)
        assert body["errors"][0]["loc"] == ["body", "id"]
    body = problem(await operator.post("/charge-points", json={"id": "CP2", "password": "short"}), 422)
    assert body["errors"][0]["loc"] == ["body", "password"]
    body = problem(
        await operator.post("/charge-points", json={"id": "CP2", "registration_status": "Maybe"}), 422
    )
    assert body["errors"][0]["loc"] == ["body", "registration_status"]
    body = problem(await operator.post("/charge-points", json={"id": "CP2", "site_id": 1}), 422)
    assert body["errors"][0]["loc"] == ["body", "site_id"]


@pytest.mark.anyio
async def test_accept_a_pending_charge_point(api: Api, operator: httpx.AsyncClient) -> None:
    await seed.charge_point(api.database, "NEW1", registration_status="Pending", vendor="ACME", model="X1")
    pending = (await operator.get("/charge-points", params={"registration_status": "Pending"})).json()
    assert [cp["id"] for cp in pending["items"]] == ["NEW1"]
    response = await operator.patch("/charge-points/NEW1", json={"registration_status": "Accepted"})
    assert response.status_code == 200
    assert response.json()["registration_status"] == "Accepted"
    assert response.json()["vendor"] == "ACME"
    assert (await operator.get("/charge-points", params={"registration_status": "Pending"})).json()[
        "total"
    ] == 0


@pytest.mark.anyio
async def test_update(api: Api, operator: httpx.AsyncClient) -> None:
    await operator.post("/charge-points", json={"id": "CP1", "password": "first-pass", "description": "d"})
    updated = (
        await operator.patch("/charge-points/CP1", json={"description": None, "password": None})
    ).json()
    assert updated["description"] is None
    assert updated["has_password"] is False
    updated = (await operator.patch("/charge-points/CP1", json={"password": "second-pass"})).json()
    assert updated["has_password"] is True
    assert updated["description"] is None
    body = problem(await operator.patch("/charge-points/CP1", json={"registration_status": None}), 422)
    assert body["errors"][0]["loc"] == ["body", "registration_status"]
    problem(await operator.patch("/charge-points/NOPE", json={"description": "x"}), 404)


@pytest.mark.anyio
async def test_get_shows_boot_info_heartbeat_connected_and_connectors(
    api: Api, analyst: httpx.AsyncClient
) -> None:
    await seed.charge_point(
        api.database,
        "CP1",
        vendor="ACME",
        model="X1",
        firmware_version="1.2.3",
        last_heartbeat_at=T0,
        last_boot_at=T0 - timedelta(hours=1),
    )
    await seed.add(
        api.database,
        Connector(charge_point_id="CP1", connector_id=0, status="Available", status_at=T0),
        Connector(charge_point_id="CP1", connector_id=2, status="Faulted", error_code="GroundFailure"),
        Connector(charge_point_id="CP1", connector_id=1, status="Charging", phases=1, max_current_a=16),
    )
    api.commands.connected.add("CP1")
    got = (await analyst.get("/charge-points/CP1")).json()
    assert got["connected"] is True
    assert got["vendor"] == "ACME"
    assert got["firmware_version"] == "1.2.3"
    assert got["last_heartbeat_at"] == "2026-03-01T08:00:00Z"
    assert got["last_boot_at"] == "2026-03-01T07:00:00Z"
    assert [c["connector_id"] for c in got["connectors"]] == [0, 1, 2]
    assert got["connectors"][1]["status"] == "Charging"
    assert got["connectors"][1]["phases"] == 1
    assert got["connectors"][2]["error_code"] == "GroundFailure"
    connectors = (await analyst.get("/charge-points/CP1/connectors")).json()
    assert (connectors["items"], connectors["total"]) == (got["connectors"], 3)
    second = (await analyst.get("/charge-points/CP1/connectors", params={"limit": 1, "offset": 1})).json()
    assert [c["connector_id"] for c in second["items"]] == [1]
    problem(await analyst.get("/charge-points/NOPE"), 404)
    problem(await analyst.get("/charge-points/NOPE/connectors"), 404)


@pytest.mark.anyio
async def test_list_filters_and_pages(api: Api, analyst: httpx.AsyncClient) -> None:
    for n in range(5):
        await seed.charge_point(api.database, f"CP{n}")
    api.commands.connected.update({"CP1", "CP3"})
    page = (await analyst.get("/charge-points", params={"limit": 2, "offset": 1})).json()
    assert page["total"] == 5
    assert [cp["id"] for cp in page["items"]] == ["CP1", "CP2"]
    assert [cp["connected"] for cp in page["items"]] == [True, False]
    connected = (await analyst.get("/charge-points", params={"connected": True})).json()
    assert [cp["id"] for cp in connected["items"]] == ["CP1", "CP3"]
    assert connected["total"] == 2
    offline = (await analyst.get("/charge-points", params={"connected": False})).json()
    assert [cp["id"] for cp in offline["items"]] == ["CP0", "CP2", "CP4"]
    problem(await analyst.get("/charge-points", params={"limit": 1001}), 422)
    await seed.charge_point(api.database, "WB-7", description="Garage north")
    found = (await analyst.get("/charge-points", params={"q": "NORTH"})).json()
    assert [cp["id"] for cp in found["items"]] == ["WB-7"]
    assert (await analyst.get("/charge-points", params={"q": "cp"})).json()["total"] == 5


@pytest.mark.anyio
async def test_connector_settings(api: Api, operator: httpx.AsyncClient) -> None:
    await seed.charge_point(api.database, "CP1")
    await seed.add(api.database, Connector(charge_point_id="CP1", connector_id=1, status="Available"))
    response = await operator.patch(
        "/charge-points/CP1/connectors/1", json={"phases": 1, "max_current_a": 16}
    )
    assert response.status_code == 200
    assert response.json() | {"status": "Available"} == response.json()
    assert (response.json()["phases"], response.json()["max_current_a"]) == (1, 16)
    assert response.json()["nominal_voltage_v"] == 230
    created = (
        await operator.patch("/charge-points/CP1/connectors/2", json={"nominal_voltage_v": 240})
    ).json()
    assert created["connector_id"] == 2
    assert created["status"] is None
    assert created["nominal_voltage_v"] == 240
    body = problem(await operator.patch("/charge-points/CP1/connectors/1", json={"phases": 2}), 422)
    assert body["errors"][0]["loc"][:2] == ["body", "phases"]
    problem(await operator.patch("/charge-points/CP1/connectors/1", json={"phases": None}), 422)
    problem(await operator.patch("/charge-points/CP1/connectors/1", json={"max_current_a": -1}), 422)
    problem(await operator.patch("/charge-points/CP1/connectors/0", json={"phases": 1}), 422)
    problem(await operator.patch("/charge-points/NOPE/connectors/1", json={"phases": 1}), 404)
    connectors = (await operator.get("/charge-points/CP1/connectors")).json()["items"]
    assert [(c["connector_id"], c["phases"]) for c in connectors] == [(1, 1), (2, 3)]


@pytest.mark.anyio
async def test_configuration(api: Api, analyst: httpx.AsyncClient) -> None:
    await seed.charge_point(api.database, "CP1")
    await seed.add(
        api.database,
        ChargePointConfiguration(charge_point_id="CP1", key="NumberOfConnectors", value="2", readonly=True),
        ChargePointConfiguration(charge_point_id="CP1", key="ChargingScheduleMaxPeriods", value="24"),
        ChargePointConfiguration(charge_point_id="CP1", key="MeterValueSampleInterval", value="60"),
    )
    page = (await analyst.get("/charge-points/CP1/configuration")).json()
    assert page["total"] == 3
    assert [(k["key"], k["value"], k["readonly"]) for k in page["items"]] == [
        ("ChargingScheduleMaxPeriods", "24", False),
        ("MeterValueSampleInterval", "60", False),
        ("NumberOfConnectors", "2", True),
    ]
    problem(await analyst.get("/charge-points/NOPE/configuration"), 404)


@pytest.mark.anyio
async def test_status_history(api: Api, analyst: httpx.AsyncClient) -> None:
    await seed.charge_point(api.database, "CP1")
    statuses = ["Available", "Preparing", "Charging", "Finishing"]
    await seed.add(
        api.database,
        *[
            StatusNotification(
                charge_point_id="CP1",
                connector_id=1,
                status=s,
                error_code="NoError",
                timestamp=T0 + timedelta(minutes=i),
            )
            for i, s in enumerate(statuses)
        ],
        StatusNotification(
            charge_point_id="CP1", connector_id=0, status="Unavailable", error_code="OtherError", info="door"
        ),
    )
    page = (await analyst.get("/charge-points/CP1/status-history", params={"connector_id": 1})).json()
    assert page["total"] == 4
    assert [s["status"] for s in page["items"]] == statuses[::-1]
    window = {"connector_id": 1, "from": "2026-03-01T08:01:00Z", "to": "2026-03-01T10:03:00+02:00"}
    page = (await analyst.get("/charge-points/CP1/status-history", params=window)).json()
    assert [s["status"] for s in page["items"]] == ["Charging", "Preparing"]
    zero = (await analyst.get("/charge-points/CP1/status-history", params={"connector_id": 0})).json()
    assert zero["items"][0]["info"] == "door"
    assert zero["items"][0]["timestamp"] is None
    everything = (await analyst.get("/charge-points/CP1/status-history")).json()
    assert everything["total"] == 5
    bad = {"from": "2026-03-01T09:00:00Z", "to": "2026-03-01T08:00:00Z"}
    body = problem(await analyst.get("/charge-points/CP1/status-history", params=bad), 422)
    assert body["errors"][0]["loc"] == ["query", "to"]


@pytest.mark.anyio
async def test_boot_notifications(api: Api, analyst: httpx.AsyncClient) -> None:
    await seed.charge_point(api.database, "CP1")
    payload = {"chargePointVendor": "ACME", "chargePointModel": "X1", "firmwareVersion": "1.0"}
    await seed.add(
        api.database,
        BootNotification(charge_point_id="CP1", payload=payload, status="Pending"),
        BootNotification(
            charge_point_id="CP1", payload=payload | {"firmwareVersion": "1.1"}, status="Accepted"
        ),
    )
    page = (await analyst.get("/charge-points/CP1/boot-notifications")).json()
    assert page["total"] == 2
    assert page["items"][0]["payload"]["firmwareVersion"] == "1.1"
    assert [b["status"] for b in page["items"]] == ["Accepted", "Pending"]


@pytest.mark.anyio
async def test_delete(api: Api, operator: httpx.AsyncClient) -> None:
    await seed.charge_point(api.database, "CP1")
    await seed.add(
        api.database,
        Connector(charge_point_id="CP1", connector_id=1, status="Available"),
        StatusNotification(charge_point_id="CP1", connector_id=1, status="Available", error_code="NoError"),
        BootNotification(charge_point_id="CP1", payload={}, status="Accepted"),
        ChargePointConfiguration(charge_point_id="CP1", key="K", value="V"),
    )
    api.commands.connected.add("CP1")
    assert "connected" in problem(await operator.delete("/charge-points/CP1"), 409)["detail"]
    api.commands.connected.clear()
    assert (await operator.delete("/charge-points/CP1")).status_code == 204
    problem(await operator.get("/charge-points/CP1"), 404)
    problem(await operator.delete("/charge-points/CP1"), 404)
    async with api.database.session() as session:
        assert (await session.exec(select(Connector))).all() == []
        assert (await session.exec(select(StatusNotification))).all() == []


@pytest.mark.anyio
async def test_delete_refused_with_transactions(api: Api, operator: httpx.AsyncClient) -> None:
    await seed.charge_point(api.database, "CP1")
    await seed.transaction(api.database, "CP1", T0)
    body = problem(await operator.delete("/charge-points/CP1"), 409)
    assert "transactions" in body["detail"]
    assert (await operator.get("/charge-points/CP1")).status_code == 200


@pytest.mark.parametrize(
    "candidate", ["CP1", "DE*ACME*E1", "a.b_c-d:e@f+g=h", "x" * 48, "x" * 49, "a b", "a/b", "ä", ""]
)
def test_the_api_accepts_the_ids_the_ocpp_server_accepts(candidate: str) -> None:
    from pydantic import ValidationError

    from app.api.schemas import ChargePointCreate
    from ocpp_gateway.handshake import charge_point_id

    try:
        ChargePointCreate(id=candidate)
        api_accepts = True
    except ValidationError:
        api_accepts = False
    assert api_accepts == (charge_point_id(f"/ocpp/{candidate}") == candidate)


@pytest.mark.anyio
async def test_concurrent_requests_all_succeed(api: Api, operator: httpx.AsyncClient) -> None:
    """Writes and reads at once (SQLite has a single pooled connection) queue rather than fail."""
    await seed.charge_point(api.database, "CP0")
    api.commands.connected.add("CP0")
    requests = [operator.post("/charge-points", json={"id": f"C{n}"}) for n in range(15)]
    requests += [operator.post("/id-tags", json={"id_tag": f"T{n}"}) for n in range(10)]
    requests += [operator.get("/charge-points") for _ in range(10)]
    requests += [
        operator.post("/charge-points/CP0/commands", json={"action": "ClearCache"}) for _ in range(5)
    ]
    requests += [operator.get("/status") for _ in range(5)]
    responses = await asyncio.gather(*requests)
    assert sorted({r.status_code for r in responses}) == [200, 201, 202]
    assert (await operator.get("/charge-points")).json()["total"] == 16
    assert (await operator.get("/commands")).json()["total"] == 5


@pytest.mark.anyio
async def test_minimum_current_per_charge_point_and_connector(api: Api, operator: httpx.AsyncClient) -> None:
    await seed.charge_point(api.database, "CP1")
    assert (await operator.get("/charge-points/CP1")).json()["min_current_a"] is None
    changed = await operator.patch("/charge-points/CP1", json={"min_current_a": 8})
    assert changed.status_code == 200, changed.text
    assert changed.json()["min_current_a"] == 8
    connector = (await operator.patch("/charge-points/CP1/connectors/1", json={"min_current_a": 10})).json()
    assert connector["min_current_a"] == 10
    assert (await operator.patch("/charge-points/CP1", json={"min_current_a": None})).json()[
        "min_current_a"
    ] is None
    problem(await operator.patch("/charge-points/CP1/connectors/1", json={"min_current_a": -1}), 422)
    problem(await operator.patch("/charge-points/CP1", json={"min_current_a": 1000}), 422)
