"""The planning API under test: uvicorn on loopback in the test's event loop, called over real HTTP."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.db.engine import Database
from app.db.store import SqlUnitOfWork
from app.domain.bus import EventBus
from app.domain.enums import Role
from app.domain.ocpp import ChargePoint, Connector, Transaction
from app.main import create_app
from app.services.access import create_api_key
from app.settings import Settings
from tests.serving import serve

HORIZON_DAYS = 3


def build_app(database_url: str) -> FastAPI:
    """The whole service as `create_app` assembles it: OCPP server on a loopback port, no scheduler."""
    settings = Settings(
        database_url=database_url,
        ocpp_host="127.0.0.1",
        ocpp_port=0,
        scheduler_enabled=False,
        forecast_max_horizon_days=HORIZON_DAYS,
    )
    return create_app(settings)


@dataclass
class Planning:
    """The running API and its database; `client(role)` holds a fresh API key of that role."""

    base_url: str
    database: Database
    bus: EventBus
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    async def client(
        self, role: Role, name: str | None = None, site_ids: list[int] | None = None
    ) -> httpx.AsyncClient:
        async with self.database.session() as session:
            _, token = await create_api_key(
                SqlUnitOfWork(session), role, name or f"test {role.value}", site_ids=site_ids
            )
        client = httpx.AsyncClient(
            base_url=f"{self.base_url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        self.clients.append(client)
        return client

    async def charge_point(self, cp_id: str, connectors: int = 2, **values: Any) -> None:
        async with self.database.session() as session:
            session.add(ChargePoint(id=cp_id, **values))
            await session.flush()
            for n in range(connectors + 1):
                session.add(Connector(charge_point_id=cp_id, connector_id=n, status="Available"))

    async def transaction(
        self,
        cp_id: str,
        id_tag: str,
        start: datetime,
        *,
        connector_id: int = 1,
        stop: datetime | None = None,
        energy_wh: int | None = None,
    ) -> int:
        async with self.database.session() as session:
            tx = Transaction(
                charge_point_id=cp_id,
                connector_id=connector_id,
                id_tag=id_tag,
                start_timestamp=start,
                meter_start_wh=1000,
                stop_timestamp=stop,
                meter_stop_wh=None if energy_wh is None else 1000 + energy_wh,
            )
            session.add(tx)
            await session.flush()
            assert tx.id is not None
            return tx.id


@pytest.fixture
async def planning(migrated_url: str, database: Database) -> AsyncIterator[Planning]:
    application = build_app(migrated_url)
    async with serve(application) as base_url:
        running = Planning(base_url, database, application.state.bus)
        try:
            yield running
        finally:
            for client in running.clients:
                await client.aclose()


@pytest.fixture
async def admin(planning: Planning) -> httpx.AsyncClient:
    return await planning.client(Role.admin)


@pytest.fixture
async def operator(planning: Planning) -> httpx.AsyncClient:
    return await planning.client(Role.operator, "operator alice")


@pytest.fixture
async def analyst(planning: Planning) -> httpx.AsyncClient:
    return await planning.client(Role.analyst)


SITE = {
    "name": "Depot",
    "timezone": "Europe/Amsterdam",
    "interval_minutes": 15,
    "grid_connection_limit_kw": 400.0,
    "fallback_limit_kw": 100.0,
    "safety_margin_kw": 10.0,
}


async def make_site(client: httpx.AsyncClient, **values: Any) -> dict[str, Any]:
    response = await client.post("/sites", json={**SITE, **values})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert `response` is a problem+json with `status`; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def next_hour() -> datetime:
    """The start of the next whole UTC hour: a forecast start on every site grid."""
    now = datetime.now(UTC)
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")
