"""Admins manage API keys; the token is returned once."""

import httpx
import pytest

from app.domain.enums import Role
from tests.api.conftest import ADMIN_TOKEN, Api, build_app, problem
from tests.serving import serve


@pytest.mark.anyio
async def test_create_returns_the_token_once(api: Api) -> None:
    response = await api.admin.post("/api-keys", json={"role": "operator", "name": "depot ops"})
    assert response.status_code == 201
    created = response.json()
    assert created["token"].startswith("sc_")
    assert created["prefix"] == created["token"][:8]
    assert created["role"] == "operator"
    assert created["revoked_at"] is None
    assert response.headers["location"] == f"/api/v1/api-keys/{created['id']}"

    shown = (await api.admin.get(f"/api-keys/{created['id']}")).json()
    assert "token" not in shown
    assert shown["name"] == "depot ops"
    listed = (await api.admin.get("/api-keys")).json()
    assert listed["total"] == 2  # the bootstrap admin and this one
    assert all("token" not in key for key in listed["items"])
    assert (await api.with_token(created["token"]).get("/charge-points")).status_code == 200


@pytest.mark.anyio
async def test_revoke(api: Api) -> None:
    created = (await api.admin.post("/api-keys", json={"role": "analyst"})).json()
    assert (await api.admin.delete(f"/api-keys/{created['id']}")).status_code == 204
    assert (await api.admin.delete(f"/api-keys/{created['id']}")).status_code == 204  # idempotent
    assert (await api.admin.get(f"/api-keys/{created['id']}")).json()["revoked_at"] is not None
    revoked = (await api.admin.get("/api-keys", params={"revoked": True})).json()
    assert [key["id"] for key in revoked["items"]] == [created["id"]]
    active = (await api.admin.get("/api-keys", params={"revoked": False})).json()
    assert created["id"] not in [key["id"] for key in active["items"]]
    problem(await api.with_token(created["token"]).get("/status"), 401)


@pytest.mark.anyio
async def test_revoke_errors(api: Api) -> None:
    problem(await api.admin.delete("/api-keys/999"), 404)
    problem(await api.admin.get("/api-keys/999"), 404)
    own = (await api.admin.get("/api-keys")).json()["items"][0]["id"]
    assert "itself" in problem(await api.admin.delete(f"/api-keys/{own}"), 409)["detail"]


@pytest.mark.anyio
async def test_create_validates_the_role(api: Api) -> None:
    body = problem(await api.admin.post("/api-keys", json={"role": "superuser"}), 422)
    assert body["errors"][0]["loc"] == ["body", "role"]


@pytest.mark.anyio
async def test_pagination(api: Api) -> None:
    for n in range(4):
        await api.admin.post("/api-keys", json={"role": "analyst", "name": f"k{n}"})
    page = (await api.admin.get("/api-keys", params={"limit": 2, "offset": 2})).json()
    assert page["total"] == 5
    assert (page["limit"], page["offset"]) == (2, 2)
    assert [key["name"] for key in page["items"]] == ["k1", "k2"]


@pytest.mark.anyio
async def test_a_revoked_bootstrap_admin_key_stays_revoked_after_a_restart(
    api: Api, migrated_url: str
) -> None:
    second_admin = await api.client(Role.admin)
    bootstrap = (await api.admin.get("/api-keys", params={"revoked": False})).json()["items"]
    [bootstrap_id] = [key["id"] for key in bootstrap if key["name"] == "bootstrap admin"]
    assert (await second_admin.delete(f"/api-keys/{bootstrap_id}")).status_code == 204
    problem(await api.admin.get("/status"), 401)

    async with serve(build_app(migrated_url, api.commands)) as base_url:  # the same database, started again
        async with httpx.AsyncClient(
            base_url=f"{base_url}/api/v1", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        ) as restarted:
            assert "revoked" in problem(await restarted.get("/status"), 401)["detail"]
        async with httpx.AsyncClient(base_url=f"{base_url}/api/v1", headers=second_admin.headers) as other:
            shown = (await other.get(f"/api-keys/{bootstrap_id}")).json()
    assert shown["revoked_at"] is not None


@pytest.mark.anyio
async def test_site_ids_beyond_the_database_column_are_refused(api: Api) -> None:
    response = await api.admin.post("/api-keys", json={"role": "grid_operator", "site_ids": [2**40]})
    assert problem(response, 422)["errors"][0]["loc"] == ["body", "site_ids", 0]
