"""Drivers (the people owning id tags): CRUD, the tags each owns, search, refusals as problem+json."""

import httpx
import pytest

from tests.api.conftest import Api, problem

pytestmark = pytest.mark.anyio


async def tags(client: httpx.AsyncClient, *id_tags: str) -> None:
    for id_tag in id_tags:
        assert (await client.post("/id-tags", json={"id_tag": id_tag})).status_code == 201


async def test_crud_and_the_tags_a_driver_owns(api: Api, operator: httpx.AsyncClient) -> None:
    await tags(operator, "CARD-1", "CARD-2", "APP-9")
    body = {"name": " Alice Martin ", "email": "alice@example.org", "phone": "+31 6 1234 5678"}
    response = await operator.post("/drivers", json=body | {"id_tags": ["CARD-2", "CARD-1", "CARD-1"]})
    assert response.status_code == 201, response.text
    alice = response.json()
    assert response.headers["location"] == f"/api/v1/drivers/{alice['id']}"
    assert (alice["name"], alice["email"], alice["note"]) == ("Alice Martin", "alice@example.org", None)
    assert alice["id_tags"] == ["CARD-1", "CARD-2"]
    assert (await operator.get(f"/drivers/{alice['id']}")).json() == alice
    assert (await operator.get("/id-tags/CARD-1")).json()["driver_id"] == alice["id"]
    owned = (await operator.get("/id-tags", params={"driver_id": alice["id"]})).json()["items"]
    assert [t["id_tag"] for t in owned] == ["CARD-1", "CARD-2"]

    changed = await operator.patch(f"/drivers/{alice['id']}", json={"note": "fleet", "id_tags": ["APP-9"]})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["note"], changed.json()["id_tags"]) == ("fleet", ["APP-9"])
    assert (await operator.get("/id-tags/CARD-1")).json()["driver_id"] is None
    unchanged = (await operator.patch(f"/drivers/{alice['id']}", json={"email": None})).json()
    assert (unchanged["email"], unchanged["id_tags"], unchanged["name"]) == (None, ["APP-9"], "Alice Martin")

    bob = (await operator.post("/drivers", json={"name": "Bob"})).json()
    moved = await operator.patch("/id-tags/APP-9", json={"driver_id": bob["id"]})
    assert moved.json()["driver_id"] == bob["id"]
    assert (await operator.get(f"/drivers/{alice['id']}")).json()["id_tags"] == []

    assert (await operator.delete(f"/drivers/{bob['id']}")).status_code == 204
    assert (await operator.get("/id-tags/APP-9")).json()["driver_id"] is None  # the tag stays
    problem(await operator.get(f"/drivers/{bob['id']}"), 404)
    problem(await operator.delete(f"/drivers/{bob['id']}"), 404)
    problem(await operator.patch(f"/drivers/{bob['id']}", json={"note": "x"}), 404)


async def test_refusals_name_the_field_and_store_nothing(api: Api, operator: httpx.AsyncClient) -> None:
    await tags(operator, "CARD-1", "CARD-2")
    alice = (await operator.post("/drivers", json={"name": "Alice", "id_tags": ["CARD-1"]})).json()
    for body, field in [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x", "email": "not an address"}, "email"),
        ({"name": "x", "phone": "call me"}, "phone"),
        ({"name": "x", "note": "n" * 501}, "note"),
        ({"name": "x", "id_tags": ["NOPE"]}, "id_tags"),
        ({"name": "x", "id_tags": ["CARD-2", "CARD-1"]}, "id_tags"),  # Alice's
        ({"name": "x", "shoe_size": 44}, "shoe_size"),
    ]:
        response = problem(await operator.post("/drivers", json=body), 422)
        assert response["errors"][0]["loc"][:2] == ["body", field], body
    assert (await operator.get("/drivers")).json()["total"] == 1
    assert (await operator.get("/id-tags/CARD-2")).json()["driver_id"] is None
    refused = problem(await operator.post("/drivers", json={"name": "x", "id_tags": ["CARD-1"]}), 422)
    assert refused["errors"][0]["msg"] == f"id tag 'CARD-1' belongs to driver {alice['id']}"
    patches = [({"name": None}, "name"), ({"id_tags": None}, "id_tags"), ({"id_tags": ["NO"]}, "id_tags")]
    for body, field in patches:
        response = problem(await operator.patch(f"/drivers/{alice['id']}", json=body), 422)
        assert response["errors"][0]["loc"] == ["body", field], body
    assert (await operator.get(f"/drivers/{alice['id']}")).json()["id_tags"] == ["CARD-1"]
    response = problem(await operator.patch("/id-tags/CARD-2", json={"driver_id": 999}), 422)
    assert response["errors"][0]["loc"] == ["body", "driver_id"]
    problem(await operator.post("/id-tags", json={"id_tag": "T3", "driver_id": 999}), 422)
    problem(await operator.get("/drivers/0"), 422)


async def test_search_and_paging(api: Api, operator: httpx.AsyncClient) -> None:
    await tags(operator, "VAN-7")
    for body in [
        {"name": "Carla", "phone": "+44 20 7946 0000"},
        {"name": "alice", "email": "alice@fleet.example", "id_tags": ["VAN-7"]},
        {"name": "Bob", "note": "night shift"},
    ]:
        assert (await operator.post("/drivers", json=body)).status_code == 201

    async def names(**params: object) -> list[str]:
        return [d["name"] for d in (await operator.get("/drivers", params=params)).json()["items"]]

    assert await names() == ["alice", "Bob", "Carla"]
    assert await names(q="FLEET") == ["alice"]
    assert await names(q="van-") == ["alice"]
    assert await names(q="7946") == ["Carla"]
    assert await names(q="night") == ["Bob"]
    assert await names(q="%") == []
    page = (await operator.get("/drivers", params={"limit": 1, "offset": 1})).json()
    assert (page["total"], [d["name"] for d in page["items"]]) == (3, ["Bob"])
