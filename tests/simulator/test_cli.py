"""`smartcharge simulate` end to end against the test central system (run in a thread of its own)."""

import asyncio
import json
import logging
import re
import shlex
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from app.cli import cli
from tests.simulator.central import CentralSystem


@pytest.fixture
def central() -> Iterator[CentralSystem]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    system = CentralSystem(heartbeat_s=600)
    asyncio.run_coroutine_threadsafe(system.start(), loop).result(timeout=5)
    ocpp_level = logging.getLogger("ocpp").level
    try:
        yield system
    finally:
        logging.getLogger("ocpp").setLevel(ocpp_level)
        asyncio.run_coroutine_threadsafe(system.stop(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


def test_simulate_runs_a_fleet_and_writes_its_summary(central: CentralSystem, tmp_path: Path) -> None:
    summary_path = tmp_path / "summary.json"
    arguments = ["simulate", "-n", "2", "--site", "cli", "--speed", "14400", "--duration-hours", "4"]
    arguments += [
        "--url",
        central.url,
        "--start",
        "2024-03-05T07:00:00Z",
        "--seed",
        "4",
        "--location",
        "workplace",
    ]
    result = CliRunner().invoke(cli, [*arguments, "--summary-json", str(summary_path)])

    assert result.exit_code == 0, result.output
    assert "energy delivered" in result.output
    summary = json.loads(summary_path.read_text())
    assert summary["charge_points"] == 2
    assert summary["start"].startswith("2024-03-05T07:00:0")
    assert summary["call_errors"] == 0
    assert sum(summary["messages_sent"].values()) == len(central.received)
    assert {r.charge_point_id for r in central.received} == {"cli-CP001", "cli-CP002"}
    started = [s for s in summary["sessions"] if s["transaction_id"] is not None]
    assert len(started) == len(central.of("StartTransaction")) > 0  # (a visit cut off by the end has none)
    assert summary["delivered_kwh"] == pytest.approx(sum(s["delivered_kwh"] for s in summary["sessions"]))


def test_simulate_plays_the_charge_points_and_tags_it_is_given(central: CentralSystem) -> None:
    arguments = ["simulate", "--id", "CP-A", "--id", "CP-B", "--tag", "TAG-X", "--tag", "TAG-Y"]
    arguments += ["--speed", "14400", "--duration-hours", "4", "--url", central.url]
    arguments += ["--start", "2024-03-05T07:00:00Z", "--seed", "4", "--location", "workplace"]
    result = CliRunner().invoke(cli, arguments)

    assert result.exit_code == 0, result.output
    assert "2 charge points × 2 connectors" in result.output
    assert {r.charge_point_id for r in central.received} == {"CP-A", "CP-B"}
    authorised = {payload["id_tag"] for payload in central.of("Authorize")}
    assert authorised
    assert authorised <= {"TAG-X", "TAG-Y"}


def test_simulate_refuses_an_unknown_location() -> None:
    result = CliRunner().invoke(cli, ["simulate", "--location", "moon"])
    assert result.exit_code == 2
    assert "moon" in result.output


def test_the_simulate_commands_of_the_readmes_parse() -> None:
    """Every `smartcharge simulate` line of the READMEs' shell blocks is accepted by the command's options."""
    simulate = typer.main.get_command(cli).commands["simulate"]  # type: ignore[attr-defined]
    root = Path(__file__).parents[2]
    lines = [
        line
        for readme in (root / "README.md", root / "simulator" / "README.md")
        for block in re.findall(r"```sh\n(.*?)```", readme.read_text(encoding="utf-8"), re.DOTALL)
        for line in block.replace("\\\n", " ").splitlines()
        if "smartcharge simulate" in line
    ]
    assert any("--session" in line for line in lines)
    for line in lines:
        words = shlex.split(line.split("smartcharge simulate", 1)[1], comments=True)
        context = simulate.make_context("simulate", words)  # exits (click.UsageError) on an unknown option
        assert context.params["url"].startswith("ws://"), line


def test_a_session_needs_one_charge_point() -> None:
    result = CliRunner().invoke(cli, ["simulate", "--session", "TAG1"])
    assert result.exit_code == 2
    assert "exactly one --id" in result.output
