"""Issue 16 item 5, a new user's first run: the README's first session as written, with `smartcharge simulate`
(the installed command, in a subprocess) as the charge point against the whole service on loopback; and each
refusal printed with its HTTP status and what to do, with a non-zero exit status.
"""

import asyncio
import json
import re
import shlex
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from app.db.migrate import upgrade
from app.domain.clock import ANCHOR_ENV, SPEED_ENV, START_ENV
from tests.e2e.service import Service, running_service
from tests.gateway.helpers import eventually

pytestmark = pytest.mark.anyio

README = Path(__file__).parents[2] / "README.md"
SMARTCHARGE = Path(sys.executable).parent / "smartcharge"
TIMEOUT_S = 120  # a guard against a hung command, not a speed limit
ENV = {"PATH": str(SMARTCHARGE.parent), "PYTHONPATH": ":".join(sys.path), "COLUMNS": "200"}
SPEED = 30.0  # the README's two simulated minutes in four seconds, the service on the same clock


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def first_session() -> list[list[str]]:
    """The commands of the README's first session (the shell block after "A first session"), split."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"A first session.*?```sh\n(.*?)```", text, re.DOTALL)
    assert block is not None, "README: no first-session block"
    return [shlex.split(line) for line in block.group(1).splitlines() if line and not line.startswith("#")]


async def smartcharge(*arguments: str, clock: dict[str, str] | None = None) -> tuple[int, str]:
    """Run the installed `smartcharge` command (on the service's clock: `clock`, the SMARTCHARGE_CLOCK_*
    variables); its exit status and its output (stdout and stderr)."""
    process = await asyncio.create_subprocess_exec(
        str(SMARTCHARGE),
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=ENV | (clock or {}),
    )
    output, _ = await asyncio.wait_for(process.communicate(), TIMEOUT_S)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def replay_curl(service: Service, command: list[str]) -> dict[str, object]:
    """A README curl line against the test service: its /api/v1 path, method and JSON body."""
    url = next(word for word in command if "localhost:8000/api/v1/" in word)
    path = url.split("/api/v1", 1)[1]
    if "-d" in command:
        response = await service.api.post(path, json=json.loads(command[command.index("-d") + 1]))
        assert response.status_code == 201, response.text
    else:
        response = await service.api.get(path)
        assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_the_readme_first_session_works_as_written(database_url: str) -> None:
    upgrade(database_url)  # as `make run` does
    commands = first_session()
    simulate = [c for c in commands if Path(c[0]).name == "smartcharge"]
    assert [c[1] for c in simulate] == ["simulate"]
    curls = [c for c in commands if c[0] == "curl"]
    anchor = datetime.now(UTC).replace(microsecond=0)
    shared = {"clock_speed": SPEED, "clock_start": anchor, "clock_anchor": anchor}
    clock = {SPEED_ENV: str(SPEED), START_ENV: anchor.isoformat(), ANCHOR_ENV: anchor.isoformat()}
    async with running_service(database_url, **shared) as service:
        for command in curls[:-1]:  # register the charge point and the tag
            await replay_curl(service, command)
        code, output = await smartcharge(*simulate[0][1:], "--url", service.ocpp_url, clock=clock)
        assert code == 0, output
        listed = await replay_curl(service, curls[-1])  # list the transactions
        items = listed["items"]
        assert isinstance(items, list)
        assert len(items) == 1
        transaction = items[0]
        assert (transaction["charge_point_id"], transaction["id_tag"]) == ("CP1", "TAG1")
        detail = (await service.api.get(f"/transactions/{transaction['id']}")).json()
        assert detail["active"] is False
        assert detail["energy_wh"] > 0
        assert f"transaction {transaction['id']} started" in output
        assert f"transaction {transaction['id']} stopped (Local)" in output
        assert "id tag TAG1: authorised (Accepted)" in output
        delivered = re.search(r"stopped \(Local\): (\d+\.\d+) kWh", output)
        assert delivered is not None
        assert float(delivered.group(1)) * 1000 == pytest.approx(detail["energy_wh"], abs=1)
        charge_point = (await service.api.get("/charge-points/CP1")).json()
        assert (charge_point["vendor"], charge_point["model"]) == ("smartcharge", "SimCP-22")


async def test_a_tag_the_central_system_does_not_know_is_not_authorised(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        assert (await service.api.post("/charge-points", json={"id": "CP1"})).status_code == 201
        code, output = await smartcharge(
            "simulate", "--id", "CP1", "--session", "NOBODY", "--minutes", "1", "--url", service.ocpp_url
        )
        assert code == 1, output
        assert "id tag NOBODY: not authorised (Invalid)" in output
        assert (await service.api.get("/transactions")).json()["total"] == 0


async def test_refusals_are_explained(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        registered = await service.api.post(
            "/charge-points", json={"id": "CP2", "password": "cp2-password-1"}
        )
        assert registered.status_code == 201, registered.text

        code, output = await smartcharge(
            "simulate", "--id", "UNKNOWN1", "--session", "TAG1", "--url", service.ocpp_url
        )
        assert code == 1, output
        assert "HTTP 401" in output
        assert "register it: POST /api/v1/charge-points or the console's Charge points page" in output

        code, output = await smartcharge(
            "simulate",
            "--id",
            "CP2",
            "--session",
            "TAG1",
            "--password",
            "wrong-password",
            "--url",
            service.ocpp_url,
        )
        assert code == 1, output
        assert "HTTP 401" in output
        assert "set --password to the charge point's password" in output

        code, output = await smartcharge(
            "simulate", "--id", "CP2", "--session", "TAG1", "--url", service.ocpp_url.removesuffix("/ocpp")
        )
        assert code == 1, output
        assert "HTTP 404" in output
        assert "check --url" in output

        # a fleet of given ids, all refused: it stops at once and says why, not only "connections opened 0"
        code, output = await smartcharge(
            "simulate", "--id", "UNKNOWN1", "--id", "UNKNOWN2", "--url", service.ocpp_url
        )
        assert code == 1, output
        assert "UNKNOWN1 refused: HTTP 401" in output
        assert "UNKNOWN2 refused: HTTP 401" in output
        assert "no charge point connected" in output


async def test_a_central_system_that_is_not_there_is_named() -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()  # the port is free again: nothing listens there
    code, output = await smartcharge(
        "simulate", "--id", "CP1", "--session", "TAG1", "--url", f"ws://127.0.0.1:{port}/ocpp"
    )
    assert code == 1, output
    assert "not reachable" in output
    assert "make run" in output


async def test_serve_says_where_to_go_and_how_to_log_in(tmp_path: Path) -> None:
    """What `make run` prints first (it runs `smartcharge serve`), and the console is where it says."""
    database_url = f"sqlite:///{tmp_path / 'smartcharge.db'}"
    upgrade(database_url)
    api_port, ocpp_port = free_port(), free_port()
    settings = {
        "SMARTCHARGE_DATABASE_URL": database_url,
        "SMARTCHARGE_API_PORT": str(api_port),
        "SMARTCHARGE_OCPP_PORT": str(ocpp_port),
        "SMARTCHARGE_ADMIN_TOKEN": "sc_first_run_admin_token_0123",
    }
    process = await asyncio.create_subprocess_exec(
        str(SMARTCHARGE),
        "serve",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=ENV | settings,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        banner = [(await asyncio.wait_for(process.stdout.readline(), TIMEOUT_S)).decode() for _ in range(4)]
        assert banner[0].startswith(f"console   http://127.0.0.1:{api_port}/  (log in as a user from")
        assert "SMARTCHARGE_ADMIN_TOKEN" in banner[0]
        assert banner[1].startswith(f"API docs  http://127.0.0.1:{api_port}/docs")
        assert banner[2].startswith(f"OCPP 1.6J ws://127.0.0.1:{ocpp_port}/ocpp/<charge point id>")
        assert "smartcharge simulate --id" in banner[3]

        async with httpx.AsyncClient(timeout=5) as client:

            async def login_page() -> httpx.Response | None:
                try:
                    return await client.get(f"http://127.0.0.1:{api_port}/login")
                except httpx.TransportError:
                    return None

            page = await eventually(login_page, timeout_s=TIMEOUT_S)
        assert page.status_code == 200
        assert "password" in page.text.lower()
    finally:
        process.terminate()
        await process.wait()
