"""The fleet on a terminal: a live progress display while it runs and a summary table after."""

from datetime import timedelta

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from simulator.fleet import Fleet, FleetSummary
from simulator.session import SessionReport


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
        ("  not played (the run was too slow, or ended first)", f"{summary.missed}"),
        ("energy requested", f"{summary.requested_kwh:,.1f} kWh"),
        ("energy delivered", f"{summary.delivered_kwh:,.1f} kWh ({share:.0%})"),
        ("sessions fully served", f"{sum(s.delivered_kwh >= 0.99 * s.requested_kwh for s in completed)}"),
        ("peak power (15-min mean)", f"{summary.peak_kw:,.1f} kW"),
        ("messages sent", f"{sum(summary.messages_sent.values()):,}"),
        ("CALLERRORs received", f"{summary.call_errors}"),
        ("no response (timeouts)", f"{summary.timeouts}"),
        ("transaction messages dropped", f"{summary.transaction_messages_dropped}"),
        ("connections opened", f"{summary.connects}"),
        ("charge points refused (see below)", f"{len(summary.refusals)}"),
        ("profiles received / accepted", f"{summary.profiles_received} / {summary.profiles_accepted}"),
    ]
    if summary.max_clock_skew_s is not None:
        rows.append(("clock skew vs central system", f"{summary.max_clock_skew_s:,.0f} s"))
    for what, value in rows:
        table.add_row(what, value)
    return table


def refusal_lines(summary: FleetSummary, limit: int = 10) -> list[str]:
    """Why charge points could not connect (their last failed attempt), what to do, at most `limit`."""
    lines = [f"{cp_id} refused: {why}" for cp_id, why in sorted(summary.refusals.items())]
    more = len(lines) - limit
    return lines[:limit] + ([f"… and {more} more"] if more > 0 else [])


def session_lines(report: SessionReport) -> list[str]:
    """What a scripted session did, line by line, in words."""
    if report.refusal is not None:
        return [f"{report.charge_point_id} at {report.url}: not connected", f"  {report.refusal}"]
    lines = [f"{report.charge_point_id} connected to {report.url} and booted"]
    session = report.session
    if session is None:
        return lines
    lines.append(f"EV plugged in on connector {session.connector_id}: {session.ev_model}")
    if not session.authorized:
        lines.append(f"id tag {session.id_tag}: not authorised ({session.authorization or 'no answer'})")
        return lines
    lines.append(f"id tag {session.id_tag}: authorised ({session.authorization or 'remote start'})")
    if session.transaction_id is None:
        lines.append("transaction: no id from the central system (StartTransaction not answered)")
    else:
        lines.append(f"transaction {session.transaction_id} started")
    lines.append(
        f"charging profiles received / accepted: {report.profiles_received} / {report.profiles_accepted}"
    )
    lines.extend(f"  {profile}" for profile in report.profiles)
    stay_h = (session.departure - session.arrival).total_seconds() / 3600
    mean_kw = session.delivered_kwh / stay_h if stay_h > 0 else 0.0
    lines.append(
        f"transaction {session.transaction_id} stopped ({session.stop_reason}): "
        f"{session.delivered_kwh:.3f} kWh in {stay_h * 60:g} min, {mean_kw:.1f} kW on average"
    )
    return lines


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


async def run_with_display(
    fleet: Fleet, console: Console | None = None, give_up_when_refused: bool = False
) -> FleetSummary:
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
        summary = await fleet.run(on_progress=render, give_up_when_refused=give_up_when_refused)
    return summary
