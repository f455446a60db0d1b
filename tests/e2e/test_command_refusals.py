"""Commands the API refuses before anything is sent, through the whole service (issue 18): a ReserveNow
whose reservationId clashes with another reservation is 409, one for a tag that may not charge and a
date-time without an offset are 422, all application/problem+json; a valid offset goes out as UTC `Z`."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from ocpp.v16 import call

from tests.api.conftest import problem
from tests.e2e.service import running_service
from tests.gateway.helpers import connect_charge_point

pytestmark = pytest.mark.anyio

EXPIRY = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)


def reserve_now(id_tag: str, reservation_id: int, expiry: str) -> dict[str, Any]:
    payload = {"connectorId": 1, "idTag": id_tag, "reservationId": reservation_id, "expiryDate": expiry}
    return {"action": "ReserveNow", "payload": payload}


async def test_reservation_clashes_tags_and_date_times_are_refused_over_http(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        api = service.api
        assert (await api.post("/charge-points", json={"id": "CP1"})).status_code == 201
        for tag in ("ALICE", "BOB"):
            assert (await api.post("/id-tags", json={"id_tag": tag})).status_code == 201
        assert (await api.patch("/id-tags/BOB", json={"blocked": True})).status_code == 200
        offset = EXPIRY.isoformat()  # +00:00
        local = EXPIRY.astimezone(timezone(timedelta(hours=2))).isoformat()  # +02:00
        async with connect_charge_point(service.app.state.gateway, "CP1") as cp:
            await cp.call(call.Heartbeat())
            url = "/charge-points/CP1/commands?wait=true"
            made = await api.post(url, json=reserve_now("ALICE", 5, local))
            assert made.status_code == 202, made.text
            assert made.json()["payload"]["expiryDate"] == EXPIRY.isoformat().replace("+00:00", "Z")
            assert (await api.post("/id-tags", json={"id_tag": "CAROL"})).status_code == 201

            clash = problem(await api.post(url, json=reserve_now("CAROL", 5, offset)), 409)
            assert "reservationId 5" in clash["detail"]
            blocked = problem(await api.post(url, json=reserve_now("BOB", 6, offset)), 422)
            assert blocked["errors"][0]["loc"] == ["body", "payload", "idTag"]
            assert "Blocked" in blocked["detail"]
            unknown = problem(await api.post(url, json=reserve_now("NOBODY", 6, offset)), 422)
            assert "Invalid" in unknown["detail"]
            for expiry in ("2030-01-01", "20300101T120000Z", "2030-01-01T12:00:00"):
                bad = problem(await api.post(url, json=reserve_now("ALICE", 6, expiry)), 422)
                assert "RFC 3339" in bad["detail"], expiry
            sent = [p for action, p in cp.received if action == "ReserveNow"]
        assert [p["reservationId"] for p in sent] == [5]
        reservations = (await api.get("/reservations")).json()["items"]
        assert [(r["id"], r["id_tag"], r["status"]) for r in reservations] == [(5, "ALICE", "accepted")]
        assert (await api.get("/commands")).json()["total"] == 1
