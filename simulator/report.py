"""The fleet on a terminal: a live progress display while it runs and a summary table after."""

from datetime import timedelta

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from simulator.fleet import Fleet, FleetSummary


def summary_table(summary: FleetSummary) -> Table:
    table = Table(
        title=f"Simulated {summary.start:%Y-%m-%d %H:%M} → {summary.end:%Y-%m-%d %H:%M} UTC",
        show_header=False,
    )
    table.add_column("what")
    table.add_column("value", justify="right")
    completed = [s for s in summary.sessions if s.stop_reason is not None]
    share = summary.delivered_kwh / summary.requested_kwh if summary.requested_kwh else 0.0
    rows = [
        ("charge points", f"{summary.charge_points}"),
        ("sessions (EV visits)", f"{len(summary.sessions)}"),
        ("  with a transaction", f"{sum(s.transaction_id is not None for s in summary.sessions)}"),
        ("  not authorised", f"{sum(not s.authorized for s in summary.sessions)}"),
        ("  turned away (connector busy)", f"{summary.turned_away}"),
        ("  not played (the run was too slow for them)", f"{summary.missed}"),
        ("energy requested", f"{summary.requested_kwh:,.1f} kWh"),
        ("energy delivered", f"{summary.delivered_kwh:,.1f} kWh ({share:.0%})"),
        ("sessions fully served", f"{sum(s.delivered_kwh >= 0.99 * s.requested_kwh for s in completed)}"),
        ("peak power (15-min mean)", f"{summary.peak_kw:,.1f} kW"),
        ("messages sent", f"{sum(summary.messages_sent.values()):,}"),
        ("CALLERRORs received", f"{summary.call_errors}"),
        ("no response (timeouts)", f"{summary.timeouts}"),
        ("transaction messages dropped", f"{summary.transaction_messages_dropped}"),
        ("connections opened", f"{summary.connects}"),
        ("profiles received / accepted", f"{summary.profiles_received} / {summary.profiles_accepted}"),
    ]
    if summary.max_clock_skew_s is not None:
        rows.append(("clock skew vs central system", f"{summary.max_clock_skew_s:,.0f} s"))
    for what, value in rows:
        table.add_row(what, value)
    return table


def sessions_table(summary: FleetSummary, limit: int = 20) -> Table:
    table = Table(title=f"Sessions (first {limit})")
    for column in ("charge point", "conn", "EV", "arrival", "stay", "requested kWh", "delivered kWh", "stop"):
        table.add_column(column)
    for s in sorted(summary.sessions, key=lambda s: s.arrival)[:limit]:
        stay = s.departure - s.arrival
        table.add_row(
            s.charge_point_id,
            str(s.connector_id),
            s.ev_model,
            f"{s.arrival:%a %H:%M}",
            str(stay - timedelta(microseconds=stay.microseconds)),
            f"{s.requested_kwh:.1f}",
            f"{s.delivered_kwh:.1f}",
            s.stop_reason or "-",
        )
    return table


async def run_with_display(fleet: Fleet, console: Console | None = None) -> FleetSummary:
    """Run the fleet with a live rich display: simulated time, online, charging, power, messages, errors."""
    console = console or Console()
    bar = Progress(
        TextColumn("[bold]simulated day"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[now]}"),
        TimeElapsedColumn(),
        console=console,
    )
    task = bar.add_task("sim", total=1.0, now="")
    stats = Table.grid(padding=(0, 2))

    def render(snapshot: dict[str, float]) -> None:
        bar.update(task, completed=snapshot["fraction"], now=f"{fleet.clock.now():%Y-%m-%d %H:%M} UTC")
        stats.columns.clear()
        stats.rows.clear()
        names = (
            "online",
            "charging",
            "power_kw",
            "sessions",
            "messages",
            "call_errors",
            "profiles",
            "queued",
        )
        for _ in names:
            stats.add_column(justify="right")
        stats.add_row(*(f"[dim]{n}[/]" for n in names))
        stats.add_row(*(f"{snapshot[n]:.1f}" if n == "power_kw" else f"{snapshot[n]:.0f}" for n in names))

    with Live(Group(bar, stats), console=console, refresh_per_second=4, transient=False):
        summary = await fleet.run(on_progress=render)
    return summary
