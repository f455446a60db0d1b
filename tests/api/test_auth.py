"""Authentication, roles, problem+json errors, OpenAPI and health."""

import httpx
import pytest

from app.domain.enums import Role
from tests.api.conftest import Api, problem

READ = [
    "/charge-points",
    "/id-tags",
    "/drivers",
    "/transactions",
    "/transactions.csv",
    "/meter-values",
    "/meter-values.csv",
    "/reservations",
    "/commands",
    "/status",
]
DRIVER_DATA = {"/id-tags", "/drivers", "/reservations", "/commands"}
MINE = {
    "status",
    "charge points",
    "commands",
    "id tags",
    "drivers",
    "transactions",
    "meter values",
    "reservations",
    "api keys",
}
WRITE = [
    ("POST", "/charge-points", {"id": "CPX"}),
    ("PATCH", "/charge-points/CPX", {"description": "x"}),
    ("DELETE", "/charge-points/CPX", None),
    ("PATCH", "/charge-points/CPX/connectors/1", {"phases": 1}),
    ("POST", "/id-tags", {"id_tag": "T"}),
    ("PATCH", "/id-tags/T", {"note": "x"}),
    ("DELETE", "/id-tags/T", None),
    ("POST", "/drivers", {"name": "Alice"}),
    ("PATCH", "/drivers/1", {"note": "x"}),
    ("DELETE", "/drivers/1", None),
    ("POST", "/charge-points/CPX/commands", {"action": "ClearCache", "payload": {}}),
]


@pytest.mark.anyio
async def test_health_needs_no_key_and_checks_the_database(api: Api) -> None:
    api.commands.connected.add("CP1")
    response = await api.anonymous().get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "connected_charge_points": 1}


@pytest.mark.anyio
async def test_health_is_503_when_the_database_is_gone(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.db.engine import Database

    def broken(self: Database) -> None:
        raise ConnectionError("database down")

    monkeypatch.setattr(Database, "session", broken)
    problem(await api.anonymous().get("/health"), 503)


@pytest.mark.anyio
async def test_every_resource_needs_a_key(api: Api) -> None:
    for path in READ:
        response = await api.anonymous().get(path)
        body = problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
        assert body["instance"] == f"/api/v1{path}"


@pytest.mark.anyio
async def test_unknown_and_revoked_keys_are_refused(api: Api) -> None:
    problem(await api.with_token("sc_nope").get("/status"), 401)
    problem(await api.anonymous(Authorization="Basic abc").get("/status"), 401)
    created = (await api.admin.post("/api-keys", json={"role": "analyst"})).json()
    client = api.with_token(created["token"])
    assert (await client.get("/status")).status_code == 200
    assert (await api.admin.delete(f"/api-keys/{created['id']}")).status_code == 204
    assert "revoked" in problem(await client.get("/status"), 401)["detail"]


@pytest.mark.anyio
@pytest.mark.parametrize("role", list(Role))
async def test_every_role_reads(api: Api, role: Role) -> None:
    client = await api.client(role)
    for path in READ:
        if role is Role.grid_operator and path in DRIVER_DATA:
            problem(await client.get(path), 403)  # drivers' id tags are not grid-operator data
        else:
            assert (await client.get(path)).status_code == 200, path


@pytest.mark.anyio
@pytest.mark.parametrize("role", [Role.analyst, Role.grid_operator])
async def test_readers_may_not_write(api: Api, role: Role) -> None:
    client = await api.client(role)
    for method, path, body in WRITE:
        response = await client.request(method, path, json=body)
        assert role.value in problem(response, 403)["detail"], (method, path)


@pytest.mark.anyio
@pytest.mark.parametrize("role", [Role.operator, Role.analyst, Role.grid_operator])
async def test_only_admins_manage_keys(api: Api, role: Role) -> None:
    client = await api.client(role)
    problem(await client.get("/api-keys"), 403)
    problem(await client.post("/api-keys", json={"role": "admin"}), 403)
    problem(await client.delete("/api-keys/1"), 403)


@pytest.mark.anyio
async def test_operators_write(api: Api, operator: httpx.AsyncClient) -> None:
    assert (await operator.post("/charge-points", json={"id": "CPX"})).status_code == 201
    assert (await operator.post("/id-tags", json={"id_tag": "T"})).status_code == 201


@pytest.mark.anyio
async def test_unknown_route_and_method_are_problems(api: Api, operator: httpx.AsyncClient) -> None:
    problem(await operator.get("/nothing-here"), 404)
    problem(await operator.put("/charge-points"), 405)


@pytest.mark.anyio
async def test_validation_errors_name_the_field(api: Api, operator: httpx.AsyncClient) -> None:
    body = problem(await operator.post("/charge-points", json={"id": "bad id/"}), 422)
    assert body["errors"][0]["loc"] == ["body", "id"]
    assert "body.id" in body["detail"]
    body = problem(await operator.get("/transactions", params={"limit": 0}), 422)
    assert body["errors"][0]["loc"] == ["query", "limit"]


@pytest.mark.anyio
async def test_openapi_document_and_docs(api: Api) -> None:
    client = httpx.AsyncClient(base_url=api.base_url)
    api.clients.append(client)
    document = (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) >= 25
    for path, method, operation in operations:
        assert operation.get("tags"), f"{method} {path} has no tag"
        assert operation["operationId"]
        if not set(operation["tags"]) & MINE:
            continue  # other resources' routers are tested with them
        for code, response in operation["responses"].items():
            if code.startswith("4"):
                assert "application/problem+json" in response["content"], f"{method} {path} {code}"
    secured = document["paths"]["/api/v1/charge-points"]["get"]
    assert secured["security"] == [{"HTTPBearer": []}]
    assert "401" in secured["responses"]
    assert "security" not in document["paths"]["/api/v1/health"]["get"]
    assert document["paths"]["/api/v1/transactions.csv"]["get"]["responses"]["200"]["content"]["text/csv"]
    ids = [operation["operationId"] for _, _, operation in operations]
    assert len(ids) == len(set(ids))
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


@pytest.mark.anyio
async def test_an_unexpected_failure_is_a_problem_too(
    api: Api, analyst: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services.ocpp import reporting

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(reporting, "list_id_tags", broken)
    body = problem(await analyst.get("/id-tags"), 500)
    assert "bug" not in body["detail"]
