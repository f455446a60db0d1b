"""What the demo found: per interval the forecast, the plan and what was drawn; the summary it prints."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from app.demo.outcome import Outcome
from app.demo.scenario import DemoConfig
from simulator import FleetSummary


@dataclass(frozen=True)
class IntervalLoad:
    """One site interval: the forecast, what was planned, and the mean power drawn (simulator: the energy
    the EVs really drew; service: the mean of the Power.Active.Import samples it stored)."""

    start: datetime
    limit_kw: float
    capacity_kw: float  # what the service may plan: the limit within the grid connection, less the margin
    planned_kw: float | None
    drawn_kw: float
    metered_kw: float | None

    @property
    def excess_kw(self) -> float:
        return self.drawn_kw - self.limit_kw


def interval_loads(summary: FleetSummary, load: list[dict[str, Any]]) -> list[IntervalLoad]:
    """The service's `/sites/{id}/load` rows beside the fleet's energy per 15 minutes."""
    drawn = summary.site_power_kw
    out = []
    for row in load:
        start = datetime.fromisoformat(row["start"])
        out.append(
            IntervalLoad(
                start,
                row["limit_kw"],
                row["capacity_kw"],
                row["planned_kw"],
                drawn.get(start, 0.0),
                row["measured_kw"],
            )
        )
    return out


@dataclass
class DemoReport:
    config: DemoConfig
    site_id: int
    day_start: datetime
    day_end: datetime
    summary: FleetSummary
    loads: list[IntervalLoad]  # the day's intervals
    warmup: list[IntervalLoad]  # before the day: charge points booting (not counted)
    transactions_stored: int
    profiles_sent: int
    profiles_accepted: int
    wall_s: float
    database_url: str
    undelivered: int  # messages still queued in the charge points when the run ended
    outcome: Outcome | None = None  # what the drivers got against the hindsight bound and the online rule
    notes: list[str] = field(default_factory=list)

    @property
    def tolerance_kw(self) -> float:
        return self.config.tolerance()

    @property
    def violations(self) -> list[IntervalLoad]:
        return [i for i in self.loads if i.excess_kw > self.tolerance_kw]

    @property
    def peak(self) -> IntervalLoad:
        return max(self.loads, key=lambda i: i.drawn_kw)

    @property
    def closest(self) -> IntervalLoad:
        return max(self.loads, key=lambda i: i.excess_kw)


def print_report(report: DemoReport, console: Console) -> None:
    summary = report.summary
    span = f"{report.day_start:%Y-%m-%d %H:%M} – {report.day_end:%Y-%m-%d %H:%M} UTC"
    table = Table(title=f"smartcharge demo, seed {report.config.seed}: {span}")
    table.add_column("")
    table.add_column("", justify="right")
    delivered, requested = summary.delivered_kwh, summary.requested_kwh
    share = f" ({delivered / requested:.0%})" if requested else ""
    table.add_row("EV visits (sessions)", f"{len(summary.sessions)}")
    table.add_row("energy delivered / requested", f"{delivered:.0f} / {requested:.0f} kWh{share}")
    peak = report.peak
    table.add_row(
        "peak site power (15-min mean)",
        f"{peak.drawn_kw:.1f} kW at {peak.start:%H:%M}, forecast {peak.limit_kw:.1f} kW",
    )
    closest = report.closest
    table.add_row(
        "closest to the forecast",
        f"{closest.drawn_kw:.1f} kW at {closest.start:%H:%M} against {closest.limit_kw:.1f} kW "
        f"({closest.excess_kw:+.2f} kW)",
    )
    binding = sum(1 for i in report.loads if i.drawn_kw >= 0.95 * i.limit_kw)
    table.add_row("intervals at ≥ 95 % of the forecast", f"{binding} of {len(report.loads)}")
    table.add_row(
        f"violations (> forecast + {report.tolerance_kw:.2f} kW)",
        f"[{'green' if not report.violations else 'red'}]{len(report.violations)}[/]",
    )
    table.add_row(
        "transactions stored / started",
        f"{report.transactions_stored} / {summary.messages_sent['StartTransaction']}",
    )
    table.add_row(
        "profiles sent / accepted (service)", f"{report.profiles_sent} / {report.profiles_accepted}"
    )
    table.add_row(
        "profiles received / accepted (charge points)",
        f"{summary.profiles_received} / {summary.profiles_accepted}",
    )
    table.add_row("messages sent by charge points", f"{sum(summary.messages_sent.values())}")
    table.add_row(
        "CALLERRORs / timeouts / dropped",
        f"{summary.call_errors} / {summary.timeouts} / {summary.transaction_messages_dropped}",
    )
    table.add_row("messages left undelivered at the end", f"{report.undelivered}")
    if report.outcome is not None:
        add_outcome(table, report.outcome)
    table.add_row("wall time", f"{report.wall_s:.0f} s")
    console.print(curve_table(report))
    console.print(table)
    if report.warmup:
        worst = max(report.warmup, key=lambda i: i.excess_kw)
        console.print(
            f"[dim]warm-up before the day (charge points booting, not counted): "
            f"{len(report.warmup)} intervals, worst {worst.drawn_kw:.1f} kW "
            f"against {worst.limit_kw:.1f} kW[/]"
        )


def curve_table(report: DemoReport, every: int = 4) -> Table:
    """Hour by hour: forecast, planned, drawn (simulator) and metered (service) power, and the margin."""
    table = Table(title="site power per hour (the hour's highest 15-minute interval)")
    for name in ("hour", "forecast kW", "planned kW", "drawn kW", "metered kW", "drawn − forecast"):
        table.add_column(name, justify="right")
    for h in range(0, len(report.loads), every):
        hour = report.loads[h : h + every]
        top = max(hour, key=lambda i: i.excess_kw)
        planned = f"{top.planned_kw:.1f}" if top.planned_kw is not None else "-"
        metered = f"{top.metered_kw:.1f}" if top.metered_kw is not None else "-"
        table.add_row(
            f"{top.start:%H:%M}",
            f"{top.limit_kw:.1f}",
            planned,
            f"{top.drawn_kw:.1f}",
            metered,
            f"{top.excess_kw:+.1f}",
        )
    return table


def add_outcome(table: Table, outcome: Outcome) -> None:
    """What the drivers got against what the day allowed."""
    table.add_row(
        "delivered / hindsight bound",
        f"{outcome.delivered_kwh:.0f} / {outcome.bound_kwh:.0f} kWh = [bold]{outcome.of_bound:.1%}[/]",
    )
    table.add_row(
        "online rule (EDF, 6 A-aware) / bound",
        f"{outcome.online_kwh:.0f} kWh = {outcome.online_of_bound:.1%}",
    )
    table.add_row(
        "intervals EVs wanted more, site drew < 95 %",
        f"{outcome.underdrawn_intervals} of {outcome.contested_intervals}",
    )
    table.add_row("promises kept (feasible in hindsight)", f"{outcome.promises_kept} of {outcome.promises}")
    table.add_row("profile periods 0 < limit < 6 A", f"{outcome.short_periods} of {outcome.profile_periods}")
    median = outcome.first_profile_median_s
    table.add_row(
        "first profile after a start (median, simulated)", "-" if median is None else f"{median:.0f} s"
    )
