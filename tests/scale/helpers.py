"""Processes of a scale-out layout for tests: each role's app served for real on loopback (uvicorn and,
for gateways, the OCPP server), in the test's event loop, or as a separate `smartcharge serve` process (see
`benchmarks.roles`, shared with the multi-process benchmark)."""

import contextlib
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
from fastapi import FastAPI

from app.main import create_app
from app.settings import Settings
from benchmarks.roles import ADMIN_TOKEN, LEASE_S, Cluster, Served, free_port, role_process
from tests.serving import serve

__all__ = ["LEASE_S", "At", "Layout", "Process", "Served", "free_port", "gateway_process", "role_process"]


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


class Layout(Cluster):
    """Start role processes on one PostgreSQL schema and one Redis prefix; all are stopped on exit."""

    def __init__(self, database_url: str, redis_url: str, prefix: str) -> None:
        super().__init__(database_url, redis_url, prefix)
        self._stack = contextlib.AsyncExitStack()

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


@contextlib.asynccontextmanager
async def gateway_process(
    layout: Layout, gateway_id: str, **overrides: Any
) -> AsyncIterator[tuple[subprocess.Popen[bytes], int]]:
    """A gateway as a process of its own; yields it (to kill) and its OCPP port, once it is ready."""
    async with role_process(layout, "gateway", gateway_id=gateway_id, **overrides) as served:
        yield served.process, served.ocpp_port
