"""The whole service as `make run` starts it (create_app under uvicorn, OCPP server, scheduler)."""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from app.main import create_app
from app.settings import Settings
from tests.serving import serve

ADMIN_TOKEN = "sc_e2e_admin_token_0123456789"


@dataclass
class Service:
    app: FastAPI
    api: httpx.AsyncClient  # as the bootstrap admin, base URL /api/v1
    ocpp_url: str  # ws://127.0.0.1:PORT/ocpp

    def ws(self, charge_point_id: str) -> str:
        return f"{self.ocpp_url}/{charge_point_id}"


@contextlib.asynccontextmanager
async def running_service(database_url: str, **settings: Any) -> AsyncIterator[Service]:
    values: dict[str, Any] = {
        "database_url": database_url,
        "admin_token": ADMIN_TOKEN,
        "ocpp_host": "127.0.0.1",
        "ocpp_port": 0,
        "unknown_charge_points": "reject",
        "ocpp_call_timeout_s": 5.0,
        "ocpp_ping_interval_s": None,
    }
    app = create_app(Settings(**(values | settings)))
    async with serve(app) as base_url:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(base_url=f"{base_url}/api/v1", headers=headers, timeout=30) as api:
            yield Service(app, api, f"ws://127.0.0.1:{app.state.gateway.port}/ocpp")
