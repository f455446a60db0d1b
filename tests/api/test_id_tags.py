"""Id tags: CRUD and the list filters."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.api import seed
from tests.api.conftest import Api, problem

NOW = datetime.now(UTC)


@pytest.mark.anyio
async def test_crud(api: Api, operator: httpx.AsyncClient) -> None:
    await operator.post("/id-tags", json={"id_tag": "FLEET"})
    body = {
        "id_tag": "TAG1",
        "parent_id_tag": "FLEET",
        "expiry_date": "2030-01-01T01:00:00+01:00",
        "max_active_transactions": 2,
        "note": "Alice's card",
    }
    response = await operator.post("/id-tags", json=body)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/api/v1/id-tags/TAG1"
    created = response.json()
    assert created["expiry_date"] == "2030-01-01T00:00:00Z"
    assert (created["parent_id_tag"], created["blocked"], created["expired"]) == ("FLEET", False, False)
    assert created["active_transactions"] == 0
    assert (await operator.get("/id-tags/TAG1")).json() == created

    updated = (await operator.patch("/id-tags/TAG1", json={"blocked": True, "note": None})).json()
    assert (updated["blocked"], updated["note"], updated["max_active_transactions"]) == (True, None, 2)
    updated = (await operator.patch("/id-tags/TAG1", json={"parent_id_tag": None})).json()
    assert updated["parent_id_tag"] is None

    assert (await operator.delete("/id-tags/TAG1")).status_code == 204
    problem(await operator.get("/id-tags/TAG1"), 404)
    problem(await operator.delete("/id-tags/TAG1"), 404)
    problem(await operator.patch("/id-tags/TAG1", json={"note": "x"}), 404)


@pytest.mark.anyio
async def test_validation(api: Api, operator: httpx.AsyncClient) -> None:
    await operator.post("/id-tags", json={"id_tag": "TAG1"})
    problem(await operator.post("/id-tags", json={"id_tag": "TAG1"}), 409)
    for body, field in [
        ({"id_tag": "x" * 21}, "id_tag"),
        ({"id_tag": ""}, "id_tag"),
        ({"id_tag": "T2", "max_active_transactions": -1}, "max_active_transactions"),
        ({"id_tag": "T2", "parent_id_tag": "NOPE"}, "parent_id_tag"),
        ({"id_tag": "T2", "parent_id_tag": "T2"}, "parent_id_tag"),
        ({"id_tag": "T2", "expiry_date": "tomorrow"}, "expiry_date"),
    ]:
        response = problem(await operator.post("/id-tags", json=body), 422)
        assert response["errors"][0]["loc"] == ["body", field], body
    for body, field in [({"blocked": None}, "blocked"), ({"parent_id_tag": "NOPE"}, "parent_id_tag")]:
        response = problem(await operator.patch("/id-tags/TAG1", json=body), 422)
        assert response["errors"][0]["loc"] == ["body", field], body


@pytest.mark.anyio
async def test_filters(api: Api, operator: httpx.AsyncClient) -> None:
    await seed.charge_point(api.database, "CP1")
    await operator.post("/id-tags", json={"id_tag": "OK"})
    await operator.post("/id-tags", json={"id_tag": "BLOCKED", "blocked": True})
    await operator.post(
        "/id-tags", json={"id_tag": "OLD", "expiry_date": (NOW - timedelta(days=1)).isoformat()}
    )
    await operator.post("/id-tags", json={"id_tag": "CHARGING"})
    await seed.transaction(api.database, "CP1", NOW - timedelta(hours=1), id_tag="CHARGING")
    await seed.transaction(
        api.database,
        "CP1",
        NOW - timedelta(hours=3),
        stop=NOW - timedelta(hours=2),
        id_tag="OK",
        meter_stop_wh=2000,
    )

    async def ids(**params: object) -> list[str]:
        page = (await operator.get("/id-tags", params=params)).json()
        assert page["total"] == len(page["items"])
        return [tag["id_tag"] for tag in page["items"]]

    assert await ids() == ["BLOCKED", "CHARGING", "OK", "OLD"]
    assert await ids(blocked=True) == ["BLOCKED"]
    assert await ids(blocked=False) == ["CHARGING", "OK", "OLD"]
    assert await ids(expired=True) == ["OLD"]
    assert await ids(expired=False) == ["BLOCKED", "CHARGING", "OK"]
    assert await ids(in_transaction=True) == ["CHARGING"]
    assert await ids(in_transaction=False, blocked=False) == ["OK", "OLD"]
    assert await ids(q="o") == ["BLOCKED", "OK", "OLD"]
    assert await ids(q="%") == []
    charging = (await operator.get("/id-tags/CHARGING")).json()
    assert charging["active_transactions"] == 1
    assert (await operator.get("/id-tags/OLD")).json()["expired"] is True
    page = (await operator.get("/id-tags", params={"limit": 1, "offset": 3})).json()
    assert (page["total"], [t["id_tag"] for t in page["items"]]) == (4, ["OLD"])


@pytest.mark.anyio
async def test_delete_refused_while_charging_or_parent(api: Api, operator: httpx.AsyncClient) -> None:
    await seed.charge_point(api.database, "CP1")
    await operator.post("/id-tags", json={"id_tag": "PARENT"})
    await operator.post("/id-tags", json={"id_tag": "CHILD", "parent_id_tag": "PARENT"})
    assert "parent" in problem(await operator.delete("/id-tags/PARENT"), 409)["detail"]
    await seed.transaction(api.database, "CP1", NOW, id_tag="CHILD")
    assert "active" in problem(await operator.delete("/id-tags/CHILD"), 409)["detail"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("raw_body", "content_type", "loc"),
    [
        (b'{"id_tag": "TAG\\u0000"}', "application/json", ["body", "id_tag"]),
        (b'{"id_tag": "TAG2", "note": "lone \\ud800 surrogate"}', "application/json", ["body", "note"]),
        (b'{"id_tag": "TAG3", "note": "\\udfff"}', None, ["body", "note"]),  # FastAPI reads it as JSON too
    ],
)
async def test_unstorable_text_is_refused_and_nothing_stored(
    operator: httpx.AsyncClient, raw_body: bytes, content_type: str | None, loc: list[str]
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    response = await operator.post("/id-tags", content=raw_body, headers=headers)
    assert problem(response, 422)["errors"][0]["loc"] == loc
    assert (await operator.get("/id-tags")).json()["total"] == 0
    assert problem(await operator.get("/id-tags", params={"q": "a\x00b"}), 422)["errors"][0]["loc"] == [
        "query",
        "q",
    ]


@pytest.mark.anyio
async def test_a_non_ascii_id_tag_is_located_percent_encoded(operator: httpx.AsyncClient) -> None:
    response = await operator.post("/id-tags", json={"id_tag": "€uro-☃"})
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/api/v1/id-tags/%E2%82%ACuro-%E2%98%83"
    found = await operator.get(response.headers["location"].removeprefix("/api/v1"))
    assert found.json()["id_tag"] == "€uro-☃"
