"""`smartcharge optimize --compare / --plot`: every strategy on one instance in one table, and a picture of
the site load against the capacity."""

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from rich.console import Console
from rich.table import Table

from optimizer import STRATEGIES, ScheduleProblem, result_to_dict
from optimizer.compare import StrategyOutcome, compare
from optimizer.errors import InstanceError
from optimizer.instance import load_instance

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class OptionError(ValueError):
    """A bad option or instance: the message names it; the command exits with 2."""


def compare_and_plot(
    text: str,
    *,
    strategy: str,
    solver: str,
    time_limit_s: float | None,
    max_periods: int | None,
    every_strategy: bool,
    plot: Path | None,
    output: Path | None,
    console: Console,
) -> None:
    """Solve with `strategy` (or every strategy), print the table, write the schedule of `strategy` to
    `output` and the load against capacity to `plot`, saying where each went."""
    if strategy not in STRATEGIES:
        raise OptionError(f"--strategy: must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    if plot is not None and plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise OptionError(f"--plot: a .png, .svg or .pdf file, not {plot.name!r}")
    try:
        problem = load_instance(text)
    except InstanceError as error:
        raise OptionError(str(error)) from None
    order = [strategy, *(s for s in STRATEGIES if s != strategy)] if every_strategy else [strategy]
    try:
        done = compare(problem, strategies=order, solver=solver, time_limit_s=time_limit_s)
    except ValueError as error:
        raise OptionError(f"--solver: {error}") from None
    outcomes = [o for _, o in done]
    if every_strategy:
        console.print(table(outcomes))
    if output is not None:
        document = result_to_dict(done[0][0], problem, max_periods=max_periods)
        output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        console.print(f"schedule ({strategy}) written to {output}")
    if plot is not None:
        draw(problem, outcomes).savefig(plot, dpi=100, bbox_inches="tight")
        console.print(f"load against capacity drawn in {plot}")


def table(outcomes: list[StrategyOutcome]) -> Table:
    grid = Table(title="strategies on this instance")
    for name in ("strategy", "status", "delivered kWh", "unmet kWh", "of reachable", "peak kW"):
        grid.add_column(name, justify="left" if name in ("strategy", "status") else "right")
    for name in ("capacity at peak", "over capacity", "fairness", "promises kept", "solve s"):
        grid.add_column(name, justify="right")
    for o in outcomes:
        share = o.delivered_kwh / o.reachable_kwh if o.reachable_kwh else 1.0
        grid.add_row(
            o.strategy,
            o.status,
            f"{o.delivered_kwh:.1f}",
            f"{o.unmet_kwh:.1f}",
            f"{share:.1%}",
            f"{o.peak_kw:.1f}",
            f"{o.capacity_at_peak_kw:.1f}",
            f"{o.over_capacity_kw:.2f}",
            f"{o.fairness:.3f}",
            f"{o.promises_kept} / {o.promises}",
            f"{o.solve_seconds:.2f}",
        )
    return grid


def draw(problem: ScheduleProblem, outcomes: list[StrategyOutcome]) -> Figure:
    """Site load per strategy against the capacity, as steps over the horizon."""
    step = (problem.end - problem.start) / problem.n_intervals
    days = (problem.start - EPOCH).total_seconds() / 86400  # matplotlib's dates: days since 1970 (UTC)
    starts = days + np.arange(problem.n_intervals) * step.total_seconds() / 86400
    figure = Figure(figsize=(10, 4))
    ax = figure.subplots()
    ax.fill_between(starts, problem.capacity_kw, step="post", color="grey", alpha=0.2, label="capacity")
    for o in outcomes:
        ax.step(starts, o.load_kw, where="post", label=f"{o.strategy} ({o.delivered_kwh:.0f} kWh)")
    ax.set_ylabel("site power, kW")
    ax.set_title(f"Site load against capacity, from {problem.start:%Y-%m-%d %H:%M %Z}")
    ax.legend(loc="upper right", fontsize="small")
    ax.xaxis_date(tz="UTC")
    figure.autofmt_xdate()
    return figure
