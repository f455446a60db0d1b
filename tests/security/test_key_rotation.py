"""ChangeConfiguration AuthorizationKey (issue 17): once the charge point accepts, the new key is its password
and the old one is refused; the value is never stored, shown or logged. The whole service over real sockets,
the schema from the migrations. SQLite and PostgreSQL."""

import contextlib
import logging
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from app.db.migrate import upgrade
from tests.e2e.service import Service, running_service
from tests.gateway.helpers import connect_charge_point

pytestmark = pytest.mark.anyio

OLD = "first-password-of-cp1"
NEW = "00112233445566778899AABBCCDDEEFF0A1B2C3D"  # 20 bytes, hexadecimal
REFUSED_BY_CP = "FFEEDDCCBBAA99887766554433221100"  # 16 bytes


async def refused_status(service: Service, password: str) -> int | None:
    """The HTTP status refusing a connection of CP1 with `password`, None when it connects."""
    try:
        async with connect_charge_point(service.app.state.gateway, "CP1", password=password):
            return None
    except InvalidStatus as refused:
        return refused.response.status_code


async def change_key(operator: httpx.AsyncClient, value: str) -> httpx.Response:
    body = {"action": "ChangeConfiguration", "payload": {"key": "AuthorizationKey", "value": value}}
    return await operator.post("/charge-points/CP1/commands", params={"wait": "true"}, json=body)


@contextlib.asynccontextmanager
async def reader(service: Service, role: str) -> Any:
    created = await service.api.post("/api-keys", json={"role": role, "name": f"{role} key"})
    assert created.status_code == 201, created.text
    headers = {"Authorization": f"Bearer {created.json()['token']}"}
    async with httpx.AsyncClient(base_url=str(service.api.base_url), headers=headers) as client:
        yield client


async def test_rotated_key_replaces_the_password_and_is_never_shown(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    upgrade(database_url)
    async with running_service(database_url) as service, reader(service, "operator") as operator:
        assert (await operator.post("/charge-points", json={"id": "CP1", "password": OLD})).status_code == 201
        gateway = service.app.state.gateway
        async with connect_charge_point(gateway, "CP1", password=OLD) as cp:
            cp.responses["ChangeConfiguration"] = {"status": "Accepted"}
            answered = await change_key(operator, NEW)
            assert answered.status_code == 202, answered.text
            assert answered.json()["status"] == "accepted"
            assert answered.json()["payload"] == {"key": "AuthorizationKey", "value": "<redacted>"}
            assert await cp.wait_for_call("ChangeConfiguration") == {"key": "AuthorizationKey", "value": NEW}
            # a charge point that (against the whitepaper) reports the key in GetConfiguration
            cp.responses["GetConfiguration"] = {
                "configurationKey": [
                    {"key": "AuthorizationKey", "readonly": False, "value": NEW},
                    {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                ]
            }
            read = await operator.post(
                "/charge-points/CP1/commands", params={"wait": "true"}, json={"action": "GetConfiguration"}
            )
            assert read.json()["status"] == "accepted"

        assert await refused_status(service, OLD) == 401
        assert await refused_status(service, NEW) is None

        async with reader(service, "analyst") as analyst, reader(service, "grid_operator") as grid:
            for client in (operator, analyst, grid):
                for path in ("/commands", "/charge-points/CP1/configuration"):
                    shown = await client.get(path)
                    if shown.status_code == 200:
                        assert NEW not in shown.text
            configuration = (await operator.get("/charge-points/CP1/configuration")).json()["items"]
            keys = {item["key"]: item["value"] for item in configuration}
            assert keys == {"AuthorizationKey": "<redacted>", "HeartbeatInterval": "300"}
            commands = (await operator.get("/commands", params={"charge_point_id": "CP1"})).json()["items"]
            assert [c["action"] for c in commands] == ["GetConfiguration", "ChangeConfiguration"]
            entry = commands[0]["response"]["configurationKey"][0]
            assert entry == {"key": "AuthorizationKey", "readonly": False, "value": "<redacted>"}
    logged = caplog.text
    assert "ChangeConfiguration" in logged
    assert NEW not in logged


async def test_a_refused_or_invalid_key_leaves_the_password(database_url: str) -> None:
    upgrade(database_url)
    async with running_service(database_url) as service, reader(service, "operator") as operator:
        assert (await operator.post("/charge-points", json={"id": "CP1", "password": OLD})).status_code == 201
        async with connect_charge_point(service.app.state.gateway, "CP1", password=OLD) as cp:
            for invalid in ("not-hexadecimal-but-long-enough-000", "00112233", "0" * 41, NEW + "00"):
                refused = await change_key(operator, invalid)
                assert refused.status_code == 422, refused.text
                assert refused.headers["content-type"].startswith("application/problem+json")
                assert "hexadecimal" in refused.json()["detail"]
                assert invalid not in refused.text
            cp.responses["ChangeConfiguration"] = {"status": "Rejected"}
            answered = await change_key(operator, REFUSED_BY_CP)
            assert answered.json()["status"] == "rejected"
            sent = [payload for action, payload in cp.received if action == "ChangeConfiguration"]
            assert sent == [{"key": "AuthorizationKey", "value": REFUSED_BY_CP}]  # only the valid one left
        assert await refused_status(service, REFUSED_BY_CP) == 401
        assert await refused_status(service, OLD) is None
        listed = (await operator.get("/commands")).json()
        assert listed["total"] == 1
        assert REFUSED_BY_CP not in str(listed)
