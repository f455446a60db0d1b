"""Commands: POST any operation → 202 + Location; refusals as problems; status and lists."""

import httpx
import pytest

from app.domain.enums import Role
from tests.api import seed
from tests.api.conftest import Api, problem

RESERVE = {
    "action": "ReserveNow",
    "payload": {"connectorId": 1, "expiryDate": "2030-01-01T12:00:00Z", "idTag": "TAG1", "reservationId": 7},
}


@pytest.mark.anyio
async def test_send_returns_202_with_location(api: Api, operator: httpx.AsyncClient) -> None:
    await seed.charge_point(api.database, "CP1")
    api.commands.connected.add("CP1")
    response = await operator.post("/charge-points/CP1/commands", json=RESERVE)
    assert response.status_code == 202, response.text
    command = response.json()
    assert command["status"] == "pending"
    assert command["action"] == "ReserveNow"
    assert command["payload"] == RESERVE["payload"]
    assert command["author"] == "test operator"
    assert command["completed_at"] is None
    assert response.headers["location"] == f"/api/v1/commands/{command['id']}"
    got = await operator.get(response.headers["location"].removeprefix("/api/v1"))
    assert got.json() == command


@pytest.mark.anyio
async def test_send_and_wait(api: Api, operator: httpx.AsyncClient) -> None:
    await seed.charge_point(api.database, "CP1")
    api.commands.connected.add("CP1")
    response = await operator.post(
        "/charge-points/CP1/commands", params={"wait": True}, json={"action": "ClearCache"}
    )
    assert response.status_code == 202
    assert response.json()["status"] == "accepted"
    assert response.json()["response"] == {"status": "Accepted"}
    assert response.json()["completed_at"] is not None


@pytest.mark.anyio
async def test_refusals(api: Api, operator: httpx.AsyncClient) -> None:
    await seed.charge_point(api.database, "CP1")
    assert (
        "not registered"
        in problem(await operator.post("/charge-points/NOPE/commands", json=RESERVE), 404)["detail"]
    )
    body = problem(await operator.post("/charge-points/CP1/commands", json=RESERVE), 409)
    assert body["reason"] == "not_connected"
    api.commands.connected.add("CP1")
    body = problem(await operator.post("/charge-points/CP1/commands", json={"action": "SelfDestruct"}), 422)
    assert body["errors"][0]["loc"] == ["body", "action"]
    assert body["reason"] == "unknown_action"
    body = problem(
        await operator.post(
            "/charge-points/CP1/commands", json={"action": "Reset", "payload": {"type": "Sideways"}}
        ),
        422,
    )
    assert body["errors"][0]["loc"] == ["body", "payload"]
    assert "type" in body["detail"]
    body = problem(await operator.post("/charge-points/CP1/commands", json={"payload": {}}), 422)
    assert body["errors"][0]["loc"] == ["body", "action"]
    body = problem(
        await operator.post("/charge-points/CP1/commands", json={"action": "Reset", "payload": [1]}), 422
    )
    assert body["errors"][0]["loc"] == ["body", "payload"]
    assert (await operator.get("/commands")).json()["total"] == 0


@pytest.mark.anyio
async def test_list_and_filters(api: Api, operator: httpx.AsyncClient) -> None:
    for cp in ("CP1", "CP2"):
        await seed.charge_point(api.database, cp)
        api.commands.connected.add(cp)
    sent = [
        (await operator.post(f"/charge-points/{cp}/commands", json=body, params={"wait": wait})).json()["id"]
        for cp, body, wait in [
            ("CP1", RESERVE, False),
            ("CP1", {"action": "ClearCache"}, True),
            ("CP2", {"action": "Reset", "payload": {"type": "Soft"}}, False),
        ]
    ]

    async def ids(**params: object) -> list[int]:
        page = (await operator.get("/commands", params=params)).json()
        assert page["total"] == len(page["items"])
        return [c["id"] for c in page["items"]]

    assert await ids() == sent[::-1]
    assert await ids(charge_point_id="CP1") == [sent[1], sent[0]]
    assert await ids(action="Reset") == [sent[2]]
    assert await ids(status="accepted") == [sent[1]]
    assert await ids(status="pending", charge_point_id="CP1") == [sent[0]]
    assert await ids(**{"from": "2000-01-01T00:00:00Z", "to": "2001-01-01T00:00:00Z"}) == []
    problem(await operator.get("/commands", params={"status": "done"}), 422)
    problem(await operator.get("/commands/999999"), 404)
    analyst = await api.client(Role.analyst)
    assert (await analyst.get(f"/commands/{sent[0]}")).status_code == 200
