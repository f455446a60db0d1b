"""The status summary and reservations."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.domain.ocpp import Connector, Reservation
from tests.api import seed
from tests.api.conftest import Api, problem


@pytest.mark.anyio
async def test_status_counts(api: Api, analyst: httpx.AsyncClient, operator: httpx.AsyncClient) -> None:
    now = datetime.now(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    await seed.charge_point(api.database, "TODAY", last_heartbeat_at=today + timedelta(seconds=1))
    await seed.charge_point(api.database, "YESTERDAY", last_heartbeat_at=today - timedelta(hours=23))
    await seed.charge_point(api.database, "EARLIER", last_heartbeat_at=today - timedelta(days=1, seconds=1))
    await seed.charge_point(api.database, "NEVER", registration_status="Pending")
    api.commands.connected.update({"TODAY", "NOT-REGISTERED"})
    await seed.add(
        api.database,
        Connector(charge_point_id="TODAY", connector_id=0, status="Available"),
        Connector(charge_point_id="TODAY", connector_id=1, status="Charging"),
        Connector(charge_point_id="TODAY", connector_id=2, status="Available"),
        Connector(charge_point_id="YESTERDAY", connector_id=1, status="Available"),
        Connector(charge_point_id="EARLIER", connector_id=1),
    )
    for tag in ("A", "B", "C"):
        await operator.post("/id-tags", json={"id_tag": tag})
    await seed.transaction(api.database, "TODAY", now - timedelta(hours=1), id_tag="A")
    await seed.transaction(
        api.database, "TODAY", now - timedelta(hours=3), stop=now - timedelta(hours=2), meter_stop_wh=2000
    )
    await seed.add(
        api.database,
        Reservation(
            charge_point_id="TODAY",
            connector_id=2,
            id_tag="B",
            expiry_date=now + timedelta(hours=1),
            status="accepted",
        ),
        Reservation(
            charge_point_id="TODAY",
            connector_id=2,
            id_tag="B",
            expiry_date=now - timedelta(hours=1),
            status="accepted",
        ),
        Reservation(
            charge_point_id="TODAY",
            connector_id=2,
            id_tag="C",
            expiry_date=now + timedelta(hours=1),
            status="requested",
        ),
    )
    summary = (await analyst.get("/status")).json()
    assert summary["charge_points"] == 4
    assert summary["connected_charge_points"] == 1
    assert summary["pending_charge_points"] == 1
    assert summary["id_tags"] == 3
    assert summary["active_transactions"] == 1
    assert summary["active_reservations"] == 1
    assert summary["connectors_by_status"] == {"Available": 2, "Charging": 1, "Unknown": 1}
    assert summary["heartbeats"] == {"today": 1, "yesterday": 1, "earlier": 1, "never": 1}
    assert summary["generated_at"].endswith("Z")


@pytest.mark.anyio
async def test_reservations(api: Api, analyst: httpx.AsyncClient) -> None:
    now = datetime.now(UTC)
    await seed.charge_point(api.database, "CP1")
    await seed.charge_point(api.database, "CP2")
    live, expired, cancelled, other = await seed.add(
        api.database,
        Reservation(
            charge_point_id="CP1",
            connector_id=1,
            id_tag="A",
            expiry_date=now + timedelta(hours=1),
            status="accepted",
        ),
        Reservation(
            charge_point_id="CP1",
            connector_id=1,
            id_tag="A",
            expiry_date=now - timedelta(hours=1),
            status="accepted",
        ),
        Reservation(
            charge_point_id="CP1",
            connector_id=2,
            id_tag="B",
            expiry_date=now + timedelta(hours=1),
            status="cancelled",
        ),
        Reservation(
            charge_point_id="CP2",
            connector_id=1,
            id_tag="B",
            expiry_date=now + timedelta(hours=2),
            status="accepted",
        ),
    )

    async def ids(**params: object) -> set[int]:
        page = (await analyst.get("/reservations", params=params)).json()
        assert page["total"] == len(page["items"])
        return {r["id"] for r in page["items"]}

    assert await ids() == {live.id, expired.id, cancelled.id, other.id}
    assert await ids(active=True) == {live.id, other.id}
    assert await ids(active=False) == {expired.id, cancelled.id}
    assert await ids(charge_point_id="CP1", active=True) == {live.id}
    assert await ids(status="cancelled") == {cancelled.id}
    assert await ids(id_tag="B") == {cancelled.id, other.id}
    problem(await analyst.get("/reservations", params={"status": "maybe"}), 422)
    detail = (await analyst.get(f"/reservations/{live.id}")).json()
    assert (detail["active"], detail["status"], detail["connector_id"]) == (True, "accepted", 1)
    assert (await analyst.get(f"/reservations/{expired.id}")).json()["active"] is False
    problem(await analyst.get("/reservations/999999"), 404)
