"""`smartcharge optimize`: the real console command on the example instance, and typer's runner for errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from optimizer import problem_from_dict
from optimizer.instance import SCHEDULE_FORMAT
from tests.optimizer.invariants import TOL_KW

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "instance.json"
COMMAND = Path(sys.executable).parent / "smartcharge"


def test_console_command_writes_the_schedule_to_stdout() -> None:
    done = subprocess.run(
        [str(COMMAND), "optimize", str(EXAMPLE)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    schedule = json.loads(done.stdout)  # nothing but JSON on stdout (the HiGHS banner is kept off it)
    instance = json.loads(EXAMPLE.read_text())
    assert schedule["format"] == SCHEDULE_FORMAT
    assert schedule["status"] in ("optimal", "feasible", "feasible_relaxed")
    assert [s["session"] for s in schedule["schedules"]] == [s["id"] for s in instance["sessions"]]
    n_t = len(instance["capacity_kw"])
    assert all(len(s["power_kw"]) == n_t for s in schedule["schedules"])
    assert len(schedule["shadow_price"]) == n_t
    for t in range(n_t):
        load = sum(s["power_kw"][t] for s in schedule["schedules"])
        assert load <= instance["capacity_kw"][t] + TOL_KW
    for key in ("objective", "solve_seconds", "delivered_kwh", "unmet_kwh"):
        assert key in schedule
    problem = problem_from_dict(instance)
    total = sum(schedule["delivered_kwh"].values())
    assert total == pytest.approx(
        sum(s.energy_kwh for s in problem.sessions) - sum(schedule["unmet_kwh"].values())
    )


@pytest.mark.parametrize("strategy", ["edf", "equal-share", "uncontrolled"])
def test_output_file_and_strategies(tmp_path: Path, strategy: str) -> None:
    out = tmp_path / "schedule.json"
    result = CliRunner().invoke(cli, ["optimize", str(EXAMPLE), "-o", str(out), "--strategy", strategy])
    assert result.exit_code == 0, result.output
    schedule = json.loads(out.read_text())
    assert schedule["status"] == "heuristic"
    assert schedule["strategy"] == strategy
    assert schedule["shadow_price"] == [None] * len(schedule["binding"])  # no LP duals


def test_cbc_and_periods(tmp_path: Path) -> None:
    out = tmp_path / "schedule.json"
    args = ["optimize", str(EXAMPLE), "-o", str(out), "--solver", "cbc", "--max-periods", "3"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    schedule = json.loads(out.read_text())
    assert schedule["solver"] == "cbc"
    for entry in schedule["schedules"]:
        assert 1 <= len(entry["periods"]) <= 3
        assert entry["periods"][0]["start_interval"] == 0


def _invoke_with(tmp_path: Path, instance: dict[str, object], *extra: str) -> tuple[int, str]:
    path = tmp_path / "instance.json"
    path.write_text(json.dumps(instance))
    result = CliRunner().invoke(cli, ["optimize", str(path), *extra])
    return result.exit_code, result.output


def test_invalid_input_exits_2_naming_the_field(tmp_path: Path) -> None:
    instance = json.loads(EXAMPLE.read_text())
    instance["sessions"][3]["departure"] = instance["sessions"][3]["arrival"]
    code, output = _invoke_with(tmp_path, instance)
    assert code == 2
    assert "sessions[3].departure: must be after arrival" in output


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(capacity_kw="lots"), "capacity_kw"),
        (lambda d: d["groups"][2].update(capacity_kw=[1.0, 2.0]), "groups[2].capacity_kw"),
        (lambda d: d["sessions"][0].update(group="nowhere"), "sessions[0].group"),
        (lambda d: d["sessions"][1].update(max_kw=-3), "sessions[1].max_kw"),
        (lambda d: d["sessions"][1].pop("energy_kwh"), "sessions[1].energy_kwh"),
        (lambda d: d["sessions"][2].update(arrival="yesterday"), "sessions[2].arrival"),
        (lambda d: d["overrides"][0].update(kind="boost"), "overrides[0].kind"),
        (lambda d: d["overrides"][1].update(session="tx-9"), "overrides[1].session"),
        (lambda d: d.update(format="other/1"), "format"),
        (lambda d: d.update(start="2026-11-26T16:00:00"), "start"),
    ],
)
def test_each_invalid_field_is_named(tmp_path: Path, change, field: str) -> None:  # type: ignore[no-untyped-def]
    instance = json.loads(EXAMPLE.read_text())
    change(instance)
    code, output = _invoke_with(tmp_path, instance)
    assert code == 2
    assert f"error: {field}:" in output


def test_bad_options_and_missing_file_exit_2(tmp_path: Path) -> None:
    instance = json.loads(EXAMPLE.read_text())
    assert _invoke_with(tmp_path, instance, "--solver", "gurobi")[0] == 2
    assert _invoke_with(tmp_path, instance, "--strategy", "random")[0] == 2
    result = CliRunner().invoke(cli, ["optimize", str(tmp_path / "missing.json")])
    assert result.exit_code == 2
    (tmp_path / "broken.json").write_text("{not json")
    result = CliRunner().invoke(cli, ["optimize", str(tmp_path / "broken.json")])
    assert result.exit_code == 2
    assert "instance: is not valid JSON" in result.output
