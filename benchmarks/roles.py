"""Role processes of a scale-out layout on loopback: `smartcharge serve --role ROLE` started as processes of
their own on one PostgreSQL schema and one Redis prefix. Shared by the scale-out tests (tests/scale) and the
multi-process benchmark (`python -m benchmarks cluster`)."""

import asyncio
import contextlib
import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from app.cluster.local import free_port, role_env, start_role

ROOT = Path(__file__).resolve().parents[1]
ADMIN_TOKEN = "sc_scale_admin_token_0123456789"
LEASE_S = 1.5


class Cluster:
    """Where every role of a layout keeps its state: one database and one Redis prefix."""

    def __init__(self, database_url: str, redis_url: str, prefix: str) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.prefix = prefix

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
async def role_process(cluster: Cluster, role: str, **overrides: Any) -> AsyncIterator[Served]:
    """`smartcharge serve --role ROLE` as a process of its own, yielded once its `/ready` answers 200 (a
    gateway's: its OCPP port takes connections)."""
    ocpp_port, api_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("SMARTCHARGE_")}
    settings = cluster.settings(role, ocpp_port=ocpp_port, api_port=api_port, **overrides)
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
