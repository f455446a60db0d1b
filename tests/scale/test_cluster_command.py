"""`smartcharge cluster`: a local layout started as one command (gateways, a scheduler, an API process as
processes of their own), every process ready, a charge point on each gateway seen by the API process, and
SIGTERM stopping every one of them."""

import asyncio
import os
import signal
import sys
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.gateway.helpers import connect_charge_point, eventually
from tests.scale.helpers import ADMIN_TOKEN, ROOT, At

pytestmark = pytest.mark.anyio


def children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def ready(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            return (await http.get(f"{url}/ready")).status_code == 200
    except httpx.TransportError:
        return False


async def test_the_cluster_command_starts_a_layout_and_sigterm_stops_every_process(
    pg_url: str, redis_url: str, prefix: str, tmp_path: Path
) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SMARTCHARGE_")}
    env |= {
        "SMARTCHARGE_DATABASE_URL": pg_url,
        "SMARTCHARGE_REDIS_URL": redis_url,
        "SMARTCHARGE_REDIS_PREFIX": prefix,
        "SMARTCHARGE_ADMIN_TOKEN": ADMIN_TOKEN,
        "SMARTCHARGE_UNKNOWN_CHARGE_POINTS": "accept",
    }
    ports = ["--api-port", "0", "--http-port", "0", "--ocpp-port", "0"]
    with (tmp_path / "cluster.log").open("wb") as log:
        cluster = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from app.cli import main; main()", "cluster",
            "--gateways", "2", "--schedulers", "1", *ports,
            env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=log,
        )  # fmt: skip
    assert cluster.stdout is not None
    try:
        printed: list[list[str]] = []
        async with asyncio.timeout(90):
            while not (line := (await cluster.stdout.readline()).decode()).startswith("ready:"):
                assert line, f"the command stopped: {(tmp_path / 'cluster.log').read_text()[-3000:]}"
                printed.append(line.rstrip("\n").split("\t"))
        assert sorted(fields[0] for fields in printed) == ["api", "gateway", "gateway", "scheduler"]
        for fields in printed:
            await eventually(partial(ready, fields[2]), timeout_s=30)
        started = children(cluster.pid)
        assert len(started) == len(printed)

        api_url = next(fields[2] for fields in printed if fields[0] == "api")
        gateway_ports = [urlsplit(fields[3]).port for fields in printed if fields[0] == "gateway"]
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with (
            httpx.AsyncClient(base_url=api_url, headers=headers, timeout=10) as api,
            connect_charge_point(At(gateway_ports[0]), "CP1"),  # type: ignore[arg-type]
            connect_charge_point(At(gateway_ports[1]), "CP2"),  # type: ignore[arg-type]
        ):

            async def connected(cp_id: str) -> bool:
                response = await api.get(f"/api/v1/charge-points/{cp_id}")
                return response.status_code == 200 and response.json()["connected"] is True

            await eventually(lambda: connected("CP1"), timeout_s=15)
            await eventually(lambda: connected("CP2"), timeout_s=15)

        cluster.send_signal(signal.SIGTERM)
        async with asyncio.timeout(60):
            assert await cluster.wait() == 0
        still_running = {pid for pid in started if alive(pid)}
        assert still_running == set()
    finally:
        if cluster.returncode is None:
            cluster.kill()
            await cluster.wait()
