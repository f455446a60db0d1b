"""`smartcharge cluster`: a local layout started as one command (gateways, a scheduler, an API process as
processes of their own), every process ready, a charge point on each gateway seen by the API process, and
SIGTERM stopping every one of them."""

import asyncio
import os
import signal
import socket
import sys
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from benchmarks.roles import ROOT
from tests.gateway.helpers import connect_charge_point, eventually
from tests.scale.helpers import ADMIN_TOKEN, At

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


async def start_cluster(
    pg_url: str, redis_url: str, prefix: str, log: Path, *options: str
) -> asyncio.subprocess.Process:
    """`smartcharge cluster OPTIONS` as a process of its own (its stdout piped, its stderr into `log`)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SMARTCHARGE_")}
    env |= {
        "SMARTCHARGE_DATABASE_URL": pg_url,
        "SMARTCHARGE_REDIS_URL": redis_url,
        "SMARTCHARGE_REDIS_PREFIX": prefix,
        "SMARTCHARGE_ADMIN_TOKEN": ADMIN_TOKEN,
        "SMARTCHARGE_UNKNOWN_CHARGE_POINTS": "accept",
    }
    with log.open("wb") as errors:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from app.cli import main; main()", "cluster", *options,
            env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=errors,
        )  # fmt: skip


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
async def test_the_cluster_command_starts_a_layout_and_a_signal_stops_every_process(
    pg_url: str, redis_url: str, prefix: str, tmp_path: Path, stop: signal.Signals
) -> None:
    ports = ["--api-port", "0", "--http-port", "0", "--ocpp-port", "0"]
    cluster = await start_cluster(
        pg_url, redis_url, prefix, tmp_path / "cluster.log", "--gateways", "2", "--schedulers", "1", *ports
    )
    assert cluster.stdout is not None
    try:
        printed: list[list[str]] = []
        async with asyncio.timeout(90):
            while not (line := (await cluster.stdout.readline()).decode()).startswith("ready:"):
                assert line, f"the command stopped: {(tmp_path / 'cluster.log').read_text()[-3000:]}"
                printed.append(line.rstrip("\n").split("\t"))
        assert sorted(fields[0] for fields in printed) == ["api", "gateway", "gateway", "scheduler"]
        for fields in printed:
            await eventually(partial(ready, fields[3]), timeout_s=30)
        started = {int(fields[2]) for fields in printed}
        assert children(cluster.pid) == started

        api_url = next(fields[3] for fields in printed if fields[0] == "api")
        gateway_ports = [urlsplit(fields[4]).port for fields in printed if fields[0] == "gateway"]
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

        cluster.send_signal(stop)  # SIGINT: Ctrl-C
        async with asyncio.timeout(60):
            assert await cluster.wait() == 0
        still_running = {pid for pid in started if alive(pid)}
        assert still_running == set()
    finally:
        if cluster.returncode is None:
            cluster.kill()
            await cluster.wait()


async def test_a_process_that_cannot_start_stops_the_others(
    pg_url: str, redis_url: str, prefix: str, tmp_path: Path
) -> None:
    with socket.socket() as taken:  # the second gateway's OCPP port is taken: that gateway cannot start
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ocpp_port = taken.getsockname()[1] - 1
        ports = ["--api-port", "0", "--http-port", "0", "--ocpp-port", str(ocpp_port)]
        log = tmp_path / "cluster.log"
        cluster = await start_cluster(pg_url, redis_url, prefix, log, "--gateways", "2", *ports)
        assert cluster.stdout is not None
        try:
            async with asyncio.timeout(90):
                printed = (await cluster.stdout.read()).decode().splitlines()
                assert await cluster.wait() == 1
        finally:
            if cluster.returncode is None:
                cluster.kill()
                await cluster.wait()
    assert "gw-2 stopped before it was ready" in log.read_text()
    started = {int(line.split("\t")[2]) for line in printed}
    assert len(started) == 4  # two gateways, a scheduler and the API process
    assert {pid for pid in started if alive(pid)} == set()
