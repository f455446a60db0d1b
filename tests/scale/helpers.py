"""Processes of a scale-out layout for tests: each role's app served for real on loopback (uvicorn and,
for gateways, the OCPP server), in the test's event loop, or as a separate `smartcharge serve` process."""

import asyncio
import contextlib
import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from fastapi import FastAPI

from app.cluster.local import free_port, role_env, start_role
from app.main import create_app
from app.settings import Settings
from tests.serving import serve

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "sc_scale_admin_token_0123456789"
LEASE_S = 1.5


@dataclass
class Process:
    role: str
    app: FastAPI
    http: httpx.AsyncClient  # base URL: the process's root (/metrics, /health, /api/v1/...)

    @property
    def ocpp_port(self) -> int:
        return int(self.app.state.gateway.port)

    def ocpp_url(self, cp_id: str) -> str:
        return f"ws://127.0.0.1:{self.ocpp_port}/ocpp/{cp_id}"


class Layout:
    """Start role processes on one PostgreSQL schema and one Redis prefix; all are stopped on exit."""

    def __init__(self, database_url: str, redis_url: str, prefix: str) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.prefix = prefix
        self._stack = contextlib.AsyncExitStack()

    def settings(self, role: str, **overrides: Any) -> dict[str, Any]:
        return {
            "role": role,
            "database_url": self.database_url,
            "redis_url": self.redis_url,
            "redis_prefix": self.prefix,
            "admin_token": ADMIN_TOKEN,
            "ocpp_host": "127.0.0.1",
            "ocpp_port": 0,
            "unknown_charge_points": "accept",
            "ocpp_call_timeout_s": 5.0,
            "ocpp_ping_interval_s": None,
            "presence_lease_s": LEASE_S,
            "command_route_timeout_s": 2.0,
        } | overrides

    async def start(self, role: str, **overrides: Any) -> Process:
        app = create_app(Settings(**self.settings(role, **overrides)))
        base_url = await self._stack.enter_async_context(serve(app))
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        http = await self._stack.enter_async_context(
            httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30)
        )
        return Process(role, app, http)

    async def __aenter__(self) -> "Layout":
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.aclose()


@dataclass(frozen=True)
class At:
    """A gateway elsewhere, as `tests.gateway.helpers.connect_charge_point` needs it: its OCPP port."""

    port: int


@dataclass(frozen=True)
class Served:
    """A role running as a process of its own: the process (to stop or kill) and its ports."""

    process: subprocess.Popen[bytes]
    api_port: int
    ocpp_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"


@contextlib.asynccontextmanager
async def role_process(layout: Layout, role: str, **overrides: Any) -> AsyncIterator[Served]:
    """`smartcharge serve --role ROLE` as a process of its own, yielded once its `/ready` answers 200 (a
    gateway's: its OCPP port takes connections)."""
    ocpp_port, api_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("SMARTCHARGE_")}
    settings = layout.settings(role, ocpp_port=ocpp_port, api_port=api_port, **overrides)
    settings.pop("role")
    process = start_role(
        role, role_env(env, settings), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    served = Served(process, api_port, ocpp_port)
    try:
        async with asyncio.timeout(60), httpx.AsyncClient(base_url=served.url, timeout=5) as http:
            while True:
                if process.poll() is not None:
                    errors = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"the {role} process stopped: {errors[-2000:]}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/ready")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
        yield served
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()


@contextlib.asynccontextmanager
async def gateway_process(
    layout: Layout, gateway_id: str, **overrides: Any
) -> AsyncIterator[tuple[subprocess.Popen[bytes], int]]:
    """A gateway as a process of its own; yields it (to kill) and its OCPP port, once it is ready."""
    async with role_process(layout, "gateway", gateway_id=gateway_id, **overrides) as served:
        yield served.process, served.ocpp_port
