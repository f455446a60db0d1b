"""The API under test: served by uvicorn on loopback in the test's event loop, called over real HTTP."""

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.api.deps import get_commands
from app.db.engine import Database
from app.domain.clock import utcnow
from app.domain.enums import Role
from app.domain.ocpp import Command
from app.domain.ports import CommandRefused
from app.main import create_app
from app.settings import Settings
from ocpp_gateway.commands import OPERATIONS
from tests.serving import serve

ADMIN_TOKEN = "sc_test_admin_token_0123456789"


@dataclass
class FakeCommands:
    """`ChargePointCommands` without a gateway: records commands; `answer` is what a charge point says."""

    database: Database
    connected: set[str] = field(default_factory=set)
    answer: dict[str, Any] = field(default_factory=lambda: {"status": "Accepted"})

    def is_connected(self, charge_point_id: str) -> bool:
        return charge_point_id in self.connected

    def connected_ids(self) -> set[str]:
        return set(self.connected)

    async def send(
        self,
        charge_point_id: str,
        action: str,
        payload: Mapping[str, Any],
        *,
        author: str | None = None,
        wait: bool = False,
    ) -> int:
        if action not in OPERATIONS:
            raise CommandRefused("unknown_action", f"{action!r} is not an OCPP 1.6 central-system operation")
        if action == "Reset" and payload.get("type") not in ("Hard", "Soft"):
            raise CommandRefused("invalid", "type: 'Hard' or 'Soft' is required")
        if charge_point_id not in self.connected:
            raise CommandRefused("not_connected", f"charge point {charge_point_id!r} is not connected")
        async with self.database.session() as session:
            command = Command(
                charge_point_id=charge_point_id, action=action, payload=dict(payload), author=author
            )
            command.sent_at = utcnow()
            if wait:
                command.status, command.response, command.completed_at = "accepted", self.answer, utcnow()
            session.add(command)
            await session.flush()
            assert command.id is not None
            return command.id


def build_app(database_url: str, commands: FakeCommands) -> FastAPI:
    """The whole service as `create_app` assembles it (OCPP server on a loopback port, no scheduler), with
    `commands` standing in for the gateway's `ChargePointCommands`."""
    settings = Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        ocpp_host="127.0.0.1",
        ocpp_port=0,
        scheduler_enabled=False,
    )
    app = create_app(settings)
    app.dependency_overrides[get_commands] = lambda: commands
    return app


@dataclass
class Api:
    """The running API: `client(role)` is an HTTP client holding a fresh key of that role."""

    base_url: str
    commands: FakeCommands
    database: Database
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def anonymous(self, **headers: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=f"{self.base_url}/api/v1", headers=headers, timeout=30)
        self.clients.append(client)
        return client

    def with_token(self, token: str) -> httpx.AsyncClient:
        return self.anonymous(Authorization=f"Bearer {token}")

    @property
    def admin(self) -> httpx.AsyncClient:
        return self.with_token(ADMIN_TOKEN)

    async def client(self, role: Role, **key: Any) -> httpx.AsyncClient:
        response = await self.admin.post(
            "/api-keys", json={"role": role.value, "name": f"test {role}", **key}
        )
        assert response.status_code == 201, response.text
        return self.with_token(response.json()["token"])


@pytest.fixture
async def api(migrated_url: str, database: Database) -> AsyncIterator[Api]:
    fake = FakeCommands(database)
    async with serve(build_app(migrated_url, fake)) as base_url:
        running = Api(base_url, fake, database)
        try:
            yield running
        finally:
            for client in running.clients:
                await client.aclose()


@pytest.fixture
async def operator(api: Api) -> httpx.AsyncClient:
    return await api.client(Role.operator)


@pytest.fixture
async def analyst(api: Api) -> httpx.AsyncClient:
    return await api.client(Role.analyst)


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert `response` is a problem+json with `status`; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    return body
