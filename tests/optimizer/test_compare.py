"""Strategies side by side: the figures recomputed from the schedules, and `smartcharge optimize
--compare / --plot` through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from optimizer import STRATEGIES, ScheduleProblem
from optimizer.compare import compare, jain, reachable_kwh
from tests.optimizer.helpers import problem, session

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "instance.json"


def short_hour() -> ScheduleProblem:
    """10 kW for an hour; A (10 kWh, all hour) and B (promised 5 kWh, leaves after 30 min): 15 kWh wanted."""
    return problem(
        [10.0] * 4,
        [session("A", 0, 4, 10.0, 10.0), session("B", 0, 2, 8.0, 10.0, promised=True)],
    )


def test_each_strategy_judged_from_its_schedules() -> None:
    instance = short_hour()
    assert reachable_kwh(instance) == {"A": 10.0, "B": 5.0}
    done = {o.strategy: o for _, o in compare(instance)}
    assert list(done) == list(STRATEGIES)
    lp = done["lp"]
    assert lp.delivered_kwh == pytest.approx(10.0)
    assert lp.reachable_kwh == pytest.approx(15.0)
    assert lp.promises_kept == lp.promises == 1  # B gets its 5 kWh before it leaves
    assert lp.fairness == pytest.approx(0.9, abs=1e-6)  # shares 0.5 and 1: 1.5² / (2 × 1.25)
    assert lp.peak_kw == pytest.approx(10.0)
    assert lp.capacity_at_peak_kw == 10.0
    assert lp.over_capacity_kw == pytest.approx(0.0, abs=1e-6)
    assert len(lp.load_kw) == 4
    for outcome in done.values():
        assert outcome.over_capacity_kw <= 1e-6
        assert outcome.delivered_kwh <= outcome.reachable_kwh + 1e-6


def test_jain() -> None:
    assert jain([1.0, 0.0]) == pytest.approx(0.5)
    assert jain([0.3, 0.3, 0.3]) == pytest.approx(1.0)
    assert jain([]) == 1.0


def test_compare_prints_one_table_and_writes_what_it_is_asked(tmp_path: Path) -> None:
    out, picture = tmp_path / "schedule.json", tmp_path / "load.png"
    result = CliRunner().invoke(
        cli,
        ["optimize", str(EXAMPLE), "--compare", "--strategy", "edf", "-o", str(out), "--plot", str(picture)],
    )
    assert result.exit_code == 0, result.output
    for strategy in STRATEGIES:
        assert strategy in result.output
    for column in ("delivered kWh", "unmet kWh", "peak kW", "fairness", "solve s"):
        assert column in result.output
    assert f"written to {out}" in result.output.replace("\n", "")
    assert json.loads(out.read_text())["strategy"] == "edf"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "{" not in result.output  # the table, not the schedule JSON


def test_output_file_is_named(tmp_path: Path) -> None:
    out = tmp_path / "schedule.json"
    result = CliRunner().invoke(cli, ["optimize", str(EXAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"schedule (lp) written to {out}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--compare", "--strategy", "best"], "--strategy"),
        (["--plot", "load.txt"], "--plot"),
        (["--compare", "--solver", "glpk"], "--solver"),
    ],
)
def test_bad_options_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["optimize", str(EXAMPLE), *args])
    assert result.exit_code == 2
    assert message in result.output
